//! The host side of a character device (`virDomainChrSourceDef`): parsed
//! as `virDomainChrSourceDefParseXML`, checked as
//! `virDomainChrSourceDefValidate`, formatted as
//! `virDomainChrSourceDefFormat`. Shared by `<channel>` and the EGD
//! backend of `<rng>`.

use super::device_seclabel::DeviceSeclabel;
use super::disk::format_element;
use super::props::{self, vir_enum, TriBool, TriSwitch, VirEnum};
use super::{internal, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virDomainChrType`.
    pub enum ChrType {
        Null = "null", Vc = "vc", Pty = "pty", Dev = "dev", File = "file",
        Pipe = "pipe", Stdio = "stdio", Udp = "udp", Tcp = "tcp", Unix = "unix",
        SpiceVmc = "spicevmc", SpicePort = "spiceport", Nmdm = "nmdm",
        QemuVdagent = "qemu-vdagent", Dbus = "dbus",
    }

    /// `virDomainChrTcpProtocol`.
    pub enum TcpProtocol { Raw = "raw", Telnet = "telnet", Telnets = "telnets", Tls = "tls" }

    /// `virDomainMouseMode` (its "default" is the unset value).
    pub enum MouseMode { Default = "default", Server = "server", Client = "client" }
}

impl ChrType {
    /// The host side `type=` of a serial, console, channel or smartcard,
    /// refused with `virDomainChrDefParseXML`'s message when unknown.
    pub(crate) fn parse_host(t: &str) -> Result<ChrType> {
        ChrType::from_str_opt(t).ok_or_else(|| {
            unsupported(format!(
                "unknown type presented to host for character device: {t}"
            ))
        })
    }
}

/// `<source mode=...>`: connect (the default) or bind.
fn listen_mode(s: &Element) -> Result<bool> {
    match s.attr("mode") {
        None | Some("connect") => Ok(false),
        Some("bind") => Ok(true),
        Some(v) => Err(props::invalid(s, "mode", v)),
    }
}

/// `<reconnect enabled= timeout=>` of a tcp or unix source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconnect {
    pub enabled: Option<TriBool>,
    /// Only with `enabled='yes'`.
    pub timeout: u32,
}

impl Reconnect {
    pub(crate) fn parse(s: &Element) -> Result<Reconnect> {
        let Some(r) = s.child("reconnect") else {
            return Ok(Reconnect::default());
        };
        let enabled = props::tribool(r, "enabled")?;
        let timeout = match enabled {
            Some(TriBool::Yes) => props::uint(r, "timeout", true, false)?.unwrap_or(0),
            _ => 0,
        };
        Ok(Reconnect { enabled, timeout })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        match self.enabled {
            None => {}
            Some(TriBool::Yes) => w.line(&format!(
                "<reconnect enabled='yes' timeout='{}'/>",
                self.timeout
            )),
            Some(TriBool::No) => w.line("<reconnect enabled='no'/>"),
        }
    }
}

/// A character device's source; which fields apply depends on `chr_type`
/// (libvirt's union), the rest stay unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChrSource {
    pub chr_type: ChrType,
    /// dev, file, pipe (pty paths are runtime state, dropped as inactive).
    pub path: Option<String>,
    /// file.
    pub append: Option<TriSwitch>,
    /// tcp and unix: `mode='bind'`.
    pub listen: bool,
    /// tcp; udp's connect side.
    pub host: Option<String>,
    pub service: Option<String>,
    /// udp's bind side.
    pub bind_host: Option<String>,
    pub bind_service: Option<String>,
    pub tls: Option<TriBool>,
    pub protocol: TcpProtocol,
    pub reconnect: Reconnect,
    /// spiceport, dbus.
    pub channel: Option<String>,
    /// nmdm.
    pub master: Option<String>,
    pub slave: Option<String>,
    /// qemu-vdagent.
    pub clipboard: Option<TriBool>,
    pub mouse: Option<MouseMode>,
    /// `<log file= append=>`.
    pub log_file: Option<String>,
    pub log_append: Option<TriSwitch>,
    /// `<source><seclabel>` overrides: read for serials, parallels,
    /// consoles and channels only, written for path and unix sources.
    pub seclabels: Vec<DeviceSeclabel>,
}

impl ChrSource {
    pub fn new(chr_type: ChrType) -> ChrSource {
        ChrSource {
            chr_type,
            path: None,
            append: None,
            listen: false,
            host: None,
            service: None,
            bind_host: None,
            bind_service: None,
            tls: None,
            protocol: TcpProtocol::Raw,
            reconnect: Reconnect::default(),
            channel: None,
            master: None,
            slave: None,
            clipboard: None,
            mouse: None,
            log_file: None,
            log_append: None,
            seclabels: Vec::new(),
        }
    }

    /// Parse the `<source>`, `<log>` and `<protocol>` children of `e`.
    pub(crate) fn parse(e: &Element, chr_type: ChrType) -> Result<ChrSource> {
        let mut src = ChrSource::new(chr_type);
        let sources: Vec<&Element> = e.children_named("source").collect();
        if sources.len() > 1 && chr_type != ChrType::Udp {
            return Err(internal_xml(
                "only one source element is allowed for character device",
            ));
        }
        if sources.len() > 2 {
            return Err(internal_xml(
                "only two source elements are allowed for character device",
            ));
        }
        for (i, s) in sources.iter().enumerate() {
            if i == 0 || chr_type == ChrType::Udp {
                src.parse_source(s)?;
            }
        }
        src.parse_log_and_protocol(e)?;
        Ok(src)
    }

    /// [`ChrSource::parse`] for a character device proper (serial,
    /// parallel, console, channel), whose first `<source>` may override
    /// the domain's security labels (`virDomainChrSourceDefParseXML` with
    /// a `chr_def`).
    pub(crate) fn parse_labelled(e: &Element, chr_type: ChrType) -> Result<ChrSource> {
        let mut src = ChrSource::parse(e, chr_type)?;
        if let Some(s) = e.child("source") {
            src.seclabels = DeviceSeclabel::parse_all(s)?;
        }
        Ok(src)
    }

    fn parse_source(&mut self, s: &Element) -> Result<()> {
        match self.chr_type {
            ChrType::File => {
                self.path = s.attr_string("path");
                self.append = props::triswitch(s, "append")?;
            }
            ChrType::Dev | ChrType::Pipe => self.path = s.attr_string("path"),
            ChrType::Unix => {
                self.listen = listen_mode(s)?;
                self.path = s.attr_string("path");
                self.reconnect = Reconnect::parse(s)?;
            }
            ChrType::Udp => {
                // The first source of each mode wins.
                if !listen_mode(s)? {
                    if self.host.is_none() && self.service.is_none() {
                        self.host = s.attr_string("host");
                        self.service = s.attr_string("service");
                    }
                } else if self.bind_host.is_none() && self.bind_service.is_none() {
                    self.bind_host = s.attr_string("host");
                    self.bind_service = s.attr_string("service");
                }
            }
            ChrType::Tcp => {
                self.listen = listen_mode(s)?;
                self.host = s.attr_string("host");
                self.service = s.attr_string("service");
                self.tls = props::tribool(s, "tls")?;
                self.reconnect = Reconnect::parse(s)?;
            }
            ChrType::SpicePort | ChrType::Dbus => self.channel = s.attr_string("channel"),
            ChrType::Nmdm => {
                self.master = s.attr_string("master");
                self.slave = s.attr_string("slave");
            }
            ChrType::QemuVdagent => {
                if let Some(c) = s.child("clipboard") {
                    self.clipboard = props::enumeration(c, "copypaste", true)?;
                }
                if let Some(m) = s.child("mouse") {
                    let mode: MouseMode =
                        props::enumeration(m, "mode", true)?.unwrap_or(MouseMode::Default);
                    if mode == MouseMode::Default {
                        return Err(props::invalid(m, "mode", "default"));
                    }
                    self.mouse = Some(mode);
                }
            }
            // pty paths are only read from live XML; define parses inactive.
            _ => {}
        }
        Ok(())
    }

    fn parse_log_and_protocol(&mut self, e: &Element) -> Result<()> {
        let logs: Vec<&Element> = e.children_named("log").collect();
        if logs.len() > 1 {
            return Err(internal_xml(
                "only one log element is allowed for character device",
            ));
        }
        if let Some(l) = logs.first() {
            self.log_file = l.attr_string("file");
            self.log_append = props::triswitch(l, "append")?;
        }
        let protocols: Vec<&Element> = e.children_named("protocol").collect();
        if protocols.len() > 1 {
            return Err(internal_xml(
                "only one protocol element is allowed for character device",
            ));
        }
        let prot = protocols.first().and_then(|p| p.attr("type"));
        if let (Some(p), ChrType::Tcp) = (prot, self.chr_type) {
            self.protocol = TcpProtocol::from_str_opt(p)
                .ok_or_else(|| unsupported(format!("Unknown protocol '{p}'")))?;
        }
        Ok(())
    }
}

/// `SERIAL_CHANNEL_NAME_CHARS`.
fn valid_channel_name(name: &Option<String>) -> Result<()> {
    let Some(name) = name else {
        return Err(unsupported(
            "Missing source channel attribute for char device",
        ));
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    if !name.chars().all(ok) {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::INVALID_ARG,
            "Invalid character in source channel for char device",
        ));
    }
    Ok(())
}

impl ChrSource {
    /// `virDomainChrSourceDefValidate`; `path_optional` when a channel
    /// (virtio or xen) may have its unix path generated.
    pub(crate) fn validate(&self, path_optional: bool) -> Result<()> {
        let missing = |what: &str| {
            Err(internal(format!(
                "Missing source {what} attribute for char device"
            )))
        };
        let reconnect_bind = self.listen && self.reconnect.enabled.is_some();
        match self.chr_type {
            ChrType::File | ChrType::Dev | ChrType::Pipe if self.path.is_none() => missing("path"),
            ChrType::Nmdm if self.master.is_some() != self.slave.is_some() => Err(internal(
                "Should define both master and slave path attributes for nmdm device",
            )),
            ChrType::Tcp if self.host.is_none() => missing("host"),
            ChrType::Tcp | ChrType::Udp if self.service.is_none() => missing("service"),
            ChrType::Unix if self.path.is_none() && !path_optional => missing("path"),
            ChrType::Tcp | ChrType::Unix if reconnect_bind => Err(internal(
                "chardev reconnect is possible only for connect mode",
            )),
            ChrType::SpicePort | ChrType::Dbus => valid_channel_name(&self.channel),
            _ => Ok(()),
        }
    }

    /// ` type='T'` of the device element.
    pub(crate) fn type_attr(&self) -> String {
        format!(" type='{}'", self.chr_type.as_str())
    }

    /// The `<source>` (or two for udp), `<protocol>` and `<log>` children.
    pub(crate) fn format(&self, w: &mut Writer) {
        self.format_labelled(w, true)
    }

    /// With the source's security labels; `inactive` when the definition
    /// is formatted as libvirt's FORMAT_INACTIVE (also any definition of a
    /// domain not running), which skips the labels that only relabel.
    pub(crate) fn format_labelled(&self, w: &mut Writer, inactive: bool) {
        let labels = |w: &mut Writer| {
            for l in &self.seclabels {
                l.format(w, inactive);
            }
        };
        match self.chr_type {
            ChrType::QemuVdagent => self.format_vdagent(w),
            ChrType::Dev | ChrType::File | ChrType::Pipe => {
                let mut a = Attrs::new();
                a.opt("path", self.path.as_deref());
                if self.chr_type == ChrType::File {
                    a.opt("append", self.append.map(VirEnum::as_str));
                }
                format_element(w, "source", a.as_str(), labels);
            }
            ChrType::Nmdm => {
                let mut a = Attrs::new();
                a.opt("master", self.master.as_deref());
                a.opt("slave", self.slave.as_deref());
                w.line(&format!("<source{}/>", a.as_str()));
            }
            ChrType::Udp => self.format_udp(w),
            ChrType::Tcp => self.format_tcp(w),
            ChrType::Unix if self.path.is_some() => {
                let mut a = Attrs::new();
                a.add("mode", if self.listen { "bind" } else { "connect" });
                a.opt("path", self.path.as_deref());
                w.elem_with("source", a.as_str(), |w| {
                    labels(w);
                    self.reconnect.format(w)
                });
            }
            ChrType::SpicePort | ChrType::Dbus => {
                let mut a = Attrs::new();
                a.opt("channel", self.channel.as_deref());
                w.line(&format!("<source{}/>", a.as_str()));
            }
            _ => {}
        }
        if let Some(f) = &self.log_file {
            let mut a = Attrs::new();
            a.add("file", f);
            a.opt("append", self.log_append.map(VirEnum::as_str));
            w.line(&format!("<log{}/>", a.as_str()));
        }
    }

    fn format_vdagent(&self, w: &mut Writer) {
        if self.clipboard.is_none() && self.mouse.is_none() {
            return;
        }
        w.block("source", "", |w| {
            if let Some(c) = self.clipboard {
                w.line(&format!("<clipboard copypaste='{}'/>", c.as_str()));
            }
            if let Some(m) = self.mouse {
                w.line(&format!("<mouse mode='{}'/>", m.as_str()));
            }
        });
    }

    fn format_udp(&self, w: &mut Writer) {
        for (mode, host, service) in [
            ("bind", &self.bind_host, &self.bind_service),
            ("connect", &self.host, &self.service),
        ] {
            if host.is_some() || service.is_some() {
                let mut a = Attrs::new();
                a.add("mode", mode);
                a.opt("host", host.as_deref());
                a.opt("service", service.as_deref());
                w.line(&format!("<source{}/>", a.as_str()));
            }
        }
    }

    fn format_tcp(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("mode", if self.listen { "bind" } else { "connect" });
        a.opt("host", self.host.as_deref());
        a.opt("service", self.service.as_deref());
        a.opt("tls", self.tls.map(VirEnum::as_str));
        w.elem_with("source", a.as_str(), |w| self.reconnect.format(w));
        w.line(&format!("<protocol type='{}'/>", self.protocol.as_str()));
    }
}

#[cfg(test)]
#[path = "chardev_tests.rs"]
mod tests;
