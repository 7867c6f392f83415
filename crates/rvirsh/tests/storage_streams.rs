//! vol-upload and vol-download with real data: rvirsh and stock virsh
//! against a stock libvirtd's storage driver (`storage+tcp://.../system`,
//! a transient `dir` pool in a scratch directory), each uploading a file
//! and downloading it back, byte for byte. (libvirt's test driver has no
//! volume streams: its refusals are compared in storage_virsh_compat.)

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::tools::{rvirsh, virsh, Output};

fn transfer(run: fn(&str, &str) -> Output, uri: &str, dir: &std::path::Path, tag: &str) -> Vec<u8> {
    let pool_dir = dir.join(format!("pool-{tag}"));
    std::fs::create_dir_all(&pool_dir).unwrap();
    let input = dir.join("input.bin");
    let output = dir.join(format!("output-{tag}.bin"));
    let commands = format!(
        "pool-create-as {tag} dir --target {}; vol-create-as {tag} v 256K; \
         vol-upload v {} --pool {tag}; vol-download v {} --pool {tag}; \
         vol-download v {}.part --pool {tag} --offset 1000 --length 10; \
         vol-delete v --pool {tag}; pool-destroy {tag}",
        pool_dir.display(),
        input.display(),
        output.display(),
        output.display()
    );
    let out = run(uri, &commands);
    assert!(out.ok, "{tag}: {}\n{}", out.stdout, out.stderr);
    let part = std::fs::read(format!("{}.part", output.display())).unwrap();
    let mut got = std::fs::read(&output).unwrap();
    got.extend(part);
    got
}

#[test]
fn volume_data_round_trips_like_virsh() {
    if !rvirt_testkit::tools::have_virsh() {
        return;
    }
    let Some(stock) = Daemon::libvirtd() else {
        eprintln!("stock libvirtd unavailable: skipping");
        return;
    };
    let uri = stock
        .tcp_uri()
        .replace("test+tcp", "storage+tcp")
        .replace("/default", "/system");
    let probe = virsh(&uri, "pool-list --all");
    if !probe.ok {
        eprintln!(
            "libvirtd's storage driver unavailable ({}): skipping",
            probe.stderr
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("rvirsh-streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.join("input.bin"), &data).unwrap();
    let want = transfer(virsh, &uri, &dir, "viaVirsh");
    let got = transfer(rvirsh, &uri, &dir, "viaRvirsh");
    let _ = std::fs::remove_dir_all(&dir);
    // The volume is 256 KiB: what was uploaded, then zeros; then the
    // 10 bytes at offset 1000.
    assert_eq!(&want[..data.len()], &data[..]);
    assert_eq!(want.len(), 256 * 1024 + 10);
    assert_eq!(got, want);
}
