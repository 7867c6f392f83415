//! The daemon's side: `virNetSASLContextNewServer` (the username ACL) and
//! a session per authenticating client (`virNetSASLSessionNewServer`,
//! `ServerStart`/`ServerStep`, `ListMechanisms`).

use super::{
    auth_failed, c_string, check_new, errstring, in_ptr, internal, lock, out_bytes, Conn, Progress,
};
use crate::tls::x509::glob_match;
use rvirt_util::Result;
use sasl2_sys::prelude::*;
use std::ffi::{c_char, c_uint, CStr};
use std::ptr;
use std::sync::OnceLock;

/// The result of the one `sasl_server_init` of the process.
static SERVER_INIT: OnceLock<i32> = OnceLock::new();

/// `sasl_server_init(NULL, "libvirt")`, once per process: Cyrus reads
/// `libvirt.conf` (mech_list, sasldb_path) from `SASL_CONF_PATH` or its
/// built-in directories.
fn server_init() -> Result<()> {
    let err = *SERVER_INIT.get_or_init(|| {
        let _g = lock();
        // Cyrus keeps the appname pointer: a static string.
        static APP: &CStr = c"libvirt";
        // SAFETY: called once, under the library lock.
        unsafe { sasl_server_init(ptr::null(), APP.as_ptr()) }
    });
    if err != SASL_OK {
        return Err(auth_failed(format!(
            "failed to initialize SASL library: {err} ({})",
            errstring(err)
        )));
    }
    Ok(())
}

/// The daemon's SASL settings (`sasl_allowed_username_list`).
#[derive(Clone, Debug, Default)]
pub struct ServerContext {
    pub username_acl: Option<Vec<String>>,
}

impl ServerContext {
    /// Initialise the library (libvirtd does it while it starts).
    pub fn new(username_acl: Option<Vec<String>>) -> Result<ServerContext> {
        server_init()?;
        Ok(ServerContext { username_acl })
    }

    /// `virNetSASLContextCheckIdentity`: no list allows anyone; otherwise
    /// the identity must match one of GLib's simple patterns.
    pub fn check_identity(&self, identity: &str) -> bool {
        let Some(acl) = &self.username_acl else {
            return true;
        };
        if acl.iter().any(|p| glob_match(p, identity)) {
            return true;
        }
        tracing::error!("SASL client identity '{identity}' not allowed by ACL");
        false
    }
}

/// One client's authentication in progress.
pub struct ServerSession {
    conn: Conn,
    /// Whether `sasl_server_start` ran: Cyrus SASL dereferences the chosen
    /// mechanism in `sasl_server_step`, so a step before any start (a
    /// client's AUTH_SASL_STEP sent first) would crash the daemon.
    started: bool,
}

/// What a start or step returns to the client.
#[derive(Debug)]
pub struct ServerOut {
    pub data: Option<Vec<u8>>,
    pub complete: bool,
}

impl ServerSession {
    /// `sasl_server_new("libvirt", NULL, NULL, local, remote, NULL,
    /// SASL_SUCCESS_DATA)`; addresses are `ip;port` (None on UNIX).
    pub fn new(local: Option<&str>, remote: Option<&str>) -> Result<ServerSession> {
        server_init()?;
        let service = c_string(super::SERVICE)?;
        let local = local.map(c_string).transpose()?;
        let remote = remote.map(c_string).transpose()?;
        let opt = |s: &Option<std::ffi::CString>| s.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        let mut raw = ptr::null_mut();
        let _g = lock();
        // SAFETY: all strings outlive the call; raw receives the new conn.
        let err = unsafe {
            sasl_server_new(
                service.as_ptr(),
                ptr::null(),
                ptr::null(),
                opt(&local),
                opt(&remote),
                ptr::null(),
                SASL_SUCCESS_DATA,
                &mut raw,
            )
        };
        Ok(ServerSession {
            conn: check_new(err, raw)?,
            started: false,
        })
    }

    pub fn set_external_ssf(&mut self, ssf: u32) -> Result<()> {
        self.conn.set_external_ssf(ssf)
    }

    pub fn set_sec_props(&mut self, min_ssf: u32, max_ssf: u32, anonymous: bool) -> Result<()> {
        self.conn.set_sec_props(min_ssf, max_ssf, anonymous)
    }

    /// `virNetSASLSessionListMechanisms`: comma-separated.
    pub fn list_mechanisms(&mut self) -> Result<String> {
        let _g = lock();
        let mut out: *const c_char = ptr::null();
        let sep = c_string(",")?;
        let empty = c_string("")?;
        // SAFETY: the result string belongs to the conn until its next call.
        let err = unsafe {
            sasl_listmech(
                self.conn.raw,
                ptr::null(),
                empty.as_ptr(),
                sep.as_ptr(),
                empty.as_ptr(),
                &mut out,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if err != SASL_OK {
            return Err(internal(format!(
                "cannot list SASL mechanisms {err} ({})",
                self.conn.detail()
            )));
        }
        // SAFETY: on SASL_OK out is the conn's NUL-terminated list.
        let list = unsafe { super::cstr(out) }.unwrap_or_default();
        if list.is_empty() {
            return Err(internal("no SASL mechanisms are available"));
        }
        Ok(list)
    }

    /// `sasl_server_start`.
    pub fn start(&mut self, mech: &str, data: Option<&[u8]>) -> Result<ServerOut> {
        if self.started {
            return Err(internal("SASL authentication already started"));
        }
        self.started = true;
        let mech = c_string(mech)?;
        let (inp, inlen) = in_ptr(data)?;
        let (mut out, mut outlen): (*const c_char, c_uint) = (ptr::null(), 0);
        let _g = lock();
        // SAFETY: input valid for inlen bytes; output owned by the conn.
        let err = unsafe {
            sasl_server_start(
                self.conn.raw,
                mech.as_ptr(),
                inp,
                inlen,
                &mut out,
                &mut outlen,
            )
        };
        self.finish(err, out, outlen)
    }

    /// `sasl_server_step`.
    pub fn step(&mut self, data: Option<&[u8]>) -> Result<ServerOut> {
        if !self.started {
            return Err(internal("SASL step before start"));
        }
        let (inp, inlen) = in_ptr(data)?;
        let (mut out, mut outlen): (*const c_char, c_uint) = (ptr::null(), 0);
        let _g = lock();
        // SAFETY: as in start.
        let err = unsafe { sasl_server_step(self.conn.raw, inp, inlen, &mut out, &mut outlen) };
        self.finish(err, out, outlen)
    }

    fn finish(&self, err: i32, out: *const c_char, outlen: c_uint) -> Result<ServerOut> {
        let progress = self.conn.progress(err, "start")?;
        // SAFETY: on success out is NULL or valid for outlen bytes.
        let data = unsafe { out_bytes(out, outlen) };
        Ok(ServerOut {
            data,
            complete: progress == Progress::Complete,
        })
    }

    /// The SSF negotiated.
    pub fn ssf(&mut self) -> Result<u32> {
        self.conn.ssf()
    }

    /// The authenticated user name.
    pub fn username(&mut self) -> Result<String> {
        self.conn.username()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hostile client's AUTH_SASL_STEP before any START is an error,
    /// not a NULL mechanism dereferenced inside Cyrus SASL.
    #[test]
    fn a_step_before_start_is_refused() {
        let mut s = ServerSession::new(Some("127.0.0.1;16514"), Some("127.0.0.1;40000"))
            .expect("a SASL server session");
        assert!(s.step(Some(b"junk")).is_err());
        assert!(s.step(None).is_err());
    }

    /// A second START on the same session is refused too.
    #[test]
    fn a_second_start_is_refused() {
        let mut s = ServerSession::new(None, None).expect("a SASL server session");
        let _ = s.start("SCRAM-SHA-256", Some(b"n,,n=u,r=abc"));
        assert!(s.start("SCRAM-SHA-256", None).is_err());
    }
}
