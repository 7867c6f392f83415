//! The shell's control state (virsh's `vshControl`): the connection, opened
//! lazily by the first command that needs one, and output helpers that keep
//! virsh's stdout/stderr split.

use rvirt::{Connect, Domain, Error};
use std::io::Write;

pub struct Ctl {
    pub uri: Option<String>,
    pub read_only: bool,
    pub quiet: bool,
    conn: Option<Connect>,
}

/// How a command failed: virsh's own words (if any), then libvirt's error
/// (if any), each printed as `error: ...`.
#[derive(Debug, Default)]
pub struct CmdError {
    pub own: Option<String>,
    /// Boxed: libvirt errors are large and commands return this often.
    pub libvirt: Option<Box<Error>>,
}

impl CmdError {
    pub fn msg(text: impl Into<String>) -> CmdError {
        CmdError {
            own: Some(text.into()),
            libvirt: None,
        }
    }
    pub fn with(text: impl Into<String>, err: Error) -> CmdError {
        CmdError {
            own: Some(text.into()),
            libvirt: Some(Box::new(err)),
        }
    }
}

impl From<Error> for CmdError {
    fn from(err: Error) -> CmdError {
        CmdError {
            own: None,
            libvirt: Some(Box::new(err)),
        }
    }
}

pub type CmdResult = Result<(), CmdError>;

/// Domain lookup methods for `lookup_domain` (virsh's VIRSH_BYID/UUID/NAME).
pub const BY_ID: u8 = 1;
pub const BY_UUID: u8 = 2;
pub const BY_NAME: u8 = 4;
pub const BY_ANY: u8 = BY_ID | BY_UUID | BY_NAME;

impl Ctl {
    pub fn new(uri: Option<String>, read_only: bool, quiet: bool) -> Ctl {
        Ctl {
            uri,
            read_only,
            quiet,
            conn: None,
        }
    }

    /// The connection, opened now if there is none (virsh's
    /// virshConnectionHandler before every command that needs one): a
    /// failure is reported as two lines, and the next command tries again.
    pub fn connect(&mut self) -> bool {
        self.conn.is_some() || self.reconnect(None, false)
    }

    /// virshReconnect: close the connection, then open `name` (else the
    /// shell's URI) read-only if asked, or if reopening the shell's own
    /// URI on a read-only shell. The shell's URI becomes `name` once it
    /// opens.
    pub fn reconnect(&mut self, name: Option<&str>, read_only: bool) -> bool {
        let read_only = read_only || (name.is_none() && self.read_only);
        self.conn = None;
        let uri = match name.or(self.uri.as_deref()) {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => default_uri(),
        };
        let opened = if read_only {
            Connect::open_read_only(&uri)
        } else {
            Connect::open(&uri)
        };
        match opened {
            Ok(conn) => {
                self.conn = Some(conn);
                if let Some(n) = name {
                    self.uri = Some(n.to_string());
                }
                self.read_only = read_only;
                true
            }
            Err(e) => {
                eprintln!("error: failed to connect to the hypervisor");
                eprintln!("error: {}", e.message);
                false
            }
        }
    }

    pub fn conn(&self) -> Result<&Connect, CmdError> {
        self.conn
            .as_ref()
            .ok_or_else(|| CmdError::msg("no valid connection"))
    }

    pub fn print(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Text suppressed by `--quiet` (virsh's vshPrintExtra).
    pub fn print_extra(&self, text: &str) {
        if !self.quiet {
            self.print(text);
        }
    }

    /// virshCommandOptDomainBy: by id if numeric, by UUID if it has UUID
    /// length, then by name; one virsh error if all fail.
    pub fn lookup_domain(&self, name: &str, by: u8) -> Result<Domain, CmdError> {
        let conn = self.conn()?;
        let mut found = None;
        if by & BY_ID != 0 {
            if let Ok(id) = name.parse::<i32>() {
                if id >= 0 {
                    found = conn.lookup_by_id(id).ok();
                }
            }
        }
        if found.is_none() && by & BY_UUID != 0 && name.len() == 36 {
            found = conn.lookup_by_uuid_string(name).ok();
        }
        if found.is_none() && by & BY_NAME != 0 {
            found = conn.lookup_by_name(name).ok();
        }
        found.ok_or_else(|| CmdError::msg(format!("failed to get domain '{name}'")))
    }
}

/// The URI used when none is given: `LIBVIRT_DEFAULT_URI`, else the system
/// QEMU driver, as virsh run by root.
pub fn default_uri() -> String {
    std::env::var("VIRSH_DEFAULT_CONNECT_URI")
        .ok()
        .or_else(|| std::env::var("LIBVIRT_DEFAULT_URI").ok())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "qemu:///system".into())
}
