//! The calls the driver makes to open and close a connection, in the order
//! stock virsh makes them to libvirtd 9.0 (captured with
//! `LIBVIRT_LOG_FILTERS=1:rpc`): AUTH_LIST, SUPPORTS_FEATURE(PROGRAM_KEEPALIVE),
//! CONNECT_OPEN(name, flags), SUPPORTS_FEATURE(REMOTE_EVENT_CALLBACK),
//! SUPPORTS_FEATURE(REMOTE_CLOSE_CALLBACK), ... CONNECT_CLOSE; serials from 0.

use rvirt::HypervisorConnection;
use rvirt_driver_remote::{KeepAlive, RemoteConnection};
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::remote::{
    AuthListRet, AuthSaslInitRet, ConnectOpenArgs, ConnectSupportsFeatureArgs,
};
use rvirt_rpc::remote::{ConnectGetTypeRet, ConnectSupportsFeatureRet};
use rvirt_rpc::{FrameReader, Packet};
use rvirt_testkit::dirs::TempDir;
use rvirt_util::{ErrorCode, Uri};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::thread::JoinHandle;

/// Serve one client: answer every call, log (procedure, serial, detail).
fn fake_daemon(mut s: UnixStream, auth: Vec<i32>) -> CallLog {
    let mut frames = FrameReader::new();
    let mut log = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let p = match frames.next_packet().unwrap() {
            Some(p) => p,
            None => match s.read(&mut buf) {
                Ok(0) | Err(_) => return log,
                Ok(n) => {
                    frames.push(&buf[..n]);
                    continue;
                }
            },
        };
        let proc_ = Procedure::from_i32(p.header.proc_).unwrap();
        let (detail, reply) = match proc_ {
            Procedure::AuthList => (
                String::new(),
                Packet::reply(
                    &p.header,
                    &AuthListRet {
                        types: auth.clone(),
                    },
                ),
            ),
            Procedure::ConnectSupportsFeature => {
                let a: ConnectSupportsFeatureArgs = p.body().unwrap();
                let ret = ConnectSupportsFeatureRet { supported: 1 };
                (a.feature.to_string(), Packet::reply(&p.header, &ret))
            }
            Procedure::ConnectOpen => {
                let a: ConnectOpenArgs = p.body().unwrap();
                let detail = format!("{} {}", a.name.unwrap_or_default(), a.flags);
                (detail, Packet::reply(&p.header, &()))
            }
            // A server with no mechanism to offer.
            Procedure::AuthSaslInit => {
                let ret = AuthSaslInitRet {
                    mechlist: String::new(),
                };
                (String::new(), Packet::reply(&p.header, &ret))
            }
            Procedure::ConnectGetType => {
                let ret = ConnectGetTypeRet {
                    type_: "FAKE".into(),
                };
                (String::new(), Packet::reply(&p.header, &ret))
            }
            _ => (String::new(), Packet::reply(&p.header, &())),
        };
        assert!(remote::is_remote(&p.header));
        log.push((proc_, p.header.serial, detail));
        s.write_all(&reply.unwrap().to_bytes().unwrap()).unwrap();
    }
}

/// What a fake daemon was asked: (procedure, serial, detail) per call.
type CallLog = Vec<(Procedure, u32, String)>;

/// A fake daemon offering `auth` to one client on a fresh socket in
/// `dir`: the socket's path, and the daemon's thread (its log once the
/// client is gone).
fn serve_one_client(dir: &TempDir, auth: Vec<i32>) -> (PathBuf, JoinHandle<CallLog>) {
    let path = dir.join("sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        fake_daemon(s, auth)
    });
    (path, server)
}

#[test]
fn open_and_close_as_virsh_does() {
    let dir = TempDir::new("rvirt-remote-seq");
    let (path, server) = serve_one_client(&dir, vec![remote::AUTH_NONE]);
    let uri = Uri::parse(&format!(
        "test+unix:///default?socket={}&no_tty=1",
        path.display()
    ))
    .unwrap();
    let c = RemoteConnection::open(&uri, 1, KeepAlive::default()).unwrap();
    assert_eq!(c.get_type().unwrap(), "FAKE");
    assert_eq!(c.get_type().unwrap(), "FAKE", "cached, not asked twice");
    c.close().unwrap();
    let log = server.join().unwrap();
    let want = [
        (Procedure::AuthList, 0, ""),
        (Procedure::ConnectSupportsFeature, 1, "10"),
        (Procedure::ConnectOpen, 2, "test:///default 1"),
        (Procedure::ConnectSupportsFeature, 3, "14"),
        (Procedure::ConnectSupportsFeature, 4, "15"),
        (Procedure::ConnectGetType, 5, ""),
        (Procedure::ConnectClose, 6, ""),
    ];
    let got: Vec<(Procedure, u32, &str)> =
        log.iter().map(|(p, s, d)| (*p, *s, d.as_str())).collect();
    assert_eq!(got, want);
}

#[test]
fn sasl_server_without_mechanisms_is_refused_as_libvirt_does() {
    let dir = TempDir::new("rvirt-remote-sasl");
    let (path, server) = serve_one_client(&dir, vec![remote::AUTH_SASL]);
    let uri = Uri::parse(&format!("test+unix:///default?socket={}", path.display())).unwrap();
    let e = RemoteConnection::open(&uri, 0, KeepAlive::default())
        .err()
        .unwrap();
    assert_eq!(e.code, ErrorCode::AUTH_FAILED);
    // Cyrus's sasl_client_start finds no mechanism in an empty list.
    assert!(
        e.message
            .starts_with("authentication failed: Failed to start SASL negotiation: -4"),
        "{e}"
    );
    let log = server.join().unwrap();
    let procs: Vec<Procedure> = log.iter().map(|l| l.0).collect();
    assert_eq!(procs, [Procedure::AuthList, Procedure::AuthSaslInit]);
}
