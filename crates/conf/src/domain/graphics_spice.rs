//! SPICE's settings of `<graphics type='spice'>`: ports, channel security
//! modes and the compression, streaming, clipboard, mouse and GL children.

use super::graphics::{format_gl, listen_attr, parse_gl, Auth, GraphicsType, Listen, ListenType};
use super::props::{self, vir_enum, TriBool, TriSwitch, VirEnum};
use super::FormatOptions;
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainGraphicsSpiceChannelName`.
    pub enum ChannelName {
        Main = "main", Display = "display", Inputs = "inputs", Cursor = "cursor",
        Playback = "playback", Record = "record", Smartcard = "smartcard",
        Usbredir = "usbredir",
    }

    /// `virDomainGraphicsSpiceChannelMode`.
    pub enum ChannelMode { Any = "any", Secure = "secure", Insecure = "insecure" }

    /// `virDomainGraphicsSpiceImageCompression` (its `default` is `None`).
    pub enum ImageCompression {
        AutoGlz = "auto_glz", AutoLz = "auto_lz", Quic = "quic", Glz = "glz",
        Lz = "lz", Off = "off",
    }

    /// `virDomainGraphicsSpiceJpegCompression` and `...ZlibCompression`.
    pub enum Compression { Auto = "auto", Never = "never", Always = "always" }

    /// `virDomainGraphicsSpiceStreamingMode`.
    pub enum StreamingMode { Filter = "filter", All = "all", Off = "off" }

    /// `virDomainMouseMode`.
    pub enum MouseMode { Server = "server", Client = "client" }
}

/// `data.spice` of `virDomainGraphicsDef`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spice {
    pub port: i32,
    pub tls_port: i32,
    pub autoport: bool,
    pub keymap: Option<String>,
    /// `defaultMode`; `any` is the default and not written.
    pub default_mode: Option<ChannelMode>,
    pub auth: Auth,
    /// Per-channel modes, in `ChannelName` order; `any` entries dropped.
    pub channels: Vec<(ChannelName, ChannelMode)>,
    pub image: Option<ImageCompression>,
    pub jpeg: Option<Compression>,
    pub zlib: Option<Compression>,
    pub playback: Option<TriSwitch>,
    pub streaming: Option<StreamingMode>,
    pub mouse: Option<MouseMode>,
    pub copypaste: Option<TriBool>,
    pub filetransfer: Option<TriBool>,
    pub gl: Option<TriBool>,
    pub rendernode: Option<String>,
}

/// The required enum attribute `attr` of child `name`, if that child exists.
fn child_enum<T: VirEnum>(e: &Element, name: &str, attr: &str) -> Result<Option<T>> {
    match e.child(name) {
        Some(c) => props::enumeration(c, attr, true),
        None => Ok(None),
    }
}

impl Spice {
    /// `virDomainGraphicsDefParseXMLSpice`, as an inactive definition.
    pub(crate) fn parse(e: &Element) -> Result<Spice> {
        let mut s = Spice {
            port: props::int(e, "port")?.unwrap_or(0),
            tls_port: props::int(e, "tlsPort")?.unwrap_or(0),
            autoport: props::tribool(e, "autoport")? == Some(TriBool::Yes),
            ..Spice::default()
        };
        s.default_mode = props::enumeration(e, "defaultMode", false)?;
        // Legacy syntax: -1 for both ports asks for automatic ones.
        s.autoport |= s.port == -1 && s.tls_port == -1;
        if s.autoport {
            s.port = 0;
            s.tls_port = 0;
        }
        s.keymap = e.attr_string("keymap");
        s.auth = Auth::parse(e, GraphicsType::Spice)?;
        for c in e.children_named("channel") {
            let name: Option<ChannelName> = props::enumeration(c, "name", true)?;
            let mode: Option<ChannelMode> = props::enumeration(c, "mode", true)?;
            if let (Some(name), Some(mode)) = (name, mode) {
                s.channels.retain(|(n, _)| *n != name);
                s.channels.push((name, mode));
            }
        }
        s.channels.retain(|(_, m)| *m != ChannelMode::Any);
        s.channels.sort_by_key(|(n, _)| n.index());
        s.image = child_enum(e, "image", "compression")?;
        s.jpeg = child_enum(e, "jpeg", "compression")?;
        s.zlib = child_enum(e, "zlib", "compression")?;
        s.playback = child_enum(e, "playback", "compression")?;
        s.streaming = child_enum(e, "streaming", "mode")?;
        s.copypaste = child_enum(e, "clipboard", "copypaste")?;
        s.filetransfer = child_enum(e, "filetransfer", "enable")?;
        (s.gl, s.rendernode) = parse_gl(e)?;
        s.mouse = child_enum(e, "mouse", "mode")?;
        Ok(s)
    }

    pub(crate) fn format_attrs(&self, a: &mut Attrs, first: Option<&Listen>, opts: &FormatOptions) {
        if matches!(
            first.map(|l| l.listen_type),
            Some(ListenType::Address | ListenType::Network)
        ) {
            if self.port != 0 {
                a.add("port", self.port);
            }
            if self.tls_port != 0 {
                a.add("tlsPort", self.tls_port);
            }
            a.add("autoport", if self.autoport { "yes" } else { "no" });
            listen_attr(a, first, opts);
        }
        a.opt("keymap", self.keymap.as_deref());
        let mode = self.default_mode.filter(|m| *m != ChannelMode::Any);
        a.opt("defaultMode", mode.map(ChannelMode::as_str));
        self.auth.format(a, opts);
    }

    /// The children after the `<listen>`s.
    pub(crate) fn format_children(&self, w: &mut Writer) {
        for (name, mode) in &self.channels {
            w.line(&format!(
                "<channel name='{}' mode='{}'/>",
                name.as_str(),
                mode.as_str()
            ));
        }
        let mut one = |name: &str, attr: &str, v: Option<&'static str>| {
            if let Some(v) = v {
                w.line(&format!("<{name} {attr}='{v}'/>"));
            }
        };
        one("image", "compression", self.image.map(VirEnum::as_str));
        one("jpeg", "compression", self.jpeg.map(VirEnum::as_str));
        one("zlib", "compression", self.zlib.map(VirEnum::as_str));
        one(
            "playback",
            "compression",
            self.playback.map(VirEnum::as_str),
        );
        one("streaming", "mode", self.streaming.map(VirEnum::as_str));
        one("mouse", "mode", self.mouse.map(VirEnum::as_str));
        one(
            "clipboard",
            "copypaste",
            self.copypaste.map(VirEnum::as_str),
        );
        one(
            "filetransfer",
            "enable",
            self.filetransfer.map(VirEnum::as_str),
        );
        format_gl(w, self.gl, self.rendernode.as_deref());
    }
}
