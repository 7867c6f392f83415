//! The domain calls of libvirt's test driver that rvirt's test driver
//! carries (tuning parameters, pinning, vCPUs, ...): python3-libvirt
//! through rvirtd gives the same transcript as through a stock libvirtd,
//! over TCP and the unix socket, and stock virsh prints the same.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::tools::{assert_none_differ, diff, virsh, Normalise};
use rvirt_testkit::tools::{assert_python_transcripts_agree, python_libvirt_ready, python_script};

/// One script's transcript, libvirtd's beside rvirtd's; libvirtd's text.
fn agree(script: &str) -> Option<String> {
    if !python_libvirt_ready() {
        return None;
    }
    let (stock, ours) = Daemon::libvirtd_and_rvirtd()?;
    let want = assert_python_transcripts_agree(
        &python_script(script),
        &stock.tcp_uri(),
        &[ours.tcp_uri(), ours.unix_uri()],
        &|| ours.log(),
    );
    eprintln!("{script}:\n{want}");
    Some(want)
}

/// Memory, blkio and NUMA parameters, vCPU and emulator pinning,
/// virDomainGetVcpus (tests/python/tuning.py).
#[test]
fn tuning_and_pinning_match_libvirtd() {
    let Some(want) = agree("tuning.py") else {
        return;
    };
    assert!(
        want.contains("test memory 0 = {'hard_limit': 9007199254740991"),
        "{want}"
    );
}

/// IOThreads, interface bandwidth parameters, block and interface
/// statistics (tests/python/devices.py).
#[test]
fn iothreads_interfaces_and_stats_match_libvirtd() {
    let Some(want) = agree("devices.py") else {
        return;
    };
    assert!(
        want.contains("blockStats vda = [True, True, True, True"),
        "{want}"
    );
}

/// The guest clock and control state, filesystems, signals, passwords,
/// perf events, metadata, lifecycle actions, messages, launch security,
/// the memory statistics period, block info and rename
/// (tests/python/guest.py).
#[test]
fn guest_calls_match_libvirtd() {
    let Some(want) = agree("guest.py") else {
        return;
    };
    for seen in [
        "control 12345 = [2, 0, 2345]",
        "freeze all = 1",
        "renamed name = 'renamed'",
    ] {
        assert!(want.contains(seen), "{seen}:\n{want}");
    }
}

/// Save, restore, save images, managed save and core dumps, the files
/// they write, the states and events they leave (tests/python/save.py).
#[test]
fn save_restore_and_dumps_match_libvirtd() {
    let Some(want) = agree("save.py") else {
        return;
    };
    for seen in [
        "header = (b'TestGuestMagic\\x00', True)",
        "has managed save after = 1",
        "core bytes = b'TestGuestMagic\\x00'",
    ] {
        assert!(want.contains(seen), "{seen}:\n{want}");
    }
}

/// Host memory, CPU statistics and sysinfo, the legacy lifecycle event
/// registration, creating with files, the security label list
/// (tests/python/host.py).
#[test]
fn host_calls_and_legacy_events_match_libvirtd() {
    let Some(want) = agree("host.py") else {
        return;
    };
    for seen in [
        "free memory = 3145728",
        "cells 0.. = [2097152, 4194304]",
        "legacy",
    ] {
        assert!(want.contains(seen), "{seen}:\n{want}");
    }
}

/// Stock virsh's commands over these calls print the same against rvirtd
/// as against a stock libvirtd (each case one virsh run on a fresh
/// `test:///default`; statistics only where they fail, their values
/// come from the clock).
#[test]
fn virsh_tuning_commands_match_libvirtd() {
    let Some((stock, ours)) = Daemon::libvirtd_and_rvirtd() else {
        return;
    };
    let cases = [
        "memtune test; memtune test --hard-limit 1024 --soft-limit 512; memtune test; \
         memtune test --config; memtune test --live --config; memtune test --swap-hard-limit 10",
        "blkiotune test; blkiotune test --weight 300 --device-weights /dev/sda,100; \
         blkiotune test; blkiotune test --device-read-iops-sec /dev/sda,x; blkiotune test --config",
        "numatune test; numatune test --mode interleave; numatune test --nodeset 0-1; \
         numatune test; numatune test --nodeset aaa; numatune test --config",
        "vcpupin test; vcpupin test 0 1,3; vcpupin test; vcpupin test 0 1 --live; \
         vcpupin test 9 1; vcpupin test --config; vcpuinfo test; destroy test; vcpuinfo test",
        "emulatorpin test; emulatorpin test 2-3; emulatorpin test; emulatorpin test --config; \
         emulatorpin test 1 --config; emulatorpin test --config",
        "iothreadinfo test; iothreadadd test 3; iothreadadd test 3; iothreadinfo test; \
         iothreadpin test 3 1-2; iothreadinfo test; iothreadset test 3 --poll-max-ns 100; \
         iothreadset test 4 --poll-grow 2; iothreaddel test 3; iothreaddel test 3; \
         iothreadinfo test --config",
        "domiftune test testnet0; domiftune test testnet0 --inbound 100,200,300 \
         --outbound 50; domiftune test testnet0; domiftune test aa:bb:cc:dd:ee:ff; \
         domiftune test eth9; domiftune test testnet0 --config",
        "setmem test 1024; dominfo test; setmem test 99999999; setmaxmem test 4096; \
         setmaxmem test 4096 --config; dommemstat test; dominfo test; reset test; \
         destroy test; reset test; dommemstat test; setmaxmem test 4096; dominfo test",
        "setvcpus test 1; vcpucount test; setvcpus test 3; setvcpus test 4 --maximum --config; \
         vcpucount test; setvcpus test 3 --config; vcpucount test; setvcpus test 40; \
         setvcpus test 2 --maximum --live; destroy test; setvcpus test 1 --maximum; vcpucount test; \
         dominfo test",
        "domcontrol test; domblkerror test; inject-nmi test; destroy test; domcontrol test; \
         domblkerror test; inject-nmi test",
        "domblkstat test vdz; domblkstat test; domifstat test eth9; nodecpumap; \
         destroy test; domblkstat test vda; domifstat test testnet0",
    ];
    let run = |uri: &str, case: &str| {
        let out = virsh(uri, case);
        out.normalised(&[Normalise::CpuTime, Normalise::Uri(uri.to_string())])
    };
    let (theirs, mine) = (stock.tcp_uri(), ours.tcp_uri());
    // The cases reach the calls: libvirtd shows the limit set.
    let memtune = run(&theirs, cases[0]);
    assert!(memtune.stdout.contains("1024"), "{memtune:?}");
    let iothreads = run(&theirs, cases[5]);
    assert!(iothreads.stdout.contains(" 3 "), "{iothreads:?}");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let (want, got) = (run(&theirs, case), run(&mine, case));
            diff(case, ("libvirtd", &want), ("rvirtd", &got))
        })
        .collect();
    assert_none_differ(
        &failures,
        cases.len(),
        &format!("\n--- log:\n{}", ours.log()),
    );
}
