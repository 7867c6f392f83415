//! SASL for the remote protocol, client and server side, as libvirt's
//! `virNetSASLContext`/`virNetSASLSession` (src/rpc/virnetsaslcontext.c).
//!
//! Why Cyrus SASL through `sasl2-sys` and not a pure-Rust crate: stock
//! virsh and libvirtd use Cyrus (libsasl2), so binding the same library
//! gives byte-for-byte the mechanism list, the SCRAM-SHA-256 exchange and
//! the error behaviour they have; it reads the password database
//! `saslpasswd2` writes (sasldb) and the application config
//! (`/etc/sasl2/libvirt.conf`, or `SASL_CONF_PATH`) with no reader of our
//! own; and every mechanism the host's libsasl2-modules build is there.
//! A pure-Rust crate (rsasl) would need its own sasldb (Berkeley DB/GDBM)
//! reader and config parser and could still differ from what virsh offers.
//!
//! Cyrus is driven as libvirt drives it: the same service name
//! ("libvirt"), security properties and `SASL_SUCCESS_DATA`. rvirt does
//! not build SASL's security layer (`sasl_encode`/`sasl_decode`), so a
//! session only ever runs with `max_ssf = 0` (TLS or a UNIX socket: the
//! channel is secure already, as libvirt's own `is_secure` rule has it).
//! Every libsasl2 call is made under one process-wide lock: the library's
//! default mutex hooks are no-ops, so its global state is ours to guard.

pub mod auth;
pub mod client;
pub mod server;

use parking_lot::{Mutex, MutexGuard};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use sasl2_sys::prelude::*;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::ptr;

/// The service name libvirt gives Cyrus (so its config is `libvirt.conf`).
pub const SERVICE: &str = "libvirt";
/// `REMOTE_AUTH_SASL_DATA_MAX`.
pub const DATA_MAX: usize = 65536;
/// libvirt's minimum SSF on a channel that is not otherwise secure.
pub const MIN_SSF_INSECURE: u32 = 56;

static LIBRARY: Mutex<()> = Mutex::new(());

pub(crate) fn lock() -> MutexGuard<'static, ()> {
    LIBRARY.lock()
}

/// `sasl_errstring`: Cyrus's text for a result code.
pub(crate) fn errstring(err: c_int) -> String {
    // SAFETY: sasl_errstring returns a static string (or NULL).
    unsafe { cstr(sasl_errstring(err, ptr::null(), ptr::null_mut())) }.unwrap_or_default()
}

/// A borrowed C string as an owned String (None for NULL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
pub(crate) unsafe fn cstr(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// `virReportError(VIR_ERR_AUTH_FAILED, ...)`.
pub(crate) fn auth_failed(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::RPC, ErrorCode::AUTH_FAILED, msg)
}

fn internal(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::RPC, ErrorCode::INTERNAL_ERROR, msg)
}

pub(crate) fn c_string(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| auth_failed(format!("invalid SASL string '{s}'")))
}

/// One `sasl_conn_t`, disposed of when dropped.
pub(crate) struct Conn {
    raw: *mut sasl_conn_t,
}

// SAFETY: a sasl_conn_t is not tied to the thread that made it; every use
// goes through `&mut self` (so one thread at a time) under the library lock.
unsafe impl Send for Conn {}

impl Drop for Conn {
    fn drop(&mut self) {
        let _g = lock();
        // SAFETY: raw came from sasl_{client,server}_new and is disposed once.
        unsafe { sasl_dispose(&mut self.raw) };
    }
}

/// The connection `sasl_client_new` / `sasl_server_new` made, or
/// libvirt's refusal (which names the client context for both ends).
pub(crate) fn check_new(err: c_int, raw: *mut sasl_conn_t) -> Result<Conn> {
    if err != SASL_OK {
        return Err(auth_failed(format!(
            "Failed to create SASL client context: {err} ({})",
            errstring(err)
        )));
    }
    Ok(Conn { raw })
}

/// What a start or step left to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    Complete,
    Continue,
    Interact,
}

impl Conn {
    fn detail(&self) -> String {
        // SAFETY: conn is live; the detail string belongs to it.
        unsafe { cstr(sasl_errdetail(self.raw)) }.unwrap_or_default()
    }

    /// `virNetSASLSessionExtKeySize`: the TLS layer's strength in bits.
    pub fn set_external_ssf(&mut self, ssf: u32) -> Result<()> {
        let ssf: sasl_ssf_t = ssf;
        // SASL_SSF_EXTERNAL takes a sasl_ssf_t.
        self.set_prop(SASL_SSF_EXTERNAL as c_int, &ssf, "external SSF")
    }

    /// `virNetSASLSessionSecProps`.
    pub fn set_sec_props(&mut self, min_ssf: u32, max_ssf: u32, anonymous: bool) -> Result<()> {
        let props = sasl_security_properties_t {
            min_ssf,
            max_ssf,
            maxbufsize: 1 << 16,
            security_flags: if anonymous {
                0
            } else {
                SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT
            },
            property_names: ptr::null_mut(),
            property_values: ptr::null_mut(),
        };
        // SASL_SEC_PROPS takes the struct (and copies it).
        self.set_prop(SASL_SEC_PROPS as c_int, &props, "security props")
    }

    /// `sasl_setprop` of `prop` to `value`, which must be of the type SASL
    /// documents for `prop`; `what` names the property in the error.
    fn set_prop<T>(&mut self, prop: c_int, value: &T, what: &str) -> Result<()> {
        let _g = lock();
        // SAFETY: conn is live; `value` is the type `prop` takes (the
        // callers' contract) and outlives the call, which copies it.
        let err = unsafe { sasl_setprop(self.raw, prop, value as *const T as *const c_void) };
        if err != SASL_OK {
            return Err(internal(format!(
                "cannot set {what} {err} ({})",
                errstring(err)
            )));
        }
        Ok(())
    }

    /// `virNetSASLSessionGetKeySize`: the SSF the mechanism negotiated.
    pub fn ssf(&mut self) -> Result<u32> {
        let _g = lock();
        let mut val: *const c_void = ptr::null();
        // SAFETY: SASL_SSF yields a pointer to the conn's sasl_ssf_t.
        let err = unsafe { sasl_getprop(self.raw, SASL_SSF as c_int, &mut val) };
        if err != SASL_OK || val.is_null() {
            return Err(auth_failed(format!(
                "cannot query SASL ssf on connection {err} ({})",
                errstring(err)
            )));
        }
        // SAFETY: checked non-NULL; points at a sasl_ssf_t (unsigned).
        Ok(unsafe { *(val as *const sasl_ssf_t) })
    }

    /// `virNetSASLSessionGetIdentity`.
    pub fn username(&mut self) -> Result<String> {
        let _g = lock();
        let mut val: *const c_void = ptr::null();
        // SAFETY: SASL_USERNAME yields the conn's C string (or NULL).
        let err = unsafe { sasl_getprop(self.raw, SASL_USERNAME as c_int, &mut val) };
        if err != SASL_OK {
            return Err(auth_failed(format!(
                "cannot query SASL username on connection {err} ({})",
                errstring(err)
            )));
        }
        // SAFETY: NULL or the conn's NUL-terminated user name.
        unsafe { cstr(val as *const c_char) }
            .ok_or_else(|| auth_failed("no client username was found"))
    }

    /// Map a start/step result as virnetsaslcontext.c does; `what` is its
    /// message's verb ("start" or "step").
    fn progress(&self, err: c_int, what: &str) -> Result<Progress> {
        match err {
            SASL_OK => Ok(Progress::Complete),
            SASL_CONTINUE => Ok(Progress::Continue),
            SASL_INTERACT => Ok(Progress::Interact),
            _ => Err(auth_failed(format!(
                "Failed to {what} SASL negotiation: {err} ({})",
                self.detail()
            ))),
        }
    }
}

/// Bytes Cyrus handed out (owned by the conn until its next call) as a
/// Vec; None when it gave NULL (the distinction matters to SASL).
///
/// # Safety
/// `p` is NULL or valid for `len` bytes.
unsafe fn out_bytes(p: *const c_char, len: c_uint) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    Some(std::slice::from_raw_parts(p as *const u8, len as usize).to_vec())
}

/// A pointer and length for data that may be absent (NULL) or empty.
fn in_ptr(data: Option<&[u8]>) -> Result<(*const c_char, c_uint)> {
    match data {
        None => Ok((ptr::null(), 0)),
        Some(d) => {
            let len = c_uint::try_from(d.len()).map_err(|_| auth_failed("SASL data too long"))?;
            Ok((d.as_ptr() as *const c_char, len))
        }
    }
}

/// `host;port` as Cyrus wants addresses (`virSocketAddrFormatFull` with
/// ';'), or None for a UNIX socket.
pub fn sasl_addr(addr: Option<std::net::SocketAddr>) -> Option<String> {
    addr.map(|a| format!("{};{}", a.ip(), a.port()))
}
