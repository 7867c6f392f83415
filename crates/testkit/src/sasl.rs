//! A private SASL setup as libvirt's docs describe it: a Cyrus
//! application config `libvirt.conf` (`mech_list: scram-sha-256`,
//! `sasldb_path`) in a directory given to daemons as `SASL_CONF_PATH`
//! (so the host's /etc/sasl2 is untouched), and users added with
//! `saslpasswd2` (Debian's sasl2-bin), and an auth file for clients
//! (`LIBVIRT_AUTH_FILE`).

use crate::dirs::TempDir;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Whether `saslpasswd2` is installed; says why not on stderr.
pub fn have_saslpasswd2() -> bool {
    let ok = Command::new("saslpasswd2")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("saslpasswd2 not installed (sasl2-bin, scripts/install-deps.sh): skipping");
    }
    ok
}

/// A SASL config directory and its password database.
pub struct SaslDb {
    dir: TempDir,
}

impl SaslDb {
    /// `libvirt.conf` offering `mechs` (Cyrus's `mech_list` syntax).
    pub fn new(mechs: &str) -> SaslDb {
        let dir = TempDir::new("sasl");
        let conf = format!(
            "mech_list: {mechs}\nsasldb_path: {}\n",
            dir.join("passwd.db").display()
        );
        dir.write("libvirt.conf", conf);
        SaslDb { dir }
    }

    /// The directory to pass as `SASL_CONF_PATH`.
    pub fn conf_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The environment a daemon reads this config with.
    pub fn env(&self) -> [(&'static str, &Path); 1] {
        [("SASL_CONF_PATH", self.conf_dir())]
    }

    pub fn db(&self) -> PathBuf {
        self.dir.join("passwd.db")
    }

    /// `saslpasswd2 -a libvirt -f DB -c -p USER` with the password on stdin.
    pub fn add_user(&self, user: &str, password: &str) {
        let mut child = Command::new("saslpasswd2")
            .args(["-a", "libvirt", "-f"])
            .arg(self.db())
            .args(["-c", "-p", user])
            .stdin(Stdio::piped())
            .spawn()
            .expect("run saslpasswd2");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(password.as_bytes())
            .expect("password to saslpasswd2");
        let status = child.wait().expect("saslpasswd2");
        assert!(status.success(), "saslpasswd2 failed for {user}");
    }

    /// An auth file (libvirt's auth.conf) giving `user`/`password` for
    /// every host; its path, for `LIBVIRT_AUTH_FILE`.
    pub fn auth_file(&self, name: &str, user: &str, password: &str) -> PathBuf {
        self.dir.write(
            name,
            format!(
                "[credentials-test]\nauthname={user}\npassword={password}\n\n\
                 [auth-libvirt-default]\ncredentials=test\n"
            ),
        )
    }

    /// An auth file with no credentials (so clients prompt).
    pub fn auth_file_empty(&self) -> PathBuf {
        self.dir.write("empty-auth.conf", "")
    }
}
