//! The QEMU test guest boots under TCG, fills memory when asked, says it is
//! ready on its serial console, then ticks; it keeps a counter on a disk
//! across boots and powers off on the ACPI power button.

use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::guest::{self, Accel, BootOptions, GuestArgs, RunningGuest};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn guest_boots_under_tcg_and_fills_memory() {
    let image = guest::image().expect("guest image");
    let opts = BootOptions {
        accel: Accel::Tcg,
        guest: GuestArgs {
            fill_mib: 16,
            ..GuestArgs::default()
        },
        ..BootOptions::default()
    };
    let g = guest::boot(&image, &opts).expect("boot");
    eprintln!("TCG boot to {} in {:?}", guest::READY_MARKER, g.boot_time);
    let console = g.console_text();
    assert!(console.contains("rvirt-guest: filled 16 MiB"), "{console}");
}

/// Wait until the console shows at least `tick`; the console on failure.
fn wait_tick(g: &RunningGuest, tick: u64) -> u64 {
    let start = Instant::now();
    loop {
        let text = g.console_text();
        match guest::last_tick(&text) {
            Some(t) if t >= tick => return t,
            _ if start.elapsed() > Duration::from_secs(30) => panic!("no tick {tick}:\n{text}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn disk_counter(disk: &Path) -> u64 {
    let bytes = std::fs::read(disk).expect("disk");
    let text = String::from_utf8_lossy(&bytes[..64]);
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("rvirt-disk ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no counter on the disk: {line:?}"))
}

/// Send `system_powerdown` over QMP.
fn power_button(qmp: &Path) {
    let mut s = UnixStream::connect(qmp).expect("qmp");
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap(); // greeting
    for cmd in ["qmp_capabilities", "system_powerdown"] {
        writeln!(s, "{{\"execute\":\"{cmd}\"}}").unwrap();
        // Events (POWERDOWN) may come before the reply.
        loop {
            line.clear();
            assert!(r.read_line(&mut line).unwrap() > 0, "{cmd}: QMP closed");
            if !line.contains("\"event\"") {
                break;
            }
        }
        assert!(line.contains("\"return\""), "{cmd}: {line}");
    }
}

#[test]
fn guest_ticks_keeps_a_disk_counter_and_obeys_the_power_button() {
    let image = guest::image().expect("guest image");
    let dir = TempDir::new("guest-disk");
    let disk = dir.join("counter.raw");
    std::fs::write(&disk, vec![0u8; 1 << 20]).unwrap();
    let qmp = dir.join("qmp.sock");
    let opts = BootOptions {
        guest: GuestArgs {
            disk: Some("vda".into()),
            tick_seconds: Some("0.2".into()),
            ..GuestArgs::default()
        },
        extra_args: vec![
            "-drive".into(),
            format!("file={},format=raw,if=virtio", disk.display()),
            "-qmp".into(),
            format!("unix:{},server=on,wait=off", qmp.display()),
        ],
        ..BootOptions::default()
    };

    let mut first = guest::boot(&image, &opts).expect("boot");
    let ticked = wait_tick(&first, 3);
    power_button(&qmp);
    assert!(
        first.wait_exit(Duration::from_secs(30)),
        "{}",
        first.console_text()
    );
    assert!(first.console_text().contains("rvirt-guest: power button"));
    let kept = disk_counter(&disk);
    assert!(kept >= ticked, "disk counter {kept} behind tick {ticked}");

    let second = guest::boot(&image, &opts).expect("second boot");
    let console = second.console_text();
    assert!(
        console.contains(&format!("rvirt-guest: disk counter continues from {kept}")),
        "{console}"
    );
    wait_tick(&second, 2);
    assert!(disk_counter(&disk) > kept);
}
