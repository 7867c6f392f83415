//! The client's side: `remoteAuthSASL` in libvirt's remote driver. One
//! SASL callback is registered per credential type the application
//! offers, each without a function, so Cyrus answers SASL_INTERACT with
//! everything it needs at once; the answers come from the auth file, then
//! the application's callback ([`super::auth`]).

use super::auth::{self, AuthConfig, CredType, Credential};
use super::{auth_failed, c_string, check_new, errstring, in_ptr, lock, out_bytes, Conn, Progress};
use crate::client::Client;
use rvirt_rpc::remote::{AuthSaslStartArgs, AuthSaslStepArgs, RemoteCalls};
use rvirt_util::Result;
use sasl2_sys::prelude::*;
use std::ffi::{c_char, c_uint, c_ulong, CString};
use std::net::SocketAddr;
use std::ptr;
use std::sync::OnceLock;

/// What SASL is told about the channel under it.
#[derive(Clone, Debug, Default)]
pub struct Channel {
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
    /// The TLS cipher's key size in bits, over TLS.
    pub tls_bits: Option<u32>,
}

/// Where the connection goes, for SASL and the auth file.
pub struct Target<'a> {
    /// The server's host name (`priv->hostname`, Cyrus's serverFQDN).
    pub hostname: &'a str,
    /// `VIR_URI_SERVER`: the URI's host, "localhost" when it has none.
    pub uri_server: &'a str,
    /// The URI's `authfile` parameter.
    pub authfile: Option<&'a str>,
    /// TLS or a UNIX socket (`priv->is_secure`).
    pub secure: bool,
}

static CLIENT_INIT: OnceLock<i32> = OnceLock::new();

fn client_init() -> Result<()> {
    let err = *CLIENT_INIT.get_or_init(|| {
        let _g = lock();
        // SAFETY: once per process, under the library lock.
        unsafe { sasl_client_init(ptr::null()) }
    });
    if err != SASL_OK {
        return Err(auth_failed(format!(
            "failed to initialize SASL library: {err} ({})",
            errstring(err)
        )));
    }
    Ok(())
}

fn sasl_id(t: CredType) -> Option<c_ulong> {
    Some(match t {
        CredType::Username => SASL_CB_USER,
        CredType::Authname => SASL_CB_AUTHNAME,
        CredType::Language => SASL_CB_LANGUAGE,
        CredType::Cnonce => SASL_CB_CNONCE,
        CredType::Passphrase => SASL_CB_PASS,
        CredType::EchoPrompt => SASL_CB_ECHOPROMPT,
        CredType::NoEchoPrompt => SASL_CB_NOECHOPROMPT,
        CredType::Realm => SASL_CB_GETREALM,
        CredType::External => return None,
    })
}

fn cred_type(id: c_ulong) -> Option<CredType> {
    [
        CredType::Username,
        CredType::Authname,
        CredType::Language,
        CredType::Cnonce,
        CredType::Passphrase,
        CredType::EchoPrompt,
        CredType::NoEchoPrompt,
        CredType::Realm,
    ]
    .into_iter()
    .find(|t| sasl_id(*t) == Some(id))
}

/// The auth file's name for a SASL credential (`remoteAuthFillFromConfig`).
fn config_name(id: c_ulong) -> Option<&'static str> {
    match id {
        SASL_CB_USER => Some("username"),
        SASL_CB_AUTHNAME => Some("authname"),
        SASL_CB_PASS => Some("password"),
        SASL_CB_GETREALM => Some("realm"),
        _ => None,
    }
}

/// A client `sasl_conn_t` with its callbacks and the answers Cyrus
/// points at until its next call.
struct ClientSession {
    conn: Conn,
    _callbacks: Vec<sasl_callback_t>,
    interact: *mut sasl_interact_t,
    answers: Vec<CString>,
}

impl ClientSession {
    fn new(hostname: &str, chan: &Channel, types: Option<&[CredType]>) -> Result<ClientSession> {
        client_init()?;
        let mut callbacks: Vec<sasl_callback_t> = types
            .unwrap_or_default()
            .iter()
            .filter_map(|t| sasl_id(*t))
            .map(|id| sasl_callback_t {
                id,
                proc_: None,
                context: ptr::null_mut(),
            })
            .collect();
        callbacks.push(sasl_callback_t {
            id: SASL_CB_LIST_END,
            proc_: None,
            context: ptr::null_mut(),
        });
        let service = c_string(super::SERVICE)?;
        let host = c_string(hostname)?;
        let local = super::sasl_addr(chan.local)
            .map(|a| c_string(&a))
            .transpose()?;
        let remote = super::sasl_addr(chan.remote)
            .map(|a| c_string(&a))
            .transpose()?;
        let opt = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        let cbs = if types.is_some() {
            callbacks.as_ptr()
        } else {
            ptr::null()
        };
        let mut raw = ptr::null_mut();
        let _g = lock();
        // SAFETY: the strings outlive the call (Cyrus copies them); the
        // callbacks live as long as the conn (kept in the session).
        let err = unsafe {
            sasl_client_new(
                service.as_ptr(),
                host.as_ptr(),
                opt(&local),
                opt(&remote),
                cbs,
                SASL_SUCCESS_DATA,
                &mut raw,
            )
        };
        Ok(ClientSession {
            conn: check_new(err, raw)?,
            _callbacks: callbacks,
            interact: ptr::null_mut(),
            answers: Vec::new(),
        })
    }

    /// `sasl_client_start`: the progress, the first data and the mechanism.
    fn start(&mut self, mechlist: &str) -> Result<(Progress, Option<Vec<u8>>, String)> {
        let list = c_string(mechlist)?;
        let (mut out, mut outlen): (*const c_char, c_uint) = (ptr::null(), 0);
        let mut mech: *const c_char = ptr::null();
        let _g = lock();
        // SAFETY: list outlives the call; out and mech belong to the conn.
        let err = unsafe {
            sasl_client_start(
                self.conn.raw,
                list.as_ptr(),
                &mut self.interact,
                &mut out,
                &mut outlen,
                &mut mech,
            )
        };
        let progress = self.conn.progress(err, "start")?;
        // SAFETY: on success these are NULL or valid as Cyrus documents.
        let data = unsafe { out_bytes(out, outlen) };
        let mech = unsafe { super::cstr(mech) }.unwrap_or_default();
        Ok((progress, data, mech))
    }

    /// `sasl_client_step`.
    fn step(&mut self, data: Option<&[u8]>) -> Result<(Progress, Option<Vec<u8>>)> {
        let (inp, inlen) = in_ptr(data)?;
        let (mut out, mut outlen): (*const c_char, c_uint) = (ptr::null(), 0);
        let _g = lock();
        // SAFETY: input valid for inlen bytes; output owned by the conn.
        let err = unsafe {
            sasl_client_step(
                self.conn.raw,
                inp,
                inlen,
                &mut self.interact,
                &mut out,
                &mut outlen,
            )
        };
        let progress = self.conn.progress(err, "step")?;
        // SAFETY: as in start.
        Ok((progress, unsafe { out_bytes(out, outlen) }))
    }

    /// The prompts Cyrus left unanswered, as (index, id, prompt,
    /// challenge, default).
    fn prompts(&self) -> Vec<(usize, c_ulong, Credential)> {
        let mut out = Vec::new();
        if self.interact.is_null() {
            return out;
        }
        for i in 0.. {
            // SAFETY: Cyrus's array ends with an entry of id 0 (LIST_END).
            let it = unsafe { &*self.interact.add(i) };
            if it.id == SASL_CB_LIST_END {
                break;
            }
            if !it.result.is_null() {
                continue;
            }
            // SAFETY: the strings are Cyrus's, NULL or NUL-terminated.
            let text = |p| unsafe { super::cstr(p) };
            let kind = cred_type(it.id).unwrap_or(CredType::External);
            out.push((
                i,
                it.id,
                Credential {
                    kind,
                    prompt: text(it.prompt).unwrap_or_default(),
                    challenge: text(it.challenge),
                    defresult: text(it.defresult),
                    result: None,
                },
            ));
        }
        out
    }

    /// Point Cyrus's prompt `index` at `value` (kept until the next call).
    fn answer(&mut self, index: usize, value: &str) -> Result<()> {
        let c = c_string(value)?;
        // SAFETY: index came from prompts(); the CString's buffer stays
        // put while it is in self.answers.
        unsafe {
            let it = &mut *self.interact.add(index);
            it.result = c.as_ptr() as *const _;
            it.len = value.len() as c_uint;
        }
        self.answers.push(c);
        Ok(())
    }

    /// `remoteAuthInteract`: the auth file first, then the callback.
    fn interact(&mut self, target: &Target, config: &mut Option<AuthConfig>) -> Result<()> {
        self.answers.clear();
        if config.is_none() {
            if let Some(path) = auth::config_file_path(target.authfile) {
                *config = Some(AuthConfig::load(&path)?);
            }
        }
        if let Some(cfg) = config.as_ref() {
            for (i, id, _) in self.prompts() {
                let Some(name) = config_name(id) else {
                    continue;
                };
                if let Some(v) = cfg.lookup(super::SERVICE, target.uri_server, name)? {
                    self.answer(i, &v)?;
                }
            }
        }
        let prompts = self.prompts();
        if prompts.is_empty() {
            return Ok(());
        }
        if prompts.iter().any(|(_, _, c)| c.kind == CredType::External) {
            return Err(auth_failed("Failed to make auth credentials"));
        }
        let Some(app) = auth::current() else {
            return Err(auth_failed("No authentication callback available"));
        };
        let mut creds: Vec<Credential> = prompts.iter().map(|p| p.2.clone()).collect();
        if (app.callback)(&mut creds).is_err() {
            return Err(auth_failed("Failed to collect auth credentials"));
        }
        for ((i, _, _), cred) in prompts.iter().zip(creds) {
            self.answer(*i, cred.result.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }
}

fn to_i8(data: Option<Vec<u8>>) -> (i32, Vec<i8>) {
    match data {
        None => (1, Vec::new()),
        Some(d) => (0, d.into_iter().map(|b| b as i8).collect()),
    }
}

fn from_i8(nil: i32, data: Vec<i8>) -> Option<Vec<u8>> {
    (nil == 0).then(|| data.into_iter().map(|b| b as u8).collect())
}

fn check_len(data: &Option<Vec<u8>>) -> Result<()> {
    match data {
        Some(d) if d.len() > super::DATA_MAX => Err(auth_failed(format!(
            "SASL negotiation data too long: {} bytes",
            d.len()
        ))),
        _ => Ok(()),
    }
}

/// `remoteAuthSASL`: negotiate with the server until both ends are done.
pub fn authenticate(
    client: &Client,
    chan: &Channel,
    target: &Target,
    wantmech: Option<&str>,
) -> Result<()> {
    let app = auth::current();
    let types = app.as_ref().map(|a| a.types.clone());
    let mut s = ClientSession::new(target.hostname, chan, types.as_deref())?;
    if let Some(bits) = chan.tls_bits {
        s.conn.set_external_ssf(bits)?;
    }
    // A secure channel needs no SSF; otherwise nothing weaker than DES and
    // no anonymous or plain-text mechanism.
    let (min, max) = if target.secure {
        (0, 0)
    } else {
        (super::MIN_SSF_INSECURE, 100_000)
    };
    s.conn.set_sec_props(min, max, target.secure)?;
    let init = client.call_auth_sasl_init()?;
    let mut mechlist = init.mechlist;
    if let Some(want) = wantmech {
        if !mechlist.contains(want) {
            return Err(auth_failed(format!(
                "SASL mechanism {want} not supported by server"
            )));
        }
        mechlist = want.to_string();
    }
    let mut config = None;
    // Cyrus names the mechanism on the call that chooses it; a call that
    // continues after an interaction leaves it as it was.
    let mut mech = String::new();
    let (mut progress, out) = loop {
        let (p, out, chosen) = s.start(&mechlist)?;
        if !chosen.is_empty() {
            mech = chosen;
        }
        if p != Progress::Interact {
            break (p, out);
        }
        s.interact(target, &mut config)?;
    };
    check_len(&out)?;
    let (nil, data) = to_i8(out);
    let ret = client.call_auth_sasl_start(&AuthSaslStartArgs { mech, nil, data })?;
    let mut complete = ret.complete != 0;
    let mut serverin = from_i8(ret.nil, ret.data);
    if !(complete && progress == Progress::Complete) {
        // The client always steps at least once: mutual authentication.
        loop {
            let (p, out) = s.step(serverin.as_deref())?;
            if p == Progress::Interact {
                s.interact(target, &mut config)?;
                continue;
            }
            progress = p;
            if complete && progress == Progress::Complete {
                break;
            }
            check_len(&out)?;
            let (nil, data) = to_i8(out);
            let ret = client.call_auth_sasl_step(&AuthSaslStepArgs { nil, data })?;
            complete = ret.complete != 0;
            serverin = from_i8(ret.nil, ret.data);
            if complete && progress == Progress::Complete {
                break;
            }
        }
    }
    if !target.secure {
        let ssf = s.conn.ssf()?;
        if ssf < super::MIN_SSF_INSECURE {
            return Err(auth_failed(format!(
                "negotiation SSF {ssf} was not strong enough"
            )));
        }
        // rvirt has no SASL security layer to wrap the channel in.
        return Err(auth_failed(format!(
            "SASL negotiated a security layer (SSF {ssf}), which rvirt does not implement: \
             use TLS (+tls) or a UNIX socket for SASL"
        )));
    }
    tracing::debug!("SASL authentication complete");
    Ok(())
}
