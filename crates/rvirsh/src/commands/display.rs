//! A domain's consoles, display and links as its XML describes them, and
//! its screen: `vncdisplay` and `ttyconsole` (virsh-domain.c's
//! cmdVNCDisplay, cmdTTYConsole), `domif-getlink` (virsh-domain-monitor.c's
//! cmdDomIfGetLink) and `screenshot` (cmdScreenshot, over a stream).

use super::opts::{opt_string, opt_uint};
use super::snapshot::domain;
use super::{about, cmd, data, flag_alias, int, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::Domain;
use rvirt_conf::xml::{self, Element};
use std::io::Write;

pub static COMMANDS: &[CommandDef] = &[
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
fn document(dom: &Domain, flags: u32) -> Result<Element, CmdError> {
    let text = dom.get_xml_desc(flags)?;
    Ok(xml::parse(
        &text,
        "(domain_definition)",
        rvirt::ErrorDomain::NONE,
    )?)
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
