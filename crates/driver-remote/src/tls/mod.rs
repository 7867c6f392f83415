//! TLS for the remote driver (`+tls` URIs) and, through the same context
//! and checks, for rvirtd's TLS listener: libvirt's `virNetTLSContext` and
//! `virNetTLSSession` over rustls.
//!
//! `tls_priority` (GnuTLS priority strings) selects among the versions,
//! suites and groups rustls has ([`priority`]).

pub mod context;
pub mod priority;
mod stream;
pub mod verify;
pub mod x509;

pub use context::{CredentialPaths, Policy, TlsContext};
pub use stream::TlsStream;

use rustls::pki_types::ServerName;
use rustls::ClientConnection;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::Read;
use std::net::TcpStream;
use std::path::Path;

/// The URI's TLS options (`doRemoteOpen`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// The URI's host: checked against the server's certificate.
    pub host: String,
    pub pkipath: Option<String>,
    pub no_verify: bool,
    pub no_sanity: bool,
    pub priority: Option<String>,
}

fn is_root() -> bool {
    nix_geteuid() == 0
}

fn nix_geteuid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

fn auth_failed(text: String) -> Error {
    Error::new(ErrorDomain::RPC, ErrorCode::AUTH_FAILED, text)
}

/// The client's TLS context (`virNetTLSContextNewClientPath`), made
/// before connecting as `doRemoteOpen` does, so missing credentials are
/// reported first.
fn client_context(opts: &TlsOptions) -> Result<TlsContext> {
    let paths = CredentialPaths::locate(opts.pkipath.as_deref().map(Path::new), !is_root(), false);
    TlsContext::new(
        &paths,
        Policy {
            is_server: false,
            sanity_check: !opts.no_sanity,
            require_valid: !opts.no_verify,
            dn_acl: None,
        },
    )
}

/// `virNetClientSetTLSSession`: handshake, check the server's certificate,
/// then wait for the server's verdict on ours (its '\1' byte, or a closed
/// connection).
fn handshake(tcp: TcpStream, ctx: &TlsContext, opts: &TlsOptions) -> Result<TlsStream> {
    let config = verify::client_config(ctx, opts.priority.as_deref())?;
    // The name only selects SNI here; the certificate's owner is checked
    // against the URI's host afterwards, as libvirt does.
    let name = ServerName::try_from(opts.host.trim_matches(['[', ']']).to_string())
        .unwrap_or_else(|_| ServerName::try_from("localhost").expect("valid name"));
    let mut session = ClientConnection::new(config, name)
        .map_err(|e| auth_failed(format!("Failed to initialize TLS session: {e}")))?;
    let mut tcp = tcp;
    while session.is_handshaking() {
        session
            .complete_io(&mut tcp)
            .map_err(|e| auth_failed(format!("TLS handshake failed {e}")))?;
    }
    ctx.check_certificate(session.peer_certificates(), Some(&opts.host))?;
    let mut stream = TlsStream::new(tcp, session)
        .map_err(|e| Error::system(ErrorDomain::RPC, "Unable to read TLS confirmation", &e))?;
    let mut confirm = [0u8; 1];
    match stream.read(&mut confirm) {
        Ok(1) if confirm[0] == 1 => Ok(stream),
        Ok(_) => Err(Error::new(
            ErrorDomain::RPC,
            ErrorCode::RPC,
            "server verification (of our certificate or IP address) failed",
        )),
        // A refusing server just closes the socket; GnuTLS reports that
        // premature end (and any other failure) as EIO to libvirt.
        Err(_) => Err(Error::system(
            ErrorDomain::RPC,
            "Unable to read TLS confirmation",
            &std::io::Error::from_raw_os_error(5),
        )),
    }
}

/// Connect with `connect`, under TLS when the target asks for it.
pub fn secure(
    target: &crate::Target,
    connect: impl FnOnce() -> Result<crate::client::Sock>,
) -> Result<crate::client::Sock> {
    use crate::client::Sock;
    let Some(opts) = &target.tls else {
        return connect();
    };
    let ctx = client_context(opts)?;
    match connect()? {
        Sock::Tcp(tcp) => Ok(Sock::Tls(handshake(tcp, &ctx, opts)?)),
        sock => Ok(sock),
    }
}

/// The negotiated cipher's key size in bits, what libvirt reads with
/// `gnutls_cipher_get_key_size` (x8) and gives SASL as its external SSF.
pub fn cipher_key_bits(suite: Option<rustls::SupportedCipherSuite>) -> u32 {
    let Some(suite) = suite else { return 0 };
    let name = format!("{:?}", suite.suite());
    if name.contains("AES_128") {
        128
    } else if name.contains("AES_256") || name.contains("CHACHA20") {
        256
    } else {
        0
    }
}
