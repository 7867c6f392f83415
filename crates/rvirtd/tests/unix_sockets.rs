//! The UNIX sockets' ownership as libvirtd sets it: `unix_sock_group`,
//! `unix_sock_ro_perms`, `unix_sock_rw_perms` and `unix_sock_admin_perms`
//! (libvirt's defaults 0777, 0700, 0700), checked by stat'ing both
//! daemons' sockets and by connecting as `nobody` (setpriv) with and
//! without the socket's group.

use rvirt_testkit::daemon::Daemon;
use rvirt_testkit::dirs::TempDir;
use rvirt_testkit::tools::{self, normalise, Normalise, Output};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

const SOCKETS: [&str; 3] = ["libvirt-sock", "libvirt-sock-ro", "libvirt-admin-sock"];

/// (mode, gid) of each socket.
fn ownership(d: &Daemon) -> Vec<(u32, u32)> {
    SOCKETS
        .iter()
        .map(|s| {
            let m = std::fs::metadata(d.dir.join(s)).expect("socket");
            (m.mode() & 0o7777, m.gid())
        })
        .collect()
}

const GROUPED: &str = "unix_sock_group = \"nogroup\"\nunix_sock_ro_perms = \"0775\"\n\
                       unix_sock_rw_perms = \"0770\"\nunix_sock_admin_perms = \"0750\"\n";

#[test]
fn sockets_have_libvirtds_modes_and_group() {
    let defaults = Daemon::rvirtd("");
    assert_eq!(
        ownership(&defaults),
        vec![(0o700, 0), (0o777, 0), (0o700, 0)]
    );
    let grouped = Daemon::rvirtd(GROUPED);
    let nogroup = 65534;
    assert_eq!(
        ownership(&grouped),
        vec![(0o770, nogroup), (0o775, nogroup), (0o750, nogroup)]
    );
    // Stock libvirtd as root was built with polkit, whose default
    // auth_unix_rw makes its default rw mode 0777 (remote_daemon_config.c),
    // even when the config then sets auth "none". rvirtd has no polkit:
    // it keeps libvirt's default without it, 0700. The others agree.
    if let Some(stock) = Daemon::libvirtd() {
        let stock = ownership(&stock);
        assert_eq!(stock[0], (0o777, 0));
        assert_eq!(stock[1..], ownership(&defaults)[1..]);
    }
    if let Some(stock) = Daemon::libvirtd_with(GROUPED) {
        assert_eq!(ownership(&stock), ownership(&grouped));
    }
}

/// virsh `domstate test` on `socket` as nobody, with group `gid`.
fn virsh_as_nobody(socket: &Path, gid: &str, home: &TempDir) -> Output {
    let uri = format!("test+unix:///default?socket={}", socket.display());
    let readonly = if socket.ends_with("libvirt-sock-ro") {
        "-r"
    } else {
        "-q"
    };
    Command::new("setpriv")
        .args([
            "--reuid=nobody",
            &format!("--regid={gid}"),
            "--clear-groups",
        ])
        .args(["virsh", readonly, "-c", &uri, "domstate", "test"])
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("LC_ALL", "C")
        .output()
        .expect("setpriv")
        .into()
}

#[test]
fn only_the_sockets_group_reaches_the_read_write_socket() {
    if !tools::have_virsh() {
        return;
    }
    let home = TempDir::new("nobody-home");
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let mut daemons = vec![Daemon::rvirtd(GROUPED)];
    daemons.extend(Daemon::libvirtd_with(GROUPED));
    let mut outputs = Vec::new();
    for d in &daemons {
        let rule = |s: &str| normalise(s, &[Normalise::Value(d.dir.display().to_string(), "DIR")]);
        let mut runs = Vec::new();
        // (socket, group, reached?): both sockets are group-only for
        // writing (0770 and 0775), and connect(2) needs write access.
        let cases = [
            ("libvirt-sock", "nogroup", true),
            ("libvirt-sock", "daemon", false),
            ("libvirt-sock-ro", "nogroup", true),
            ("libvirt-sock-ro", "daemon", false),
        ];
        for (socket, gid, reached) in cases {
            let out = virsh_as_nobody(&d.dir.join(socket), gid, &home);
            let (stdout, stderr) = (rule(&out.stdout), rule(&out.stderr));
            assert_eq!(out.ok, reached, "{} {socket} {gid}: {stderr}", d.name);
            if reached {
                assert_eq!(stdout.trim(), "running", "{}", d.name);
            } else {
                let denied =
                    format!("Failed to connect socket to '<DIR>/{socket}': Permission denied");
                assert!(stderr.contains(&denied), "{}: {stderr}", d.name);
            }
            runs.push((out.ok, stdout, stderr));
        }
        outputs.push(runs);
    }
    if outputs.len() == 2 {
        assert_eq!(outputs[0], outputs[1], "rvirtd vs libvirtd");
    }
}
