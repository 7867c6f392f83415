//! How a listener's clients authenticate (`virNetServerServiceAuthMethods`)
//! and one client's progress through it: AUTH_LIST's answer and the SASL
//! procedures of remote_daemon_dispatch.c (`remoteDispatchAuthSasl*`,
//! `remoteSASLFinish`). Until a client is authenticated, every procedure
//! but these answers "authentication required" (virnetserverprogram.c).
//!
//! SASL runs only where the channel is secure already (a UNIX socket, or
//! TLS whose cipher strength SASL is told as its external SSF), with
//! `max_ssf = 0`: rvirtd has no SASL security layer, which libvirt needs
//! on plain TCP, so `auth_tcp = "sasl"` is refused when the daemon starts.

use parking_lot::Mutex;
use rvirt_driver_remote::sasl::server::{ServerContext, ServerSession};
use rvirt_rpc::remote::{AUTH_NONE, AUTH_POLKIT, AUTH_SASL};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;

/// `virNetServerServiceAuthMethods`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    None,
    Sasl,
    Polkit,
}

impl Method {
    /// A checked auth_* value ("none", "sasl" or "polkit").
    pub fn from_config(s: &str) -> Method {
        match s {
            "sasl" => Method::Sasl,
            "polkit" => Method::Polkit,
            _ => Method::None,
        }
    }

    /// `remote_auth_type`.
    pub fn wire(self) -> i32 {
        match self {
            Method::None => AUTH_NONE,
            Method::Sasl => AUTH_SASL,
            Method::Polkit => AUTH_POLKIT,
        }
    }
}

/// A listener's method, with the daemon's SASL context when it is SASL.
#[derive(Clone)]
pub struct ListenerAuth {
    pub method: Method,
    pub sasl: Option<Arc<ServerContext>>,
}

impl ListenerAuth {
    pub fn none() -> ListenerAuth {
        ListenerAuth {
            method: Method::None,
            sasl: None,
        }
    }
}

/// What SASL is told about one client's channel.
#[derive(Clone, Debug, Default)]
pub struct ChannelInfo {
    /// `ip;port` of each end (None on a UNIX socket).
    pub local: Option<String>,
    pub remote: Option<String>,
    /// The TLS cipher's key size in bits, on the TLS socket.
    pub tls_bits: Option<u32>,
}

/// One client's authentication.
pub struct ClientAuth {
    method: Method,
    ctx: Option<Arc<ServerContext>>,
    channel: ChannelInfo,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    authenticated: bool,
    sasl: Option<ServerSession>,
    /// The SASL user name once authenticated (the client's identity).
    username: Option<String>,
}

/// libvirt's answer to every failed SASL step: the reason goes to the
/// log only (`virResetLastError` before the report).
fn auth_failed() -> Error {
    Error::new(
        ErrorDomain::RPC,
        ErrorCode::AUTH_FAILED,
        "authentication failed",
    )
}

/// The SASL reply: the data (None is SASL's NULL, not "") and whether
/// the server is done.
pub struct SaslReply {
    pub data: Option<Vec<u8>>,
    pub complete: bool,
}

impl ClientAuth {
    /// A client that needs no authentication (auth "none").
    pub fn open() -> ClientAuth {
        ClientAuth::new(&ListenerAuth::none(), ChannelInfo::default())
    }

    pub fn new(listener: &ListenerAuth, channel: ChannelInfo) -> ClientAuth {
        ClientAuth {
            method: listener.method,
            ctx: listener.sasl.clone(),
            channel,
            state: Mutex::new(State {
                authenticated: listener.method == Method::None,
                ..Default::default()
            }),
        }
    }

    pub fn method(&self) -> Method {
        self.method
    }

    pub fn authenticated(&self) -> bool {
        self.state.lock().authenticated
    }

    /// The SASL identity the client proved, if any.
    pub fn username(&self) -> Option<String> {
        self.state.lock().username.clone()
    }

    /// `remoteDispatchAuthSaslInit`: a new session and its mechanisms.
    pub fn sasl_init(&self) -> Result<String> {
        let mut st = self.state.lock();
        if self.method != Method::Sasl || st.sasl.is_some() {
            tracing::error!("client tried invalid SASL init request");
            return Err(auth_failed());
        }
        let mut session = self.new_session().map_err(|e| {
            tracing::error!("SASL init failed: {}", e.message);
            auth_failed()
        })?;
        let list = session.list_mechanisms().map_err(|e| {
            tracing::error!("{}", e.message);
            auth_failed()
        })?;
        tracing::debug!("Available mechanisms for client: '{list}'");
        st.sasl = Some(session);
        Ok(list)
    }

    fn new_session(&self) -> Result<ServerSession> {
        let c = &self.channel;
        let mut s = ServerSession::new(c.local.as_deref(), c.remote.as_deref())?;
        if let Some(bits) = c.tls_bits {
            s.set_external_ssf(bits)?;
        }
        // Only secure channels reach here (auth_tcp = "sasl" is refused):
        // no SSF wanted, none allowed, as libvirt's secure case.
        s.set_sec_props(0, 0, true)?;
        Ok(s)
    }

    /// `remoteDispatchAuthSaslStart` (`mech` given) or `...Step`.
    pub fn sasl_step(&self, mech: Option<&str>, data: Option<&[u8]>) -> Result<SaslReply> {
        let mut st = self.state.lock();
        let Some(session) = st.sasl.as_mut().filter(|_| self.method == Method::Sasl) else {
            tracing::error!("client tried invalid SASL start request");
            return Err(auth_failed());
        };
        let out = match mech {
            Some(m) => session.start(m, data),
            None => session.step(data),
        };
        let result = out.and_then(|out| {
            if out.data.as_ref().is_some_and(|d| d.len() > 65536) {
                return Err(Error::new(
                    ErrorDomain::RPC,
                    ErrorCode::AUTH_FAILED,
                    "sasl reply data too long",
                ));
            }
            Ok(out)
        });
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                tracing::error!("SASL authentication failed: {}", e.message);
                st.sasl = None;
                return Err(auth_failed());
            }
        };
        if out.complete {
            if let Err(why) = self.finish(&mut st) {
                tracing::error!("{why}");
                st.sasl = None;
                return Err(auth_failed());
            }
        }
        Ok(SaslReply {
            data: out.data,
            complete: out.complete,
        })
    }

    /// `remoteSASLFinish`: the identity on the allow-list, then the client
    /// is authenticated.
    fn finish(&self, st: &mut State) -> std::result::Result<(), String> {
        let session = st.sasl.as_mut().expect("session checked by caller");
        let identity = session.username().map_err(|e| e.message)?;
        let ctx = self.ctx.as_ref().ok_or("no SASL context")?;
        if !ctx.check_identity(&identity) {
            return Err(format!("SASL client '{identity}' refused"));
        }
        tracing::info!(identity, "SASL authentication successful");
        st.authenticated = true;
        st.username = Some(identity);
        st.sasl = None;
        Ok(())
    }
}

/// "authentication required", for any other call before authentication
/// (an RPC error, not AUTH_FAILED, for old clients).
pub fn required() -> Error {
    Error::raw(ErrorDomain::RPC, ErrorCode::RPC, "authentication required")
}
