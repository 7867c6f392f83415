//! The QMP monitor and the capability probe against the real
//! qemu-system-x86_64, and the monitor's deadline against a QMP server
//! that never answers.

use rvirt_driver_qemu::capabilities::{self, KvmProbe};
use rvirt_driver_qemu::monitor::{Monitor, MonitorEvent};
use rvirt_driver_qemu::process;
use rvirt_testkit::dirs::TempDir;
use rvirt_util::ErrorCode;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const QEMU: &str = "/usr/bin/qemu-system-x86_64";

/// A stopped (-S) pc machine with no devices and its monitor.
async fn paused_machine(
    dir: &TempDir,
) -> (
    tokio::process::Child,
    Monitor,
    UnboundedReceiver<MonitorEvent>,
) {
    let socket = dir.join("qmp.sock");
    let mut args: Vec<String> = [
        "-S",
        "-nodefaults",
        "-nographic",
        "-machine",
        "pc,accel=tcg",
    ]
    .map(String::from)
    .to_vec();
    args.extend(process::qmp_server_args(&socket));
    let mut child = process::spawn_plain(Path::new(QEMU), &args, None).unwrap();
    let (tx, rx) = unbounded_channel();
    let mon = process::connect_when_ready(&socket, &mut child, Duration::from_secs(20), tx)
        .await
        .unwrap();
    (child, mon, rx)
}

async fn next_event_named(rx: &mut UnboundedReceiver<MonitorEvent>, name: &str) {
    let wait = async {
        while let Some(ev) = rx.recv().await {
            if let MonitorEvent::Qmp(e) = &ev {
                if format!("{e:?}").starts_with(name) {
                    return;
                }
            }
        }
        panic!("monitor closed before {name}");
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("no {name} event"));
}

#[tokio::test]
async fn typed_commands_events_and_fd_passing_on_real_qemu() {
    use qapi::qmp;
    let dir = TempDir::new("qmp");
    let (mut child, mon, mut events) = paused_machine(&dir).await;
    let status = mon.execute(qmp::query_status {}).await.unwrap();
    assert!(!status.running);
    assert_eq!(status.status, qmp::RunState::prelaunch);

    mon.execute(qmp::cont {}).await.unwrap();
    next_event_named(&mut events, "RESUME").await;
    mon.execute(qmp::stop {}).await.unwrap();
    next_event_named(&mut events, "STOP").await;
    let status = mon.execute(qmp::query_status {}).await.unwrap();
    assert_eq!(status.status, qmp::RunState::paused);

    // getfd with SCM_RIGHTS: QEMU holds the fd under the name, so closefd
    // of that name succeeds once and then fails.
    let (read, _write) = nix::unistd::pipe().unwrap();
    use std::os::fd::AsFd;
    mon.send_fd("probe-fd", read.as_fd()).await.unwrap();
    let close = || qmp::closefd {
        fdname: "probe-fd".into(),
    };
    mon.execute(close()).await.unwrap();
    let again = mon.execute(close()).await.unwrap_err();
    assert!(
        again
            .message
            .contains("unable to execute QEMU command 'closefd'"),
        "{}",
        again.message
    );

    mon.execute(qmp::quit {}).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(MonitorEvent::Closed) | None = events.recv().await {
                return;
            }
        }
    });
    closed.await.expect("monitor closes when QEMU quits");
    let after = mon.execute(qmp::query_status {}).await.unwrap_err();
    assert!(
        after.message.contains("End of file from qemu monitor"),
        "{}",
        after.message
    );
    child.wait().await.unwrap();
}

#[tokio::test]
async fn a_monitor_that_never_answers_times_out() {
    let dir = TempDir::new("qmp-hung");
    let socket = dir.join("hung.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut conn, _) = listener.accept().await.unwrap();
        conn.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
            .await
            .unwrap();
        // Read and never answer.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(conn);
    });
    let (tx, _rx) = unbounded_channel();
    let start = Instant::now();
    let err = match Monitor::connect(&socket, Duration::from_millis(500), tx).await {
        Ok(_) => panic!("negotiation with a silent QMP server succeeded"),
        Err(e) => e,
    };
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(err.code, ErrorCode::OPERATION_TIMEOUT);
    assert!(err.message.contains("timed out"), "{}", err.message);
    assert!(err.message.contains("qmp_capabilities"), "{}", err.message);
    server.abort();
}

#[tokio::test]
async fn probe_reads_machines_types_and_cpus_and_is_cached() {
    let dir = TempDir::new("caps");
    let caps = capabilities::load(Path::new(QEMU), dir.path(), &KvmProbe::default())
        .await
        .unwrap();
    assert_eq!((caps.version.0, caps.version.1), (7, 2));
    assert_eq!(caps.arch, rvirt_conf::domain::Arch::X86_64);
    let pc = caps.machine("pc").expect("pc machine");
    assert_eq!(pc.name, "pc-i440fx-7.2");
    assert_eq!(pc.default_ram_id.as_deref(), Some("pc.ram"));
    assert_eq!(caps.canonical_machine("q35"), "pc-q35-7.2");
    assert!(caps.has_type("virtio-net-pci"));
    assert!(caps.has_type("memory-backend-ram"));
    assert!(caps.cpu_models.iter().any(|c| c == "qemu64"));
    assert!(!caps.kvm_usable, "no probe guest: KVM is never assumed");

    let cached = std::fs::read_dir(dir.join("capabilities")).unwrap().count();
    assert_eq!(cached, 1);
    let start = Instant::now();
    let again = capabilities::load(Path::new(QEMU), dir.path(), &KvmProbe::default())
        .await
        .unwrap();
    assert_eq!(again, caps);
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "second load probes again"
    );
}

#[tokio::test]
async fn unknown_binary_is_a_libvirt_error() {
    let dir = TempDir::new("caps-missing");
    let err = capabilities::load(Path::new("/no/such/qemu"), dir.path(), &KvmProbe::default())
        .await
        .unwrap_err();
    let want = "Cannot check QEMU binary /no/such/qemu: No such file or directory";
    assert_eq!(
        (err.code, err.message.as_str()),
        (ErrorCode::SYSTEM_ERROR, want)
    );
}
