//! rvirt's public API through the remote driver against a stock libvirtd
//! 9.0 serving `test:///default`.

use rvirt::events::{event_id, lifecycle};
use rvirt::flags::{feature, list};
use rvirt::{Connect, DomainEvent, DomainState, ErrorCode, ErrorDomain};
use rvirt_testkit::daemon::Daemon;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

const FOO: &str = "<domain type='test'>\n  <name>foo</name>\n  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n  <memory unit='MiB'>128</memory>\n  <os><type>hvm</type></os>\n</domain>\n";

/// A private stock libvirtd that notices a dead client within ~3 s
/// (keepalive every second, two missed).
fn libvirtd() -> Option<Daemon> {
    Daemon::libvirtd_with("keepalive_interval = 1\nkeepalive_count = 2\n")
}

fn open(uri: &str) -> Connect {
    rvirt_driver_remote::register();
    Connect::open(uri).unwrap_or_else(|e| panic!("open {uri}: {e}"))
}

#[test]
fn host_facts_and_lookups() {
    let Some(d) = libvirtd() else { return };
    let c = open(&d.tcp_uri());
    assert_eq!(c.get_type().unwrap(), "TEST");
    assert_eq!(c.get_uri().unwrap(), d.tcp_uri());
    assert!(!c.get_hostname().unwrap().is_empty());
    assert_eq!(c.get_lib_version().unwrap(), 9_000_000);
    assert!(c.get_version().unwrap() > 0);
    assert!(c.get_max_vcpus(None).unwrap() > 0);
    assert!(c.supports_feature(feature::REMOTE).unwrap());
    assert!(c.supports_feature(feature::PROGRAM_KEEPALIVE).unwrap());
    assert!(!c.is_secure().unwrap(), "plain TCP is not secure");
    assert!(!c.is_encrypted().unwrap());
    assert!(c.is_alive());
    let node = c.node_get_info().unwrap();
    assert_eq!((node.model.as_str(), node.cpus), ("i686", 16));
    assert!(c.get_capabilities().unwrap().starts_with("<capabilities>"));
    assert_eq!(c.node_get_security_model().unwrap().model, "testSecurity");

    let dom = c.lookup_by_name("test").unwrap();
    assert_eq!(dom.id(), Some(1));
    let uuid = dom.uuid_string();
    assert_eq!(c.lookup_by_id(1).unwrap().name(), "test");
    assert_eq!(c.lookup_by_uuid_string(&uuid).unwrap().name(), "test");
    let info = dom.get_info().unwrap();
    assert_eq!(info.state, DomainState::Running);
    assert_eq!(info.nr_virt_cpu, 2);
    assert_eq!(dom.get_state().unwrap().0, DomainState::Running);
    assert!(dom.get_xml_desc(0).unwrap().contains("<name>test</name>"));
    assert_eq!(dom.get_os_type().unwrap(), "linux");
    assert!(dom.get_max_memory().unwrap() > 0);
    assert!(dom.is_active().unwrap());
    assert!(dom.is_persistent().unwrap());
    assert!(!dom.is_updated().unwrap());
    assert!(!dom.has_managed_save_image(0).unwrap());
    assert_eq!(dom.get_security_label().unwrap().label, "libvirt-test");
    let e = dom.get_metadata(0, None, 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::NO_DOMAIN_METADATA);

    assert_eq!(c.num_of_domains().unwrap(), 1);
    assert_eq!(c.list_domains(10).unwrap(), vec![1]);
    assert_eq!(c.num_of_defined_domains().unwrap(), 0);
    assert!(c.list_defined_domains(10).unwrap().is_empty());
    let all = c.list_all_domains(0).unwrap();
    assert_eq!(all.len(), 1);
    assert!(c.list_all_domains(list::INACTIVE).unwrap().is_empty());

    let e = c.lookup_by_name("nosuch").err().unwrap();
    assert_eq!(e.code, ErrorCode::NO_DOMAIN);
    assert_eq!(e.domain, ErrorDomain::TEST);
    assert_eq!(e.message, "Domain not found");

    // Many threads share the connection.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    assert_eq!(c.lookup_by_name("test").unwrap().id(), Some(1));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn lifecycle_with_events() {
    let Some(d) = libvirtd() else { return };
    let c = open(&d.tcp_uri());
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let cb = c
        .domain_event_register_any(
            None,
            event_id::LIFECYCLE,
            Arc::new(move |dom, ev| {
                let _ = tx.lock().unwrap().send((dom.name.clone(), ev.clone()));
            }),
        )
        .unwrap();
    let expect = |event: i32, detail: i32| {
        let got = rx.recv_timeout(Duration::from_secs(10)).expect("event");
        assert_eq!(
            got,
            ("foo".to_string(), DomainEvent::Lifecycle { event, detail })
        );
    };

    let mut foo = c.define_xml(FOO, 0).unwrap();
    expect(lifecycle::DEFINED, lifecycle::DEFINED_ADDED);
    assert!(foo.is_persistent().unwrap());
    assert!(!foo.is_active().unwrap());
    assert_eq!(foo.id(), None);
    foo.create(0).unwrap();
    expect(lifecycle::STARTED, lifecycle::STARTED_BOOTED);
    assert!(foo.id().is_some(), "create learns the new id");
    foo.suspend().unwrap();
    expect(lifecycle::SUSPENDED, lifecycle::SUSPENDED_PAUSED);
    assert_eq!(foo.get_state().unwrap().0, DomainState::Paused);
    foo.resume().unwrap();
    expect(lifecycle::RESUMED, lifecycle::RESUMED_UNPAUSED);
    foo.set_autostart(true).unwrap();
    assert!(foo.get_autostart().unwrap());
    foo.destroy(0).unwrap();
    expect(lifecycle::STOPPED, lifecycle::STOPPED_DESTROYED);
    assert!(foo.resume().is_err());
    foo.undefine(0).unwrap();
    expect(lifecycle::UNDEFINED, lifecycle::UNDEFINED_REMOVED);

    // A transient domain; then no events after deregistering.
    let t = c.create_xml(FOO, 0).unwrap();
    expect(lifecycle::STARTED, lifecycle::STARTED_BOOTED);
    c.domain_event_deregister_any(cb).unwrap();
    t.destroy(0).unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err());
    let e = c.domain_event_deregister_any(cb).unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_ARG);
    assert!(c.lookup_by_name("foo").is_err());
}

#[test]
fn unix_socket_parameter() {
    let Some(d) = libvirtd() else { return };
    let c = open(&d.unix_uri());
    assert_eq!(c.get_uri().unwrap(), d.unix_uri());
    assert!(c.is_secure().unwrap(), "UNIX sockets are secure");
    assert_eq!(c.lookup_by_name("test").unwrap().id(), Some(1));
    let ro = Connect::open_read_only(&d.unix_uri()).unwrap();
    assert_eq!(ro.num_of_domains().unwrap(), 1);
    let e = ro.define_xml(FOO, 0).err().unwrap();
    assert_eq!(e.code, ErrorCode::OPERATION_DENIED);
}

/// The test daemon PINGs every second and drops a client after two
/// unanswered PINGs: an idle connection survives only if the reader thread
/// answers them.
#[test]
fn idle_connection_answers_keepalive() {
    let Some(d) = libvirtd() else { return };
    let c = open(&d.tcp_uri());
    std::thread::sleep(Duration::from_secs(5));
    assert!(c.is_alive());
    assert_eq!(c.num_of_domains().unwrap(), 1);
}

#[test]
fn dead_daemon_closes_the_connection() {
    let Some(mut d) = libvirtd() else {
        return;
    };
    let c = open(&d.tcp_uri());
    assert_eq!(c.num_of_domains().unwrap(), 1);
    d.kill9();
    let start = std::time::Instant::now();
    while c.is_alive() {
        assert!(start.elapsed() < Duration::from_secs(10), "still alive");
        std::thread::sleep(Duration::from_millis(20));
    }
    let e = c.num_of_domains().unwrap_err();
    assert_eq!(e.message, "internal error: client socket is closed");
    assert_eq!(e.code, ErrorCode::INTERNAL_ERROR);
}

#[test]
fn connection_errors_match_libvirt() {
    rvirt_driver_remote::register();
    // Nothing listens on port 1 (and no test daemon can take it).
    let port = 1;
    let e = Connect::open(&format!("test+tcp://127.0.0.1:{port}/default"))
        .err()
        .unwrap();
    assert_eq!(
        e.message,
        format!("unable to connect to server at '127.0.0.1:{port}': Connection refused")
    );
    assert_eq!(
        (e.code, e.domain),
        (ErrorCode::SYSTEM_ERROR, ErrorDomain::RPC)
    );
    let e = Connect::open("test+unix:///default?socket=/nonexistent/libvirt-sock")
        .err()
        .unwrap();
    assert_eq!(
        e.message,
        "Failed to connect socket to '/nonexistent/libvirt-sock': No such file or directory"
    );
    // TLS (no transport, a host) with credentials taken from a directory
    // that has none: the context fails before any connection, as libvirt's.
    let e = Connect::open("test://localhost/default?pkipath=/nonexistent")
        .err()
        .unwrap();
    assert_eq!(
        e.message,
        "Cannot read CA certificate '/nonexistent/cacert.pem': No such file or directory"
    );
    assert_eq!(e.code, ErrorCode::SYSTEM_ERROR);
}

/// Checkpoints and the screenshot stream through the remote driver: what
/// a stock libvirtd's test driver answers arrives whole.
#[test]
fn checkpoints_and_screenshot() {
    let Some(d) = libvirtd() else { return };
    let c = open(&d.tcp_uri());
    let dom = c.lookup_by_name("test").unwrap();
    let xml = |n: &str| format!("<domaincheckpoint><name>{n}</name></domaincheckpoint>");
    let a = dom.checkpoint_create_xml(&xml("a"), 0).unwrap();
    let b = dom.checkpoint_create_xml(&xml("b"), 0).unwrap();
    assert_eq!(b.get_parent(0).unwrap().name(), "a");
    assert_eq!(a.list_all_children(0).unwrap()[0].name(), "b");
    let mut names: Vec<String> = dom
        .list_all_checkpoints(0)
        .unwrap()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    let no_domain = rvirt::flags::checkpoint_xml::NO_DOMAIN;
    assert!(b
        .get_xml_desc(no_domain)
        .unwrap()
        .contains("<disk name='vda' checkpoint='bitmap' bitmap='b'/>"));
    let e = dom.checkpoint_lookup_by_name("zz", 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::NO_DOMAIN_CHECKPOINT);
    a.delete(rvirt::flags::checkpoint_delete::CHILDREN).unwrap();
    assert!(dom.list_all_checkpoints(0).unwrap().is_empty());

    let st = rvirt::Stream::new(&c, 0).unwrap();
    assert_eq!(
        dom.screenshot(&st, 0, 0).unwrap().as_deref(),
        Some("image/png")
    );
    let mut image = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = st.recv(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        image.extend_from_slice(&buf[..n]);
    }
    st.finish().unwrap();
    assert_eq!(image.len(), 33443);
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"));
}
