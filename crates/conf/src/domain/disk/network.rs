//! `<source protocol=>` of a network disk (`virDomainDiskSourceNetworkParse`
//! and `virDomainDiskSourceFormatNetwork`): the protocols, `<host>`s with
//! libvirt's default ports, and the protocol-specific children.

use super::super::internal_xml;
use super::super::props::{self, vir_enum, TriBool, VirEnum};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virStorageNetProtocol` without "none".
    pub enum Protocol {
        Nbd = "nbd", Rbd = "rbd", Sheepdog = "sheepdog", Gluster = "gluster",
        Iscsi = "iscsi", Http = "http", Https = "https", Ftp = "ftp", Ftps = "ftps",
        Tftp = "tftp", Ssh = "ssh", Vxhs = "vxhs", Nfs = "nfs",
    }
}

impl Protocol {
    /// `virStorageSourceNetworkDefaultPort` (0: none).
    fn default_port(self) -> u32 {
        match self {
            Protocol::Http => 80,
            Protocol::Https => 443,
            Protocol::Ftp => 21,
            Protocol::Ftps => 990,
            Protocol::Tftp => 69,
            Protocol::Sheepdog => 7000,
            Protocol::Nbd => 10809,
            Protocol::Ssh => 22,
            Protocol::Iscsi => 3260,
            Protocol::Gluster => 24007,
            Protocol::Vxhs => 9999,
            Protocol::Rbd | Protocol::Nfs => 0,
        }
    }

    fn is_http(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Https)
    }

    fn is_curl(self) -> bool {
        matches!(
            self,
            Protocol::Http | Protocol::Https | Protocol::Ftp | Protocol::Ftps
        )
    }
}

vir_enum! {
    /// `virStorageNetHostTransport`.
    pub enum Transport { Tcp = "tcp", Unix = "unix", Rdma = "rdma" }
}

/// `<host name= port= transport= socket=>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: Option<String>,
    /// 0: none (formatted only when set).
    pub port: u32,
    pub transport: Transport,
    pub socket: Option<String>,
}

impl Host {
    /// `virDomainStorageNetworkParseHost`.
    pub(crate) fn parse(e: &Element) -> Result<Host> {
        let t = e.attr("transport");
        let transport = match t {
            None => Transport::Tcp,
            Some(t) => Transport::parse_named(t, "protocol transport type")?,
        };
        let socket = e.attr_string("socket");
        let unix = transport == Transport::Unix;
        if unix && socket.is_none() {
            return Err(internal_xml("missing socket for unix transport"));
        }
        if !unix && socket.is_some() {
            return Err(internal_xml(format!(
                "transport '{}' does not support socket attribute",
                t.unwrap_or("(null)")
            )));
        }
        let mut host = Host {
            name: None,
            port: 0,
            transport,
            socket,
        };
        if !unix {
            host.name = Some(
                e.attr_string("name")
                    .ok_or_else(|| internal_xml("missing name for host"))?,
            );
            if let Some(p) = e.attr("port") {
                host.port = parse_port(p)?;
            }
        }
        Ok(host)
    }

    fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("name", self.name.as_deref());
        a.opt("port", (self.port != 0).then_some(self.port));
        // virStorageNetHostTransport's tcp is 0: never written.
        a.opt(
            "transport",
            (self.transport != Transport::Tcp).then(|| self.transport.as_str()),
        );
        a.opt("socket", self.socket.as_deref());
        w.line(&format!("<host{}/>", a.as_str()));
    }
}

/// `virStringParsePort`.
fn parse_port(p: &str) -> Result<u32> {
    let invalid = |m: String| Error::new(ErrorDomain::DOMAIN, ErrorCode::INVALID_ARG, m);
    let n: u32 = p
        .parse()
        .map_err(|_| invalid(format!("failed to parse port number '{p}'")))?;
    if n > u32::from(u16::MAX) {
        return Err(invalid(format!("port '{p}' out of range")));
    }
    Ok(n)
}

/// A network disk's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSource {
    pub protocol: Protocol,
    /// `name=` as written (gluster and rbd: `volume/image`).
    pub name: Option<String>,
    /// `query=` (http and https).
    pub query: Option<String>,
    pub tls: Option<TriBool>,
    pub tls_hostname: Option<String>,
    pub hosts: Vec<Host>,
    /// `<identity user= group=>` (nfs).
    pub nfs_identity: (Option<String>, Option<String>),
    /// `<snapshot name=>`.
    pub snapshot: Option<String>,
    /// `<config file=>`.
    pub config: Option<String>,
    /// `<initiator><iqn name=>`.
    pub initiator_iqn: Option<String>,
    /// `<ssl verify=>` (https and ftps).
    pub ssl_verify: Option<TriBool>,
    /// `<cookies>` (http and https): (name, value), written only with
    /// secure information.
    pub cookies: Vec<(String, String)>,
    /// `<readahead size=>` in bytes, `<timeout seconds=>` (curl protocols).
    pub readahead: u64,
    pub timeout: u64,
}

/// `virXPathString`: an empty value is none.
fn non_empty(v: Option<&str>) -> Option<String> {
    v.filter(|v| !v.is_empty()).map(str::to_string)
}

impl NetworkSource {
    pub(crate) fn parse(s: &Element) -> Result<NetworkSource> {
        let protocol: Protocol = props::enumeration(s, "protocol", true)?.unwrap_or(Protocol::Nbd);
        let name = s.attr_string("name");
        if name.is_none() && protocol != Protocol::Nbd {
            return Err(internal_xml("missing name for disk source"));
        }
        let tls = props::tribool(s, "tls")?;
        let tls_hostname = s.attr_string("tlsHostname");
        if let (Some(n), Protocol::Gluster | Protocol::Rbd) = (&name, protocol) {
            if n.find('/').is_none_or(|i| i == 0) {
                return Err(internal_xml(format!(
                    "can't split path '{n}' into pool name and image name"
                )));
            }
        }
        let snapshot = non_empty(s.child("snapshot").and_then(|c| c.attr("name")));
        let config = non_empty(s.child("config").and_then(|c| c.attr("file")));
        let query = match protocol.is_http() {
            true => s.attr_string("query"),
            false => None,
        };
        let mut hosts = s
            .children_named("host")
            .map(Host::parse)
            .collect::<Result<Vec<_>>>()?;
        let identity = s.child("identity").filter(|_| protocol == Protocol::Nfs);
        let nfs_identity = (
            identity.and_then(|i| i.attr_string("user")),
            identity.and_then(|i| i.attr_string("group")),
        );
        for h in hosts.iter_mut() {
            if h.transport == Transport::Tcp && h.port == 0 {
                h.port = protocol.default_port();
            }
        }
        let initiator = s.child("initiator").and_then(|i| i.child("iqn"));
        let ssl = s
            .child("ssl")
            .filter(|_| matches!(protocol, Protocol::Https | Protocol::Ftps));
        let cookies = match s.child("cookies").filter(|_| protocol.is_http()) {
            Some(c) => parse_cookies(c)?,
            None => Vec::new(),
        };
        let (mut readahead, mut timeout) = (0, 0);
        if protocol.is_curl() {
            let bad = || internal_xml("invalid readahead size or timeout");
            readahead = ulong_of(s, "readahead", "size").ok_or_else(bad)?;
            timeout = ulong_of(s, "timeout", "seconds").ok_or_else(bad)?;
        }
        Ok(NetworkSource {
            protocol,
            name,
            query,
            tls,
            tls_hostname,
            hosts,
            nfs_identity,
            snapshot,
            config,
            initiator_iqn: non_empty(initiator.and_then(|i| i.attr("name"))),
            ssl_verify: ssl
                .map(|e| props::tribool(e, "verify"))
                .transpose()?
                .flatten(),
            cookies,
            readahead,
            timeout,
        })
    }

    /// The image's name: for gluster and rbd, what follows the volume.
    pub fn image(&self) -> Option<&str> {
        let name = self.name.as_deref()?;
        match (self.protocol, name.split_once('/')) {
            (Protocol::Gluster | Protocol::Rbd, Some((_, image))) => Some(image),
            _ => Some(name),
        }
    }

    /// `virDomainPostParseCheckISCSIPath`: an iSCSI target without a LUN
    /// gets LUN 0.
    pub(crate) fn post_parse(&mut self) {
        if self.protocol == Protocol::Iscsi {
            if let Some(n) = self.name.as_mut().filter(|n| !n.contains('/')) {
                n.push_str("/0");
            }
        }
    }

    /// The attributes (`protocol=` ... `tlsHostname=`).
    pub(crate) fn attrs(&self, a: &mut Attrs) {
        a.add("protocol", self.protocol.as_str());
        a.opt("name", self.name.as_deref());
        a.opt("query", self.query.as_deref());
        a.opt("tls", self.tls.map(VirEnum::as_str));
        a.opt("tlsHostname", self.tls_hostname.as_deref());
    }

    /// The children, `secure` writing the cookies.
    pub(crate) fn format_children(&self, w: &mut Writer, secure: bool) {
        self.hosts.iter().for_each(|h| h.format(w));
        let (user, group) = &self.nfs_identity;
        if self.protocol == Protocol::Nfs && (user.is_some() || group.is_some()) {
            let mut a = Attrs::new();
            a.opt("user", user.as_deref())
                .opt("group", group.as_deref());
            w.line(&format!("<identity{}/>", a.as_str()));
        }
        let mut a = Attrs::new();
        if let Some(s) = &self.snapshot {
            w.line(&format!("<snapshot{}/>", a.add("name", s).as_str()));
        }
        let mut a = Attrs::new();
        if let Some(c) = &self.config {
            w.line(&format!("<config{}/>", a.add("file", c).as_str()));
        }
        if let Some(iqn) = &self.initiator_iqn {
            w.elem_with("initiator", "", |w| {
                w.line(&format!("<iqn{}/>", Attrs::new().add("name", iqn).as_str()))
            });
        }
        if let Some(v) = self.ssl_verify {
            w.line(&format!("<ssl verify='{}'/>", v.as_str()));
        }
        if secure && !self.cookies.is_empty() {
            w.elem_with("cookies", "", |w| {
                for (name, value) in &self.cookies {
                    let v = crate::xml::escape(value);
                    let n = Attrs::new().add("name", name).as_str().to_string();
                    w.line(&format!("<cookie{n}>{v}</cookie>"));
                }
            });
        }
        if self.readahead != 0 {
            w.line(&format!("<readahead size='{}'/>", self.readahead));
        }
        if self.timeout != 0 {
            w.line(&format!("<timeout seconds='{}'/>", self.timeout));
        }
    }
}

/// `virXPathULongLong` of `./child/@attr`: 0 when absent or empty, `None`
/// when not a number.
fn ulong_of(s: &Element, child: &str, attr: &str) -> Option<u64> {
    match s.child(child).and_then(|c| c.attr(attr)) {
        None | Some("") => Some(0),
        Some(v) => v.parse().ok(),
    }
}

/// `virDomainStorageNetCookiesParse` with
/// `virStorageSourceNetCookiesValidate`.
fn parse_cookies(c: &Element) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for k in c.children_named("cookie") {
        let Some(name) = non_empty(k.attr("name")) else {
            return Err(internal_xml("missing cookie name"));
        };
        let value = k.text();
        if value.is_empty() {
            return Err(internal_xml(format!("missing value for cookie '{name}'")));
        }
        check_cookie(&name, &value)?;
        out.push((name, value));
    }
    for (i, (name, _)) in out.iter().enumerate() {
        if out[i + 1..].iter().any(|(n, _)| n == name) {
            return Err(internal_xml(format!("duplicate cookie '{name}'")));
        }
    }
    Ok(out)
}

/// `virStorageSourceNetCookieValidate`: RFC 6265's characters.
fn check_cookie(name: &str, value: &str) -> Result<()> {
    let bad_value = |c: char| ('\u{1}'..='\u{1f}').contains(&c) || " \",;\\".contains(c);
    if name
        .chars()
        .any(|c| bad_value(c) || "()<>@:/[]?={}".contains(c))
    {
        return Err(internal_xml(format!(
            "cookie name '{name}' contains invalid characters"
        )));
    }
    let inner = match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"'),
        None => Some(value),
    };
    if inner.is_none_or(|v| v.chars().any(bad_value)) {
        return Err(internal_xml(format!(
            "value of cookie '{name}' contains invalid characters"
        )));
    }
    Ok(())
}
