//! Input, graphics, video and the memory balloon.

use super::devices::{format_addr, parse_addr, Address};
use super::os::OsDef;
use super::{esc, unmodelled, unsupported, xml_invalid_attr};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

/// `<input>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub input_type: String,
    pub bus: String,
    pub address: Option<Address>,
}

impl Input {
    pub(crate) fn parse(e: &Element, os: &OsDef) -> Result<Input> {
        let t = e.attr("type").unwrap_or("");
        if !["mouse", "tablet", "keyboard", "passthrough", "evdev"].contains(&t) {
            return Err(unsupported(format!("unknown input device type '{t}'")));
        }
        let bus = match e.attr("bus") {
            Some(b) => {
                if !["ps2", "usb", "xen", "parallels", "virtio", "none"].contains(&b) {
                    return Err(unsupported(format!("unknown input bus type '{b}'")));
                }
                b.to_string()
            }
            None if t == "tablet" => "usb".into(),
            None if os.os_type == "hvm" => "ps2".into(),
            None => "xen".into(),
        };
        // The passthrough/evdev source, the virtio model and driver options.
        unmodelled::refuse_device_info(e, "input", &["source", "model", "driver"])?;
        Ok(Input {
            input_type: t.to_string(),
            bus,
            address: parse_addr(e)?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let a = format!(" type='{}' bus='{}'", esc(&self.input_type), esc(&self.bus));
        w.elem_with("input", &a, |w| format_addr(&self.address, w));
    }
}

/// `<graphics>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graphics {
    pub graphics_type: String,
    /// VNC/SPICE port; 0 = unset, -1 = automatic.
    pub port: i32,
    /// VNC: always known; SPICE: only when given.
    pub autoport: Option<bool>,
    pub listen: Option<String>,
    /// Type of the `<listen>` child (`address`, `none`, `network`, `socket`).
    pub listen_type: Option<String>,
}

const GRAPHICS_TYPES: &[&str] = &[
    "sdl",
    "vnc",
    "rdp",
    "desktop",
    "spice",
    "egl-headless",
    "dbus",
];

impl Graphics {
    pub(crate) fn parse(e: &Element) -> Result<Graphics> {
        let t = e.attr("type").unwrap_or("");
        if !GRAPHICS_TYPES.contains(&t) {
            return Err(xml_invalid_attr("type", "graphics", t));
        }
        let port_attr = e.attr("port").and_then(|p| p.trim().parse::<i32>().ok());
        let autoport_attr = e.attr("autoport").map(|a| a == "yes");
        let listen_child = e.child("listen");
        let listen = e
            .attr("listen")
            .or_else(|| listen_child.and_then(|l| l.attr("address")))
            .map(str::to_string);
        let mut g = Graphics {
            graphics_type: t.to_string(),
            port: port_attr.unwrap_or(0),
            autoport: autoport_attr,
            listen,
            listen_type: listen_child
                .and_then(|l| l.attr("type"))
                .map(str::to_string),
        };
        match t {
            "vnc" => {
                let auto = autoport_attr.unwrap_or(port_attr.is_none() || port_attr == Some(-1))
                    || port_attr == Some(-1);
                g.autoport = Some(auto);
                if auto {
                    g.port = -1;
                }
                if g.listen_type.is_none() {
                    g.listen_type = Some("address".into());
                }
            }
            "spice" => {
                if g.port == -1 {
                    g.autoport = Some(true);
                }
                if g.listen_type.is_none() {
                    let any = g.listen.is_some() || g.port != 0 || g.autoport.is_some();
                    g.listen_type = Some(if any { "address" } else { "none" }.into());
                }
            }
            _ => {}
        }
        Ok(g)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("type", &self.graphics_type);
        if matches!(self.graphics_type.as_str(), "vnc" | "spice" | "rdp") {
            if self.port != 0 {
                a.add("port", self.port);
            }
            a.opt(
                "autoport",
                self.autoport.map(|b| if b { "yes" } else { "no" }),
            );
        }
        a.opt("listen", self.listen.as_deref());
        w.elem_with("graphics", a.as_str(), |w| {
            if let Some(lt) = &self.listen_type {
                let mut a = Attrs::new();
                a.add("type", lt);
                if lt == "address" {
                    a.opt("address", self.listen.as_deref());
                }
                w.line(&format!("<listen{}/>", a.as_str()));
            }
        });
    }
}

/// `<memballoon>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memballoon {
    pub model: String,
    pub address: Option<Address>,
}

impl Memballoon {
    pub(crate) fn parse(e: &Element) -> Result<Memballoon> {
        let Some(m) = e.attr("model") else {
            return Err(super::internal_xml(
                "balloon memory must contain model name",
            ));
        };
        Ok(Memballoon {
            model: m.to_string(),
            address: parse_addr(e)?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let a = format!(" model='{}'", esc(&self.model));
        w.elem_with("memballoon", &a, |w| format_addr(&self.address, w));
    }
}
