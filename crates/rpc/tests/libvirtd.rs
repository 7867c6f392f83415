//! Talks to a real libvirtd over TCP with this crate's codec. Runs only when
//! `RVIRT_TEST_LIBVIRTD` names a libvirtd listening with `auth_tcp = "none"`
//! (e.g. `127.0.0.1:16599`); otherwise it returns at once.

use rvirt_rpc::keepalive;
use rvirt_rpc::remote::*;
// Many procedures take just the domain, the domain and flags, or return
// just a domain: one generated struct of each shape stands for all here
// (the bytes are what these tests check).
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::remote::{
    DomainGetInfoArgs as DomainArgs, DomainGetXmlDescArgs as DomainFlagsArgs,
    DomainLookupByNameRet as DomainRet,
};
use rvirt_rpc::{FrameReader, MessageStatus, MessageType, Packet, XdrDecode, XdrEncode};
use rvirt_util::{ErrorCode, ErrorDomain};
use std::io::{Read, Write};
use std::net::TcpStream;

struct Client {
    sock: TcpStream,
    reader: FrameReader,
    serial: u32,
    events: Vec<Packet>,
}

impl Client {
    fn recv(&mut self) -> Packet {
        loop {
            if let Some(p) = self.reader.next_packet().unwrap() {
                return p;
            }
            let mut buf = [0u8; 65536];
            let n = self.sock.read(&mut buf).unwrap();
            assert!(n > 0, "libvirtd closed the connection");
            self.reader.push(&buf[..n]);
        }
    }

    fn call_raw<A: XdrEncode>(&mut self, proc_: Procedure, args: &A) -> Packet {
        self.serial += 1;
        let p = remote::call(proc_, self.serial, args).unwrap();
        self.sock.write_all(&p.to_bytes().unwrap()).unwrap();
        loop {
            let r = self.recv();
            if r.header.type_ == MessageType::Message {
                self.events.push(r);
                continue;
            }
            assert_eq!(r.header.type_, MessageType::Reply);
            assert_eq!(r.header.serial, self.serial);
            assert_eq!(r.header.proc_, proc_ as i32);
            return r;
        }
    }

    fn call<A: XdrEncode, R: XdrDecode>(&mut self, proc_: Procedure, args: &A) -> R {
        let r = self.call_raw(proc_, args);
        if let Some(e) = r.error() {
            panic!("{:?} failed: {:?}", proc_, e.unwrap());
        }
        r.body().unwrap()
    }

    /// Like `call`, but `None` when the driver answers VIR_ERR_NO_SUPPORT.
    fn call_opt<A: XdrEncode, R: XdrDecode>(&mut self, proc_: Procedure, args: &A) -> Option<R> {
        let r = self.call_raw(proc_, args);
        match r.error() {
            None => Some(r.body().unwrap()),
            Some(e) => {
                let e = e.unwrap();
                assert_eq!(e.code, ErrorCode::NO_SUPPORT, "{e:?}");
                None
            }
        }
    }
}

#[test]
fn conversation_with_libvirtd() {
    let Ok(addr) = std::env::var("RVIRT_TEST_LIBVIRTD") else {
        eprintln!("RVIRT_TEST_LIBVIRTD not set: skipping");
        return;
    };
    let sock = TcpStream::connect(addr).unwrap();
    let mut c = Client {
        sock,
        reader: FrameReader::new(),
        serial: 0,
        events: Vec::new(),
    };

    let auth: AuthListRet = c.call(Procedure::AuthList, &());
    assert_eq!(auth.types, vec![remote::AUTH_NONE]);
    // VIR_DRV_FEATURE_PROGRAM_KEEPALIVE (10), asked before opening as virsh does.
    let ka: ConnectSupportsFeatureRet = c.call(
        Procedure::ConnectSupportsFeature,
        &ConnectSupportsFeatureArgs { feature: 10 },
    );
    assert_eq!(ka.supported, 1);
    let () = c.call(
        Procedure::ConnectOpen,
        &ConnectOpenArgs {
            name: Some("test:///default".into()),
            flags: 0,
        },
    );

    // Keepalive: a PING is answered with a PONG.
    c.sock
        .write_all(&keepalive::ping().to_bytes().unwrap())
        .unwrap();
    let pong = c.recv();
    assert_eq!(keepalive::classify(&pong), Some(keepalive::Procedure::Pong));
    assert_eq!(
        pong.to_bytes().unwrap(),
        keepalive::pong().to_bytes().unwrap()
    );

    let t: ConnectGetTypeRet = c.call(Procedure::ConnectGetType, &());
    assert_eq!(t.type_, "TEST");
    let uri: ConnectGetUriRet = c.call(Procedure::ConnectGetUri, &());
    assert_eq!(uri.uri, "test:///default");
    let _: ConnectGetHostnameRet = c.call(Procedure::ConnectGetHostname, &());
    let v: ConnectGetLibVersionRet = c.call(Procedure::ConnectGetLibVersion, &());
    assert_eq!(v.lib_ver, 9_000_000);
    let v: ConnectGetVersionRet = c.call(Procedure::ConnectGetVersion, &());
    assert!(v.hv_ver > 0);
    let s: ConnectIsSecureRet = c.call(Procedure::ConnectIsSecure, &());
    assert!(s.secure == 0 || s.secure == 1);
    let m: ConnectGetMaxVcpusRet = c.call(
        Procedure::ConnectGetMaxVcpus,
        &ConnectGetMaxVcpusArgs { type_: None },
    );
    assert!(m.max_vcpus > 0);
    let info: NodeGetInfoRet = c.call(Procedure::NodeGetInfo, &());
    assert_eq!(info.model_str(), "i686");
    assert_eq!(info.cpus, 16);
    assert_eq!(info.memory, 3 * 1024 * 1024);
    let caps: ConnectGetCapabilitiesRet = c.call(Procedure::ConnectGetCapabilities, &());
    assert!(caps.capabilities.starts_with("<capabilities>"));
    let sec: NodeGetSecurityModelRet = c.call(Procedure::NodeGetSecurityModel, &());
    assert_eq!(remote::chars_to_string(&sec.model), "testSecurity");
    assert_eq!(sec.model.last(), Some(&0));
    assert_eq!(sec.doi, vec![0]);

    let n: ConnectNumOfDomainsRet = c.call(Procedure::ConnectNumOfDomains, &());
    assert_eq!(n.num, 1);
    let ids: ConnectListDomainsRet = c.call(
        Procedure::ConnectListDomains,
        &ConnectListDomainsArgs { maxids: 10 },
    );
    assert_eq!(ids.ids, vec![1]);
    let n: ConnectNumOfDefinedDomainsRet = c.call(Procedure::ConnectNumOfDefinedDomains, &());
    assert_eq!(n.num, 0);
    let names: ConnectListDefinedDomainsRet = c.call(
        Procedure::ConnectListDefinedDomains,
        &ConnectListDefinedDomainsArgs { maxnames: 10 },
    );
    assert!(names.names.is_empty());
    let all: ConnectListAllDomainsRet = c.call(
        Procedure::ConnectListAllDomains,
        &ConnectListAllDomainsArgs {
            need_results: 1,
            flags: 0,
        },
    );
    assert_eq!(all.ret, 1);
    assert_eq!(all.domains[0].name, "test");
    assert_eq!(
        all.domains[0].uuid().to_string(),
        "6695eb01-f6a4-8304-79aa-97f2502e193f"
    );

    let dom: DomainRet = c.call(
        Procedure::DomainLookupByName,
        &DomainLookupByNameArgs {
            name: "test".into(),
        },
    );
    let dom = dom.dom;
    assert_eq!(dom.id, 1);
    let by_id: DomainRet = c.call(Procedure::DomainLookupById, &DomainLookupByIdArgs { id: 1 });
    assert_eq!(by_id.dom, dom);
    let by_uuid: DomainRet = c.call(
        Procedure::DomainLookupByUuid,
        &DomainLookupByUuidArgs { uuid: dom.uuid },
    );
    assert_eq!(by_uuid.dom, dom);

    // An error reply decodes into libvirt's error.
    let r = c.call_raw(
        Procedure::DomainLookupByName,
        &DomainLookupByNameArgs {
            name: "nope".into(),
        },
    );
    assert_eq!(r.header.status, MessageStatus::Error);
    let e = r.error().unwrap().unwrap();
    assert_eq!(e.code, ErrorCode::NO_DOMAIN);
    assert_eq!(e.domain, ErrorDomain::TEST);
    assert!(e.message.starts_with("Domain not found"), "{e:?}");
    eprintln!("error reply: {e:?}");

    let d = DomainArgs { dom: dom.clone() };
    let df = DomainFlagsArgs {
        dom: dom.clone(),
        flags: 0,
    };
    let gi: DomainGetInfoRet = c.call(Procedure::DomainGetInfo, &d);
    assert_eq!(gi.state, 1);
    assert_eq!(gi.nr_virt_cpu, 2);
    let st: DomainGetStateRet = c.call(Procedure::DomainGetState, &df);
    assert_eq!(st.state, 1);
    let xml: DomainGetXmlDescRet = c.call(Procedure::DomainGetXmlDesc, &df);
    assert!(xml.xml.contains("<name>test</name>"));
    let os: DomainGetOsTypeRet = c.call(Procedure::DomainGetOsType, &d);
    assert_eq!(os.type_, "linux");
    let mm: DomainGetMaxMemoryRet = c.call(Procedure::DomainGetMaxMemory, &d);
    assert_eq!(mm.memory, 8_388_608);
    let a: DomainIsActiveRet = c.call(Procedure::DomainIsActive, &d);
    assert_eq!(a.active, 1);
    let p: DomainIsPersistentRet = c.call(Procedure::DomainIsPersistent, &d);
    assert_eq!(p.persistent, 1);
    let u: DomainIsUpdatedRet = c.call(Procedure::DomainIsUpdated, &d);
    assert_eq!(u.updated, 0);
    let au: DomainGetAutostartRet = c.call(Procedure::DomainGetAutostart, &d);
    assert_eq!(au.autostart, 0);
    let ms: DomainHasManagedSaveImageRet = c.call(Procedure::DomainHasManagedSaveImage, &df);
    assert_eq!(ms.result, 0);
    let vc: DomainGetVcpusFlagsRet = c.call(Procedure::DomainGetVcpusFlags, &df);
    assert_eq!(vc.num, 2);
    let r = c.call_raw(Procedure::DomainGetSecurityLabel, &d);
    if r.header.status == MessageStatus::Ok {
        let l: DomainGetSecurityLabelRet = r.body().unwrap();
        eprintln!("label {:?} enforcing {}", l.label, l.enforcing);
    }
    let ji: Option<DomainGetJobInfoRet> = c.call_opt(Procedure::DomainGetJobInfo, &d);
    eprintln!("job info {ji:?}");
    let js: Option<DomainGetJobStatsRet> = c.call_opt(Procedure::DomainGetJobStats, &df);
    eprintln!("job stats {js:?}");

    // Events: register for lifecycle, suspend and resume, expect two events.
    let reg: ConnectDomainEventCallbackRegisterAnyRet = c.call(
        Procedure::ConnectDomainEventCallbackRegisterAny,
        &ConnectDomainEventCallbackRegisterAnyArgs {
            event_id: EVENT_ID_LIFECYCLE,
            dom: None,
        },
    );
    let () = c.call(Procedure::DomainSuspend, &d);
    let () = c.call(Procedure::DomainResume, &d);
    while c.events.len() < 2 {
        let p = c.recv();
        c.events.push(p);
    }
    let evs: Vec<DomainEventCallbackLifecycleMsg> = c
        .events
        .iter()
        .map(|p| {
            assert_eq!(
                p.header.proc_,
                Procedure::DomainEventCallbackLifecycle as i32
            );
            // libvirtd 9.0 sends its event messages with serial 1.
            assert_eq!(p.header.serial, 1);
            p.body().unwrap()
        })
        .collect();
    assert_eq!(evs[0].callback_id, reg.callback_id);
    assert_eq!(evs[0].msg.dom, dom);
    assert_eq!(evs[0].msg.event, 3); // VIR_DOMAIN_EVENT_SUSPENDED
    assert_eq!(evs[1].msg.event, 4); // VIR_DOMAIN_EVENT_RESUMED
    let () = c.call(
        Procedure::ConnectDomainEventCallbackDeregisterAny,
        &ConnectDomainEventCallbackDeregisterAnyArgs {
            callback_id: reg.callback_id,
        },
    );

    // Define, inspect, start, destroy and undefine a domain.
    let xml = "<domain type='test'><name>rpc-probe</name><memory>1024</memory>\
               <os><type>hvm</type></os></domain>";
    let def: DomainRet = c.call(
        Procedure::DomainDefineXmlFlags,
        &DomainDefineXmlFlagsArgs {
            xml: xml.into(),
            flags: 0,
        },
    );
    assert_eq!(def.dom.id, -1);
    let nd = DomainArgs {
        dom: def.dom.clone(),
    };
    let () = c.call(
        Procedure::DomainSetAutostart,
        &DomainSetAutostartArgs {
            dom: def.dom.clone(),
            autostart: 1,
        },
    );
    let started: DomainRet = c.call(
        Procedure::DomainCreateWithFlags,
        &DomainFlagsArgs {
            dom: def.dom.clone(),
            flags: 0,
        },
    );
    assert!(started.dom.id > 0);
    let () = c.call(Procedure::DomainDestroy, &nd);
    let () = c.call(
        Procedure::DomainUndefineFlags,
        &DomainFlagsArgs {
            dom: def.dom.clone(),
            flags: 0,
        },
    );

    // Migration speed round trip (test driver may not support it).
    let sp: Option<DomainMigrateGetMaxSpeedRet> = c.call_opt(
        Procedure::DomainMigrateGetMaxSpeed,
        &DomainFlagsArgs {
            dom: dom.clone(),
            flags: 0,
        },
    );
    eprintln!("max speed {sp:?}");

    let () = c.call(Procedure::ConnectClose, &());
}
