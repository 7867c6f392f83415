//! How the remote driver reads a connection URI (libvirt's
//! `remoteSplitURIScheme` and the parameter handling of `doRemoteOpen`):
//! which transport, which address, and the name sent in `CONNECT_OPEN`.

use rvirt::flags;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};

/// `LIBVIRTD_TCP_PORT`.
pub const DEFAULT_TCP_PORT: u16 = 16509;
/// `LIBVIRTD_TLS_PORT`.
pub const DEFAULT_TLS_PORT: u16 = 16514;
/// The system daemon's sockets (`LOCALSTATEDIR "/run/libvirt/libvirt-sock"`).
pub const SYSTEM_SOCKET: &str = "/var/run/libvirt/libvirt-sock";
pub const SYSTEM_SOCKET_RO: &str = "/var/run/libvirt/libvirt-sock-ro";

/// `remoteDriverTransport`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tls,
    Unix,
    Ssh,
    LibSsh2,
    Ext,
    Tcp,
    LibSsh,
}

impl Transport {
    fn from_name(name: &str) -> Option<Transport> {
        Some(match name.to_ascii_lowercase().as_str() {
            "tls" => Transport::Tls,
            "unix" => Transport::Unix,
            "ssh" => Transport::Ssh,
            "libssh2" => Transport::LibSsh2,
            "ext" => Transport::Ext,
            "tcp" => Transport::Tcp,
            "libssh" => Transport::LibSsh,
            _ => return None,
        })
    }
}

/// Where to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Tcp { host: String, port: u16 },
    Unix(String),
}

/// Everything the driver needs from a URI to open a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub transport: Transport,
    pub address: Address,
    /// The URI the server is asked to open (`CONNECT_OPEN` name).
    pub name: String,
    /// For `+tls`: the credentials and checks the URI asks for.
    pub tls: Option<crate::tls::TlsOptions>,
}

/// Query parameters only the remote driver reads; they are not passed on.
const REMOTE_PARAMS: &[&str] = &[
    "name",
    "command",
    "socket",
    "auth",
    "sshauth",
    "netcat",
    "keyfile",
    "pkipath",
    "known_hosts",
    "known_hosts_verify",
    "tls_priority",
    "mode",
    "proxy",
    "no_sanity",
    "no_verify",
    "no_tty",
    "authfile",
];

/// Boolean parameters, which libvirt checks are integers.
const BOOL_PARAMS: &[&str] = &["no_sanity", "no_verify", "no_tty"];

fn remote_err(code: ErrorCode, detail: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::REMOTE, code, detail)
}

/// `remoteSplitURIScheme`: the driver and the transport. No transport means
/// TLS with a host and a UNIX socket without.
pub fn split_scheme(uri: &Uri) -> Result<(String, Transport)> {
    let driver = uri.driver().to_string();
    let transport = match uri.transport() {
        Some(t) => Transport::from_name(t).ok_or_else(|| {
            remote_err(
                ErrorCode::INVALID_ARG,
                "remote_open: transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)",
            )
        })?,
        None if uri.server.is_some() => Transport::Tls,
        None => Transport::Unix,
    };
    Ok((driver, transport))
}

/// The name sent in `CONNECT_OPEN` (`remoteConnectFormatURI`): the URI with
/// its transport, user, host and port removed and without the remote
/// driver's own parameters; `remote://` URIs let the server pick (empty).
pub fn open_name(uri: &Uri, driver: &str) -> String {
    if let Some((_, name)) = uri
        .params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("name"))
    {
        return name.clone();
    }
    if driver == "remote" {
        return String::new();
    }
    let stripped = Uri {
        scheme: driver.to_string(),
        user: None,
        server: None,
        port: None,
        path: uri.path.clone(),
        params: uri
            .params
            .iter()
            .filter(|(k, _)| !REMOTE_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p)))
            .cloned()
            .collect(),
        fragment: uri.fragment.clone(),
    };
    let mut text = stripped.to_string();
    // virURIFormat always writes the authority marker, even for an empty path.
    if !stripped.path.starts_with('/') && !text.contains("://") {
        text = text.replacen(':', "://", 1);
    }
    text
}

/// The default UNIX socket: the system daemon's, read-only or not; the
/// per-user daemon's for `/session` URIs.
fn default_socket(uri: &Uri, open_flags: u32) -> String {
    // root's session URIs use the system daemon, as libvirt's do.
    if uri.path == "/session" && !is_root() {
        let runtime = std::env::var("XDG_RUNTIME_DIR")
            .ok()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| {
                let home = std::env::var("HOME").unwrap_or_default();
                format!("{home}/.cache")
            });
        return format!("{runtime}/libvirt/libvirt-sock");
    }
    if open_flags & flags::open::RO != 0 {
        SYSTEM_SOCKET_RO.to_string()
    } else {
        SYSTEM_SOCKET.to_string()
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Resolve a URI into a [`Target`], refusing what rvirt cannot do yet (SSH,
/// external commands) with libvirt's error classes.
pub fn target(uri: &Uri, open_flags: u32) -> Result<Target> {
    let (driver, transport) = split_scheme(uri)?;
    for (k, v) in &uri.params {
        if BOOL_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p)) && v.trim().parse::<i64>().is_err()
        {
            return Err(remote_err(
                ErrorCode::INVALID_ARG,
                format!("Failed to parse value of URI component {k}"),
            ));
        }
    }
    let name = open_name(uri, &driver);
    let address = match transport {
        Transport::Tcp => Address::Tcp {
            host: uri.server.clone().unwrap_or_else(|| "localhost".into()),
            port: uri.port.unwrap_or(DEFAULT_TCP_PORT),
        },
        Transport::Unix => Address::Unix(
            uri.param("socket")
                .map(str::to_string)
                .unwrap_or_else(|| default_socket(uri, open_flags)),
        ),
        Transport::Tls => Address::Tcp {
            host: uri.server.clone().unwrap_or_else(|| "localhost".into()),
            port: uri.port.unwrap_or(DEFAULT_TLS_PORT),
        },
        Transport::Ext => {
            if uri.param("command").is_none() {
                return Err(remote_err(
                    ErrorCode::INVALID_ARG,
                    "remote_open: for 'ext' transport, command is required",
                ));
            }
            return Err(remote_err(
                ErrorCode::NO_SUPPORT,
                "ext transport is not supported by rvirt yet; use +tcp or +unix",
            ));
        }
        Transport::Ssh | Transport::LibSsh | Transport::LibSsh2 => {
            return Err(remote_err(
                ErrorCode::NO_SUPPORT,
                "SSH transports are not supported by rvirt yet; use +tcp or +unix",
            ))
        }
    };
    let tls = (transport == Transport::Tls).then(|| tls_options(uri));
    Ok(Target {
        transport,
        address,
        name,
        tls,
    })
}

/// The URI parameters of a TLS connection (`pkipath`, `no_verify`,
/// `no_sanity`, `tls_priority`); the host is checked against the server's
/// certificate.
fn tls_options(uri: &Uri) -> crate::tls::TlsOptions {
    let flag = |k: &str| {
        uri.param(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0)
            != 0
    };
    crate::tls::TlsOptions {
        host: uri.server.clone().unwrap_or_else(|| "localhost".into()),
        pkipath: uri.param("pkipath").map(str::to_string),
        no_verify: flag("no_verify"),
        no_sanity: flag("no_sanity"),
        priority: uri.param("tls_priority").map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Result<Target> {
        target(&Uri::parse(text).unwrap(), 0)
    }

    fn tcp(host: &str, port: u16) -> Address {
        Address::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn tcp_uris() {
        let got = t("test+tcp://127.0.0.1:16599/default").unwrap();
        assert_eq!(got.transport, Transport::Tcp);
        assert_eq!(got.address, tcp("127.0.0.1", 16599));
        assert_eq!(got.name, "test:///default");
        let got = t("qemu+tcp://root@example.org/system?no_verify=1&foo=bar").unwrap();
        assert_eq!(got.address, tcp("example.org", DEFAULT_TCP_PORT));
        assert_eq!(got.name, "qemu:///system?foo=bar");
        let got = t("test+tcp:///default").unwrap();
        assert_eq!(got.address, tcp("localhost", DEFAULT_TCP_PORT));
    }

    #[test]
    fn tls_uris() {
        let got = t("test://host/default").unwrap();
        assert_eq!(got.transport, Transport::Tls);
        assert_eq!(got.address, tcp("host", DEFAULT_TLS_PORT));
        let got = t("test+tls://10.0.0.1:1234/default?pkipath=/p&no_verify=1&tls_priority=NORMAL")
            .unwrap();
        assert_eq!(got.address, tcp("10.0.0.1", 1234));
        assert_eq!(got.name, "test:///default");
        let opts = got.tls.unwrap();
        assert_eq!(opts.host, "10.0.0.1");
        assert_eq!(opts.pkipath.as_deref(), Some("/p"));
        assert!(opts.no_verify && !opts.no_sanity);
        assert_eq!(opts.priority.as_deref(), Some("NORMAL"));
        assert_eq!(t("test+tcp://h/default").unwrap().tls, None);
    }

    #[test]
    fn unix_uris() {
        let got = t("test+unix:///default?socket=/tmp/x/libvirt-sock").unwrap();
        assert_eq!(got.transport, Transport::Unix);
        assert_eq!(got.address, Address::Unix("/tmp/x/libvirt-sock".into()));
        assert_eq!(got.name, "test:///default");
        let got = t("qemu:///system").unwrap();
        assert_eq!(got.address, Address::Unix(SYSTEM_SOCKET.into()));
        assert_eq!(got.name, "qemu:///system");
        let ro = target(&Uri::parse("qemu+unix:///system").unwrap(), flags::open::RO).unwrap();
        assert_eq!(ro.address, Address::Unix(SYSTEM_SOCKET_RO.into()));
        assert_eq!(t("remote:///").unwrap().name, "");
        assert_eq!(
            t("test:///default?name=test:///other").unwrap().name,
            "test:///other"
        );
    }

    #[test]
    fn refused_and_bad_uris() {
        assert_eq!(
            t("test+ssh://host/default").unwrap_err().code,
            ErrorCode::NO_SUPPORT
        );
        let e = t("test+bogus://h/default").unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: remote_open: transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)"
        );
        assert_eq!(e.domain, ErrorDomain::REMOTE);
        let e = t("test+tcp://h/default?no_verify=yes").unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: Failed to parse value of URI component no_verify"
        );
        let e = t("test+ext:///default").unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);
    }
}
