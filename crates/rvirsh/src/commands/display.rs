//! A domain's consoles, displays and links as its XML describes them, and
//! its screen: `domdisplay`, `vncdisplay` and `ttyconsole` (virsh-domain.c's
//! cmdDomDisplay, cmdVNCDisplay, cmdTTYConsole), `domif-getlink` (virsh-domain-monitor.c's
//! cmdDomIfGetLink) and `screenshot` (cmdScreenshot, over a stream).

use super::opts::{opt_string, opt_uint};
use super::snapshot::domain;
use super::{about, cmd, data, flag, flag_alias, int, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::Domain;
use rvirt_conf::xml::{self, Element};
use std::io::Write;

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "domdisplay",
        about(
            "domain display connection URI",
            "Output the IP address and port number for the graphical display.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag(
                "include-password",
                "includes the password into the connection URI if available",
            ),
            string(
                "type",
                "select particular graphical display (e.g. \"vnc\", \"spice\", \"rdp\", \"dbus\")",
            ),
            flag("all", "show all possible graphical displays"),
        ],
        domdisplay,
    ),
    cmd(
        "vncdisplay",
        about(
            "vnc display",
            "Output the IP address and port number for the VNC display.",
        ),
        &[data("domain", "domain name, id or uuid")],
        vncdisplay,
    ),
    cmd(
        "ttyconsole",
        about("tty console", "Output the device for the TTY console."),
        &[data("domain", "domain name, id or uuid")],
        ttyconsole,
    ),
    cmd(
        "domif-getlink",
        about(
            "get link state of a virtual interface",
            "Get link state of a domain's virtual interface.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            data("interface", "interface device (MAC Address)"),
            flag_alias("config", &["persistent"], "Get persistent interface state"),
        ],
        domif_getlink,
    ),
    cmd(
        "screenshot",
        about(
            "take a screenshot of a current domain console and store it into a file",
            "screenshot of a current domain console",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            string("file", "where to store the screenshot"),
            int("screen", "ID of a screen to take screenshot of"),
        ],
        screenshot,
    ),
];

/// virshDomainGetXMLFromDom: the document as virsh's XPath sees it.
pub(super) fn document(dom: &Domain, flags: u32) -> Result<Element, CmdError> {
    let text = dom
        .get_xml_desc(flags)
        .map_err(|e| CmdError::with("Failed to get domain description xml", e))?;
    xml::parse(&text, "(domain_definition)", rvirt::ErrorDomain::NONE)
        .map_err(|e| CmdError::with("Failed to parse domain description xml", e))
}

/// `string(XPATH)` as virXPathString returns it: `None` when empty.
fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|v| !v.is_empty()).map(str::to_string)
}

fn vncdisplay(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    if !dom.is_active().unwrap_or(false) {
        return Err(CmdError::msg("Domain is not running"));
    }
    let doc = document(&dom, 0)?;
    let vnc = doc
        .grandchildren("devices", "graphics")
        .find(|g| g.attr("type") == Some("vnc"));
    let port = vnc
        .and_then(|g| g.attr("port"))
        .and_then(super::opts::str_to_i32)
        .ok_or_else(|| CmdError::msg("Failed to get VNC port. Is this domain using VNC?"))?;
    let listen = vnc.and_then(|g| {
        non_empty(g.attr("listen"))
            .or_else(|| non_empty(g.child("listen").and_then(|l| l.attr("address"))))
    });
    let display = port - 5900;
    match listen.filter(|a| a != "0.0.0.0") {
        Some(addr) => ctl.print(&format!("{addr}:{display}\n")),
        None => ctl.print(&format!(":{display}\n")),
    }
    Ok(())
}

/// virshGetDBusDisplay.
fn dbus_display(graphics: &Element) -> Result<Option<String>, CmdError> {
    let Some(addr) = non_empty(graphics.attr("address")) else {
        return Ok(None);
    };
    match addr.strip_prefix("unix:path=") {
        Some(path) => Ok(Some(format!("dbus+unix://{path}"))),
        None => Err(CmdError::msg(format!(
            "'{addr}' D-Bus address is not handled"
        ))),
    }
}

/// virshGetOneDisplay: the URI of the domain's first `scheme` display,
/// or None.
fn one_display(ctl: &Ctl, doc: &Element, scheme: &str) -> Result<Option<String>, CmdError> {
    let Some(g) = doc
        .grandchildren("devices", "graphics")
        .find(|g| g.attr("type") == Some(scheme))
    else {
        return Ok(None);
    };
    if scheme == "dbus" {
        return dbus_display(g);
    }
    let int_attr = |name| g.attr(name).and_then(super::opts::str_to_i32).unwrap_or(0);
    let (mut port, tls_port) = (int_attr("port"), int_attr("tlsPort"));
    let listen = g.child("listen");
    let sockpath = match listen.and_then(|l| l.attr("type")) {
        Some("socket") => non_empty(listen.and_then(|l| l.attr("socket"))),
        _ => None,
    };
    if port == 0 && tls_port == 0 && sockpath.is_none() {
        return Ok(None);
    }
    let listen_addr = match non_empty(g.attr("listen")) {
        None => non_empty(listen.and_then(|l| l.attr("address"))),
        // A wildcard address says nothing to a client: the URI's host.
        Some(a)
            if a.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified()) =>
        {
            ctl.conn()?
                .get_uri()
                .ok()
                .and_then(|u| rvirt_util::Uri::parse(&u).ok())
                .and_then(|u| u.server)
        }
        Some(a) => Some(a),
    };
    let passwd = non_empty(g.attr("passwd"));
    let mut uri = match &sockpath {
        Some(_) => format!("{scheme}+unix://"),
        None => format!("{scheme}://"),
    };
    if let ("vnc", Some(p)) = (scheme, &passwd) {
        uri.push_str(&format!(":{p}@"));
    }
    match (&sockpath, &listen_addr) {
        (Some(sock), _) => uri.push_str(sock),
        (None, None) => uri.push_str("localhost"),
        (None, Some(a)) if a.contains(':') => uri.push_str(&format!("[{a}]")),
        (None, Some(a)) => uri.push_str(a),
    }
    if port != 0 {
        if scheme == "vnc" {
            port -= 5900;
        }
        uri.push_str(&format!(":{port}"));
    }
    uri.push('?');
    if tls_port != 0 {
        uri.push_str(&format!("tls-port={tls_port}&"));
    }
    if let ("spice", Some(p)) = (scheme, &passwd) {
        uri.push_str(&format!("password={p}&"));
    }
    uri.pop();
    Ok(Some(uri))
}

fn domdisplay(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    super::opts::exclusive(c, "all", "type")?;
    let all = c.has("all");
    let dom = domain(ctl, c)?;
    if dom.is_active() == Ok(false) {
        return Err(CmdError::msg("Domain is not running"));
    }
    let flags = if c.has("include-password") {
        rvirt::flags::xml::SECURE
    } else {
        0
    };
    let kind = opt_string(c, "type")?;
    let doc = document(&dom, flags)?;
    let mut found = false;
    for scheme in ["vnc", "spice", "rdp", "dbus"] {
        if !all && kind.is_some_and(|k| k != scheme) {
            continue;
        }
        let display = match one_display(ctl, &doc, scheme) {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            // virsh reports it and goes on to the next kind.
            Err(e) => {
                eprintln!("error: {}", e.own.unwrap_or_default());
                continue;
            }
        };
        ctl.print(&display);
        found = true;
        if !all {
            break;
        }
        ctl.print("\n");
    }
    if found {
        return Ok(());
    }
    Err(CmdError::msg(match kind {
        Some(k) => format!("No graphical display with type '{k}' found"),
        None => "No graphical display found".to_string(),
    }))
}

/// cmdTTYConsole: the first `<console tty>`; without one virsh fails
/// saying nothing.
fn ttyconsole(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = domain(ctl, c)?;
    let doc = document(&dom, 0)?;
    let tty = doc
        .grandchildren("devices", "console")
        .next()
        .and_then(|con| non_empty(con.attr("tty")));
    match tty {
        Some(t) => {
            ctl.print(&format!("{t}\n"));
            Ok(())
        }
        None => Err(CmdError::default()),
    }
}

/// virMacAddrParse then virMacAddrFormat: six hex octets split by `:`,
/// printed lower-case with two digits each.
fn normal_mac(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let octets = parts
        .iter()
        .map(|p| {
            let ok = !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit());
            ok.then(|| u8::from_str_radix(p, 16).ok()).flatten()
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(
        octets
            .iter()
            .map(|o| format!("{o:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn domif_getlink(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let iface = opt_string(c, "interface")?.unwrap_or_default();
    let flags = if c.has("config") {
        rvirt::flags::xml::INACTIVE
    } else {
        0
    };
    let dom = domain(ctl, c)?;
    let doc = document(&dom, flags)?;
    let mac = normal_mac(iface);
    let found: Vec<&Element> = doc
        .grandchildren("devices", "interface")
        .filter(|i| {
            let by_mac = i.children_named("mac").any(|m| {
                m.attr("address").unwrap_or_default() == mac.as_deref().unwrap_or_default()
            });
            let by_dev = i
                .children_named("target")
                .any(|t| t.attr("dev") == Some(iface));
            by_mac || by_dev
        })
        .collect();
    match (found.as_slice(), &mac) {
        ([], Some(m)) => Err(CmdError::msg(format!("Interface (mac: {m}) not found."))),
        ([], None) => Err(CmdError::msg(format!(
            "Interface (dev: {iface}) not found."
        ))),
        ([one], _) => {
            let state = non_empty(one.child("link").and_then(|l| l.attr("state")));
            ctl.print(&format!("{iface} {}", state.as_deref().unwrap_or("up")));
            Ok(())
        }
        _ => Err(CmdError::msg("multiple matching interfaces found")),
    }
}

/// virshGenFileName: `NAME-YYYY-MM-DD-HH:MM:SS` and the type's extension.
fn generated_name(dom: &Domain, mime: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let stamp = super::snapshot_list::strftime_local(now, c"%Y-%m-%d-%H:%M:%S");
    let ext = match mime {
        "image/x-portable-pixmap" => ".ppm",
        "image/png" => ".png",
        _ => "",
    };
    format!("{}-{stamp}{ext}", dom.name())
}

fn screenshot(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let file = opt_string(c, "file")?;
    let screen = opt_uint(c, "screen")?.unwrap_or(0);
    let dom = domain(ctl, c)?;
    let name = c.get("domain").unwrap_or_default();
    let st = rvirt::Stream::new(ctl.conn()?, 0)?;
    let mime = dom
        .screenshot(&st, screen, 0)
        .map_err(|e| CmdError::with(format!("could not take a screenshot of {name}"), e))?
        .ok_or_else(|| CmdError::msg(format!("could not take a screenshot of {name}")))?;
    let file = file.map_or_else(|| generated_name(&dom, &mime), str::to_string);
    let (mut out, created) = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
    {
        Ok(f) => (f, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&file)
                .map_err(|_| CmdError::msg(format!("cannot create file {file}")))?;
            (f, false)
        }
        Err(_) => return Err(CmdError::msg(format!("cannot create file {file}"))),
    };
    let received = receive_into(&st, &mut out)
        .map_err(|e| CmdError::with(format!("could not receive data from domain '{name}'"), e));
    let result = received.and_then(|()| {
        st.finish()
            .map_err(|e| CmdError::with(format!("cannot close stream on domain '{name}'"), e))
    });
    if result.is_err() {
        let _ = st.abort();
        if created {
            let _ = std::fs::remove_file(&file);
        }
        return result;
    }
    ctl.print_extra(&format!("Screenshot saved to {file}, with type of {mime}"));
    Ok(())
}

/// virStreamRecvAll into `out`.
fn receive_into(st: &rvirt::Stream, out: &mut std::fs::File) -> rvirt::Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = st.recv(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n]).map_err(|e| {
            rvirt::Error::new(
                rvirt::ErrorDomain::NONE,
                rvirt::ErrorCode::SYSTEM_ERROR,
                format!("unable to write: {}", rvirt_util::error::strerror(&e)),
            )
        })?;
    }
}
