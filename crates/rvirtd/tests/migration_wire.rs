//! Migration over the wire, both ends: rvirtd's dispatch and stream
//! plumbing, the remote driver's phases and stream backend, and stock virsh
//! and python3-libvirt against the daemon.
//!
//! The daemon runs in this process (rvirtd's library), serving `fake:///`,
//! a driver defined here whose migration entry points record what reaches
//! them: the bytes of a tunnelled stream, a perform that blocks until its
//! job is aborted, job figures with a string. So every assertion is about
//! what crossed the wire, whatever the test driver implements today.

use rvirt::job::{field, job_type, stats_flags};
use rvirt::migration::flags as mflags;
use rvirt::{Connect, Domain, JobInfo, Stream};
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::{MessageStatus, MessageType, StreamId, XdrEncode};
use rvirt_testkit::daemon::{rvirtd_refusal, Daemon};
use rvirt_testkit::ports::free_port;
use rvirt_testkit::rpc::rpc_client::RpcClient;
use rvirt_testkit::tools::{python3, virsh, Output};
use rvirt_util::{ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams};
use std::net::TcpStream;
use std::time::{Duration, Instant};

mod wire_fake;
use wire_fake::*;

// ---------------------------------------------------------------- streams

#[test]
fn tunnel_stream_round_trip() {
    let port = daemon();
    let conn = Connect::open(&uri(port, "round")).unwrap();
    let st = Stream::new(&conn, 0).unwrap();
    let cookie = conn
        .migrate_prepare_tunnel3_params(
            &st,
            &dname("ok"),
            b"cookie",
            mflags::PEER2PEER | mflags::TUNNELLED,
        )
        .unwrap();
    assert_eq!(cookie, b"eikooc", "cookies are opaque bytes, both ways");
    assert!(st.is_attached());
    // More than one STREAM packet's worth per send, in uneven pieces.
    let data = pattern(3 * 1024 * 1024 + 7);
    for piece in data.chunks(1_000_003) {
        st.send(piece).unwrap();
    }
    st.finish().unwrap();
    let h = host("round");
    assert!(h.wait_for(|h| h.finished));
    h.with(|h| {
        assert_eq!(h.received.len(), data.len());
        assert!(h.received == data, "bytes differ");
        assert!(!h.aborted);
    });
    // The stream is over: more data is refused locally.
    let e = st.send(b"x").unwrap_err();
    assert_eq!(
        e.message,
        "Requested operation is not valid: stream is closed"
    );
}

/// A new connection to fake host `name` and a tunnel stream on it whose
/// prepare was accepted.
fn open_tunnel(port: u16, name: &str) -> (Connect, Stream) {
    let conn = Connect::open(&uri(port, name)).unwrap();
    let st = Stream::new(&conn, 0).unwrap();
    conn.migrate_prepare_tunnel3_params(&st, &dname("ok"), b"", 0)
        .unwrap();
    (conn, st)
}

#[test]
fn tunnel_stream_failures() {
    let port = daemon();

    // The driver's error reaches the sender: a later send or the finish
    // fails with it, and the daemon aborted its side.
    let h = host("fail");
    h.with(|h| h.fail_at = Some(1 << 20));
    let (conn, st) = open_tunnel(port, "fail");
    let data = pattern(4 << 20);
    let mut err = None;
    for piece in data.chunks(256 * 1024) {
        if let Err(e) = st.send(piece) {
            err = Some(e);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = err.or_else(|| st.finish().err()).expect("the sink's error");
    assert_eq!(err.message, "operation failed: sink full");
    assert_eq!(err.domain, ErrorDomain::STREAMS);
    assert!(h.wait_for(|h| h.aborted));
    st.abort().unwrap(); // nothing left to abort on the daemon

    // A refused prepare leaves the stream unbound.
    let st = Stream::new(&conn, 0).unwrap();
    let e = conn
        .migrate_prepare_tunnel3_params(&st, &dname("refuse"), b"", 0)
        .unwrap_err();
    assert_eq!(e.message, "Requested operation is not valid: refused");
    assert!(!st.is_attached());

    // The client aborts: the driver's stream is aborted, not finished.
    let h = host("abort");
    let (_conn2, st) = open_tunnel(port, "abort");
    st.send(&pattern(100_000)).unwrap();
    st.abort().unwrap();
    assert!(h.wait_for(|h| h.aborted));
    assert!(!h.with(|h| h.finished));

    // The client goes away mid-stream: aborted too.
    let h = host("gone");
    let (conn3, st) = open_tunnel(port, "gone");
    st.send(&pattern(300_000)).unwrap();
    assert!(h.wait_for(|h| h.received.len() == 300_000));
    drop(st);
    drop(conn3);
    assert!(
        h.wait_for(|h| h.aborted),
        "disconnect did not abort the stream"
    );
}

/// Data a client sends right behind the call, before the reply, is kept;
/// stream packets for a serial with no stream are ignored.
#[test]
fn stream_data_racing_the_reply_is_kept() {
    let mut c = RpcClient::tcp(daemon());
    c.open("fake:///race");

    // A stray stream packet first: no answer, no harm.
    let stray = StreamId {
        prog: remote::PROGRAM,
        vers: 1,
        proc_: 304,
        serial: 99,
    };
    c.send_packet(&stray.data(b"lost").unwrap());

    let args = DomainMigratePrepareTunnel3ParamsArgs {
        params: dname("late"),
        cookie_in: vec![1, 2, 3],
        flags: 0,
    };
    let call = remote::call(Procedure::DomainMigratePrepareTunnel3Params, 2, &args).unwrap();
    let id = StreamId::of(&call.header);
    c.send_packet(&call);
    let data = pattern(600_000);
    for piece in rvirt_rpc::stream::chunks(&data) {
        c.send_packet(&id.data(piece).unwrap());
    }
    c.send_packet(&id.finish());

    let reply = c.next_packet();
    assert_eq!(
        (reply.header.type_, reply.header.serial),
        (MessageType::Reply, 2)
    );
    assert_eq!(
        reply.header.status,
        MessageStatus::Ok,
        "{:?}",
        reply.error()
    );
    let ret: DomainMigratePrepareTunnel3ParamsRet = reply.body().unwrap();
    assert_eq!(ret.cookie_out, [3, 2, 1]);
    let confirm = c.next_packet();
    assert_eq!(confirm.header.type_, MessageType::Stream);
    assert_eq!(confirm.header.status, MessageStatus::Ok);
    assert!(id.matches(&confirm.header));
    host("race").with(|h| {
        assert!(h.finished);
        assert!(h.received == data, "{} bytes arrived", h.received.len());
    });
}

// ---------------------------------------------------------------- concurrency

/// A peer-to-peer perform of `dom` on a thread of its own: the fake's
/// perform blocks until its job is aborted.
fn spawn_slow_perform(dom: &Domain) -> std::thread::JoinHandle<Result<Vec<u8>>> {
    let dom = dom.clone();
    std::thread::spawn(move || {
        dom.migrate_perform3_params(
            Some("fake+tcp://elsewhere/x"),
            &TypedParams::new(),
            b"",
            mflags::PEER2PEER,
        )
    })
}

/// A long perform on one connection does not hold up the job queries and
/// the abort another thread sends on the same connection.
#[test]
fn slow_call_does_not_block_the_connection() {
    let port = daemon();
    let conn = Connect::open(&uri(port, "slow")).unwrap();
    let dom = conn.lookup_by_name("test").unwrap();
    let perform = spawn_slow_perform(&dom);
    let h = host("slow");
    assert!(h.wait_for(|h| h.job_running));
    for _ in 0..5 {
        let t = Instant::now();
        let info = dom.get_job_info().unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "job info waited for the perform"
        );
        assert_eq!(info.type_, job_type::UNBOUNDED);
        assert_eq!(info.time_elapsed, 1500);
        let (t, s) = dom.get_job_stats(0).unwrap();
        assert_eq!((t, s), (job_type::UNBOUNDED, stats()));
    }
    dom.abort_job(0).unwrap();
    let e = perform.join().unwrap().unwrap_err();
    assert_eq!(
        e.message,
        "operation aborted: migration out: canceled by client"
    );
    assert_eq!(e.code, ErrorCode::OPERATION_ABORTED);
    // DOMAIN_ABORT_JOB_FLAGS carries the flags.
    let e = dom
        .abort_job(rvirt::job::abort_flags::POSTCOPY)
        .unwrap_err();
    assert_eq!(
        e.message,
        "Requested operation is not valid: no job is active on the domain"
    );
    assert_eq!(
        h.with(|h| h.abort_flags),
        Some(rvirt::job::abort_flags::POSTCOPY)
    );
}

// ---------------------------------------------------------------- job calls

#[test]
fn job_calls_through_the_remote_driver() {
    let port = daemon();
    let conn = Connect::open(&uri(port, "jobs")).unwrap();
    let dom = conn.lookup_by_name("test").unwrap();
    assert_eq!(dom.get_job_info().unwrap(), JobInfo::default());
    // A string in the stats survives the trip.
    let (t, s) = dom.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    assert_eq!(
        s.get(field::ERRMSG),
        Some(&TypedParamValue::String("disk full".into()))
    );
    dom.migrate_set_max_speed(100, 0).unwrap();
    assert_eq!(dom.migrate_get_max_speed(0).unwrap(), 100);
    dom.migrate_set_max_downtime(123, 0).unwrap();
    assert_eq!(dom.migrate_get_max_downtime(0).unwrap(), 123);
    // What the fake leaves out comes back as libvirt's "not supported".
    let e = dom.migrate_start_post_copy(0).unwrap_err();
    assert_eq!(e.code, ErrorCode::NO_SUPPORT);
    assert_eq!(
        e.message,
        "this function is not supported by the connection driver: virDomainMigrateStartPostCopy"
    );
    let e = conn
        .migrate_prepare3_params(&TypedParams::new(), b"", 0)
        .unwrap_err();
    assert_eq!(
        e.message,
        "this function is not supported by the connection driver: virDomainMigratePrepare3Params"
    );
}

/// The value virsh printed on the line labelled `label`.
fn line<'a>(out: &'a str, label: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
}

/// The "test" domain of the driver behind `uri`, in this process.
fn test_domain(uri: &str) -> Domain {
    Connect::open(uri).unwrap().lookup_by_name("test").unwrap()
}

/// The daemon's URI for fake host `name`, and that host's "test" domain
/// in this process, to compare what crossed the wire with.
fn daemon_and_api(name: &str) -> (String, Domain) {
    let u = uri(daemon(), name);
    (u, test_domain(&format!("fake:///{name}")))
}

/// `virsh CMD` on `uri`, which must succeed; its stdout.
fn virsh_ok(uri: &str, cmd: &str) -> String {
    let out = virsh(uri, cmd);
    assert!(out.ok, "{cmd}: {}", out.stderr);
    out.stdout
}

#[test]
fn stock_virsh_job_commands() {
    let (u, api) = daemon_and_api("virsh");

    // Each setting: virsh reads what the API has, sets a new value the
    // API then has, and reads that back.
    type Getter = fn(&Domain) -> Result<u64>;
    let settings: [(&str, u64, Getter); 2] = [
        ("speed", 100, |d| d.migrate_get_max_speed(0)),
        ("maxdowntime", 250, |d| d.migrate_get_max_downtime(0)),
    ];
    for (setting, value, api_value) in settings {
        let get = format!("migrate-get{setting} test");
        let out = virsh_ok(&u, &get);
        assert_eq!(out.trim(), api_value(&api).unwrap().to_string());
        virsh_ok(&u, &format!("migrate-set{setting} test {value}"));
        assert_eq!(api_value(&api).unwrap(), value);
        assert_eq!(virsh(&u, &get).stdout.trim(), value.to_string());
    }

    // No job: virsh says so.
    let out = virsh_ok(&u, "domjobinfo test");
    assert_eq!(line(&out, "Job type:"), Some("None"));
    let Output {
        stderr: err, ok, ..
    } = virsh(&u, "domjobabort test");
    assert!(!ok);
    assert!(
        err.contains("error: Requested operation is not valid: no job is active on the domain"),
        "{err}"
    );

    // A running job, as virsh polls it, and its abort.
    let perform = spawn_slow_perform(&api);
    assert!(host("virsh").wait_for(|h| h.job_running));
    let out = virsh_ok(&u, "domjobinfo test");
    let info = api.get_job_info().unwrap();
    assert_eq!(line(&out, "Job type:"), Some("Unbounded"));
    assert_eq!(line(&out, "Operation:"), Some("Outgoing migration"));
    assert_eq!(
        line(&out, "Time elapsed:"),
        Some(format!("{}         ms", info.time_elapsed).as_str())
    );
    assert_eq!(line(&out, "Data processed:"), Some("256.000 MiB"));
    assert_eq!(line(&out, "Data remaining:"), Some("768.000 MiB"));
    assert_eq!(line(&out, "Data total:"), Some("1.000 GiB"));
    assert_eq!(line(&out, "Iteration:"), Some("2"));
    virsh_ok(&u, "domjobabort test");
    assert!(perform.join().unwrap().is_err());
    assert_eq!(host("virsh").with(|h| h.abort_flags), Some(0));

    // Completed-job statistics carry a string.
    let out = virsh_ok(&u, "domjobinfo test --completed");
    assert_eq!(line(&out, "Job type:"), Some("Completed"), "{out}");
    assert_eq!(line(&out, "Error message:"), Some("disk full"), "{out}");
    assert_eq!(
        line(&out, "Time elapsed:"),
        Some(format!("{:<12} ms", 42).as_str())
    );
}

#[test]
fn python_job_calls() {
    let (u, api) = daemon_and_api("python");
    api.migrate_set_max_speed(77, 0).unwrap();
    let script = format!(
        "import libvirt\nc = libvirt.open('{u}')\nd = c.lookupByName('test')\n\
         print(d.jobInfo())\nprint(sorted(d.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED).items()))\n\
         print(d.migrateGetMaxSpeed())\nprint(d.migrateGetMaxDowntime())\n"
    );
    let out = python3(["-c", &script]);
    assert!(out.ok, "{}", out.stderr);
    let text = out.stdout;
    let lines: Vec<&str> = text.lines().collect();
    let i = api.get_job_info().unwrap();
    let want_info = format!(
        "[{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}]",
        i.type_,
        i.time_elapsed,
        i.time_remaining,
        i.data_total,
        i.data_processed,
        i.data_remaining,
        i.mem_total,
        i.mem_processed,
        i.mem_remaining,
        i.file_total,
        i.file_processed,
        i.file_remaining
    );
    assert_eq!(lines[0], want_info);
    let (t, _) = api.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_eq!(
        lines[1],
        format!("[('errmsg', 'disk full'), ('operation', 5), ('time_elapsed', 42), ('type', {t})]")
    );
    assert_eq!(lines[2], api.migrate_get_max_speed(0).unwrap().to_string());
    assert_eq!(
        lines[3],
        api.migrate_get_max_downtime(0).unwrap().to_string()
    );
}

/// Stock virsh's `cmd` on `uri` ends as the API call did: on success
/// `same_output` compares its output with the API's value; on failure
/// virsh reports the API's error message.
fn virsh_says<T>(uri: &str, cmd: &str, api: Result<T>, same_output: impl FnOnce(&str, T)) {
    let Output {
        stdout: out,
        stderr: err,
        ok,
    } = virsh(uri, cmd);
    match api {
        Ok(value) => {
            assert!(ok, "{cmd}: {err}");
            same_output(&out, value);
        }
        Err(e) => {
            assert!(!ok, "{cmd} succeeded: {out}");
            assert!(
                err.contains(&format!("error: {}", e.message)),
                "{cmd}: {err} vs {e}"
            );
        }
    }
}

/// The real daemon on `test:///default`: stock virsh's job commands say
/// what the API says in-process (the figures, or the same error).
#[test]
fn stock_virsh_against_rvirtd_test_driver() {
    rvirt_driver_test::register();
    client_drivers();
    let d = Daemon::rvirtd("");
    let api = test_domain("test:///default");
    let same = |cmd: &str, want: Result<String>| {
        virsh_says(&d.tcp_uri(), cmd, want, |out, text| {
            assert_eq!(out.trim(), text, "{cmd}")
        })
    };
    same(
        "migrate-getspeed test",
        api.migrate_get_max_speed(0).map(|v| v.to_string()),
    );
    same(
        "migrate-getmaxdowntime test",
        api.migrate_get_max_downtime(0).map(|v| v.to_string()),
    );
    same("migrate-setspeed test 100; migrate-getspeed test", {
        api.migrate_set_max_speed(100, 0)
            .and_then(|()| api.migrate_get_max_speed(0))
            .map(|v| v.to_string())
    });
    same("domjobabort test", api.abort_job(0).map(|()| String::new()));
    let jobinfo = match api.get_job_stats(0) {
        Err(e) if e.code == ErrorCode::NO_SUPPORT => api.get_job_info().map(|i| i.type_),
        other => other.map(|(t, _)| t),
    };
    virsh_says(&d.tcp_uri(), "domjobinfo test", jobinfo, |out, t| {
        let names = [
            "None",
            "Bounded",
            "Unbounded",
            "Completed",
            "Failed",
            "Cancelled",
        ];
        assert_eq!(
            line(out, "Job type:"),
            names.get(t as usize).copied(),
            "{out}"
        );
    });
}

/// rvirtd's own keys for the test driver: `host_uuid` is the host UUID its
/// migration cookies carry; `test_relocation_listen` opens the direct
/// migration endpoint, and a daemon that cannot open it does not start.
#[test]
fn test_driver_settings_from_the_config() {
    client_drivers();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let err = rvirtd_refusal(
        &[],
        &format!("test_relocation_listen = \"127.0.0.1:{busy_port}\"\n"),
    );
    assert!(err.contains("cannot listen for test migrations"), "{err}");

    let reloc = free_port();
    let uuid = "0b7a3c1e-52f4-4f7e-9a61-3d2c5e8f7a10";
    let d = Daemon::rvirtd(&format!(
        "host_uuid = \"{uuid}\"\ntest_relocation_listen = \"127.0.0.1:{reloc}\"\n"
    ));
    assert!(
        TcpStream::connect(("127.0.0.1", reloc)).is_ok(),
        "relocation listener"
    );
    let conn = Connect::open(&d.tcp_uri()).unwrap();
    let dom = conn.lookup_by_name("test").unwrap();
    let (cookie, _xml) = dom
        .migrate_begin3_params(&TypedParams::new(), mflags::LIVE)
        .unwrap();
    let cookie = String::from_utf8(cookie).unwrap();
    assert!(
        cookie.contains(&format!("<hostuuid>{uuid}</hostuuid>")),
        "{cookie}"
    );
}

/// The whole chain on real daemons: a client asks the source rvirtd for a
/// tunnelled peer-to-peer migration; the source's test driver opens the
/// destination rvirtd through the remote driver, and the guest's memory
/// travels as STREAM packets into the destination's test driver.
#[test]
fn tunnelled_p2p_migration_between_two_daemons() {
    client_drivers();
    let src = Daemon::rvirtd("host_uuid = \"9d1c5f0a-1111-4a2b-8c3d-000000000001\"\n");
    let dst = Daemon::rvirtd("host_uuid = \"9d1c5f0a-2222-4a2b-8c3d-000000000002\"\n");
    let sconn = Connect::open(&src.tcp_uri()).unwrap();
    // Held open: test:///default starts afresh once no connection holds it.
    let dconn = Connect::open(&dst.tcp_uri()).unwrap();
    let xml = "<domain type='test'><name>mig</name>\
               <uuid>5b1d3a2c-7e4f-4a6b-9c8d-0e1f2a3b4c5d</uuid>\
               <memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>";
    let dom = sconn.create_xml(xml, 0).unwrap();
    let flags = mflags::LIVE | mflags::PEER2PEER | mflags::TUNNELLED;
    dom.migrate_to_uri3(Some(&dst.tcp_uri()), &TypedParams::new(), flags)
        .unwrap_or_else(|e| {
            panic!(
                "{e}\nsource log:\n{}\ndestination log:\n{}",
                src.log(),
                dst.log()
            )
        });
    let moved = dconn.lookup_by_name("mig").unwrap();
    assert_eq!(moved.get_state().unwrap().0, rvirt::DomainState::Running);
    // The transient guest left the source.
    let e = sconn.lookup_by_name("mig").unwrap_err();
    assert_eq!(e.code, ErrorCode::NO_DOMAIN);
    // The destination's completed job says what crossed the tunnel.
    let (t, stats) = moved.get_job_stats(stats_flags::COMPLETED).unwrap();
    assert_eq!(t, job_type::COMPLETED);
    assert_eq!(stats.get(field::OPERATION), Some(&TypedParamValue::Int(4)));
    assert_eq!(
        stats.get(field::SUCCESS),
        Some(&TypedParamValue::Boolean(true))
    );
    match stats.get(field::DATA_PROCESSED) {
        Some(TypedParamValue::ULLong(n)) => assert!(*n >= 64 << 20, "{n} bytes for a 64 MiB guest"),
        other => panic!("data_processed: {other:?}"),
    }
}

// ---------------------------------------------------------------- events

#[test]
fn migration_events_on_the_wire() {
    use rvirt_rpc::remote::*;
    let dom = test_dom();
    let ev = rvirt::DomainEvent::MigrationIteration { iteration: 3 };
    let p = rvirtd::dispatch::event_packet(7, false, &dom, &ev).unwrap();
    assert_eq!(
        p.header.proc_,
        Procedure::DomainEventCallbackMigrationIteration as i32
    );
    assert_eq!(p.header.type_, MessageType::Message);
    let m: DomainEventCallbackMigrationIterationMsg = p.body().unwrap();
    assert_eq!(
        (m.callback_id, m.dom.name.as_str(), m.iteration),
        (7, "test", 3)
    );

    let ev = rvirt::DomainEvent::JobCompleted { stats: stats() };
    let p = rvirtd::dispatch::event_packet(8, false, &dom, &ev).unwrap();
    assert_eq!(
        p.header.proc_,
        Procedure::DomainEventCallbackJobCompleted as i32
    );
    let m: DomainEventCallbackJobCompletedMsg = p.body().unwrap();
    assert_eq!((m.callback_id, m.params), (8, stats()));
    // No legacy (non-callback) form exists for these two.
    assert!(rvirtd::dispatch::event_packet(8, true, &dom, &ev).is_none());
    // And the bytes decode as what was sent.
    assert_eq!(
        p.payload,
        DomainEventCallbackJobCompletedMsg {
            callback_id: 8,
            dom: m.dom,
            params: stats()
        }
        .to_xdr()
        .unwrap()
    );
}
