//! A client that holds a connection open for as long as a test needs it
//! (python3-libvirt in a child process), makes a call when asked, and says
//! whether it worked: what `client-disconnect` tests drop and probe.

use crate::tools::PYTHON3;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const SCRIPT: &str = r#"
import sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
uri, mode = sys.argv[1], sys.argv[2]
if mode == "ro":
    c = libvirt.openReadOnly(uri)
elif mode == "auth":
    # Credentials from LIBVIRT_AUTH_FILE only: the callback refuses.
    creds = [libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE]
    c = libvirt.openAuth(uri, [creds, lambda *a: -1, None], 0)
else:
    c = libvirt.open(uri)
print("ready", flush=True)
for line in sys.stdin:
    try:
        c.listAllDomains()
        print("ok", flush=True)
    except libvirt.libvirtError as e:
        print("error %d %d %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message()), flush=True)
"#;

/// A python3-libvirt connection held open; killed (by its PID) on drop.
pub struct HeldClient {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl HeldClient {
    /// Open `uri` (read-only when asked) and wait until it is connected.
    pub fn open(uri: &str, readonly: bool) -> HeldClient {
        HeldClient::spawn(uri, if readonly { "ro" } else { "rw" }, None)
    }

    /// Open `uri` read-write, authenticating (SASL) with the credentials
    /// of libvirt's auth file `auth_file` (`LIBVIRT_AUTH_FILE`).
    pub fn open_authenticated(uri: &str, auth_file: &std::path::Path) -> HeldClient {
        HeldClient::spawn(uri, "auth", Some(auth_file))
    }

    fn spawn(uri: &str, mode: &str, auth_file: Option<&std::path::Path>) -> HeldClient {
        let mut cmd = Command::new(PYTHON3);
        if let Some(file) = auth_file {
            cmd.env("LIBVIRT_AUTH_FILE", file);
        }
        let mut child = cmd
            .args(["-c", SCRIPT, uri, mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn python3");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut held = HeldClient {
            child,
            stdin,
            stdout,
        };
        let first = held.line();
        assert_eq!(first, "ready", "python3-libvirt did not connect to {uri}");
        held
    }

    /// The client's PID (what `client-info` shows as `unix_process_id`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Make one call (`listAllDomains`): `ok`, or `error CODE DOMAIN MESSAGE`.
    pub fn call(&mut self) -> String {
        if writeln!(self.stdin, "call").is_err() {
            return "exited".into();
        }
        let _ = self.stdin.flush();
        self.line()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) | Err(_) => "exited".into(),
            Ok(_) => line.trim_end().to_string(),
        }
    }
}

impl Drop for HeldClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
