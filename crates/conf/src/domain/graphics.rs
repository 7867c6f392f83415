//! `<graphics>`: libvirt's `virDomainGraphicsDef` — the display types,
//! their `<listen>` children (with the legacy `listen`/`socket` attributes
//! mirrored as libvirt does), the password attributes and SPICE's
//! channel and compression settings.

use super::audio::Audio;
use super::graphics_spice::Spice;
use super::os::{Arch, OsDef, OsType};
use super::props::{self, vir_enum, TriBool, VirEnum};
use super::video::Video;
use super::{internal, internal_xml, unsupported, FormatOptions};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainGraphicsType`.
    pub enum GraphicsType {
        Sdl = "sdl", Vnc = "vnc", Rdp = "rdp", Desktop = "desktop",
        Spice = "spice", EglHeadless = "egl-headless", Dbus = "dbus",
    }

    /// `virDomainGraphicsListenType`.
    pub enum ListenType { None = "none", Address = "address", Network = "network", Socket = "socket" }

    /// `virDomainGraphicsAuthConnectedType` (its `default` is `None`).
    pub enum Connected { Fail = "fail", Disconnect = "disconnect", Keep = "keep" }

    /// `virDomainGraphicsVNCSharePolicy`.
    pub enum SharePolicy {
        Default = "default", AllowExclusive = "allow-exclusive",
        ForceShared = "force-shared", Ignore = "ignore",
    }
}

/// One `<listen>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    pub listen_type: ListenType,
    pub address: Option<String>,
    pub network: Option<String>,
    pub socket: Option<String>,
}

impl Listen {
    fn new(listen_type: ListenType) -> Listen {
        Listen {
            listen_type,
            address: None,
            network: None,
            socket: None,
        }
    }

    /// `virDomainGraphicsListenDefParseXML`; `parent` is the `<graphics>`
    /// element for the first `<listen>` only (its legacy attributes must
    /// agree with it).
    fn parse(e: &Element, gtype: GraphicsType, parent: Option<&Element>) -> Result<Listen> {
        let ltype: ListenType = props::enumeration(e, "type", true)?.unwrap_or(ListenType::None);
        let socket_ok = matches!(gtype, GraphicsType::Vnc | GraphicsType::Spice);
        if matches!(ltype, ListenType::Socket | ListenType::None) && !socket_ok {
            return Err(unsupported(format!(
                "listen type '{}' is not available for graphics type '{}'",
                ltype.as_str(),
                gtype.as_str()
            )));
        }
        let compat = |name| parent.and_then(|p| p.attr_string(name));
        let mut address = e.attr_string("address");
        let mut socket = e.attr_string("socket");
        if ltype == ListenType::Address {
            address = agree("listen", "address", address, compat("listen"))?;
        }
        if ltype == ListenType::Socket {
            socket = agree("socket", "socket", socket, compat("socket"))?;
        }
        let mut l = Listen::new(ltype);
        // A network listen's address is runtime state: an inactive parse drops it.
        l.address = address.filter(|a| !a.is_empty() && ltype == ListenType::Address);
        if let Some(n) = e.attr_string("network").filter(|n| !n.is_empty()) {
            if ltype != ListenType::Network {
                return Err(internal_xml(
                    "'network' attribute is valid only for listen type 'network'",
                ));
            }
            l.network = Some(n);
        }
        if let Some(s) = socket.filter(|s| !s.is_empty()) {
            if ltype != ListenType::Socket {
                return Err(internal_xml(
                    "'socket' attribute is valid only for listen type 'socket'",
                ));
            }
            l.socket = Some(s);
        }
        Ok(l)
    }

    fn format(&self, w: &mut Writer, opts: &FormatOptions) {
        let mut a = Attrs::new();
        a.add("type", self.listen_type.as_str());
        let network = self.listen_type == ListenType::Network;
        if self.listen_type == ListenType::Address || (network && !opts.inactive) {
            raw_attr(&mut a, "address", self.address.as_deref());
        }
        if network {
            a.opt("network", self.network.as_deref());
        }
        if self.listen_type == ListenType::Socket {
            a.opt("socket", self.socket.as_deref());
        }
        w.line(&format!("<listen{}/>", a.as_str()));
    }
}

/// The legacy attribute `compat` of `<graphics>` must match the first
/// listen's `attr`; it fills it when absent.
fn agree(
    compat_name: &str,
    attr: &str,
    own: Option<String>,
    compat: Option<String>,
) -> Result<Option<String>> {
    match (own, compat) {
        (Some(o), Some(c)) if o != c => Err(unsupported(format!(
            "graphics '{compat_name}' attribute '{c}' must match '{attr}' attribute of first listen element (found '{o}')"
        ))),
        (Some(o), _) => Ok(Some(o)),
        (None, c) => Ok(c),
    }
}

/// An attribute libvirt prints with `%s`, unescaped.
fn raw_attr(a: &mut Attrs, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        a.0.push_str(&format!(" {name}='{v}'"));
    }
}

/// `virDomainGraphicsListensParseXML`: the `<listen>` children, or one
/// made from the legacy `listen` (or, for VNC, `socket`) attribute.
fn parse_listens(e: &Element, gtype: GraphicsType) -> Result<Vec<Listen>> {
    let mut listens = Vec::new();
    for (i, l) in e.children_named("listen").enumerate() {
        listens.push(Listen::parse(l, gtype, (i == 0).then_some(e))?);
    }
    let legacy_socket = e
        .attr_string("socket")
        .filter(|_| gtype == GraphicsType::Vnc);
    let legacy = match legacy_socket {
        Some(s) => Listen {
            socket: Some(s),
            ..Listen::new(ListenType::Socket)
        },
        None => Listen {
            address: e.attr_string("listen").filter(|a| !a.is_empty()),
            ..Listen::new(ListenType::Address)
        },
    };
    match listens.first_mut() {
        None => listens.push(legacy),
        Some(first)
            if matches!(first.listen_type, ListenType::Address | ListenType::Network)
                && legacy.listen_type == ListenType::Socket =>
        {
            *first = legacy
        }
        Some(_) => {}
    }
    Ok(listens)
}

/// `virDomainGraphicsAuthDef`: the password and what happens to clients
/// connected when it changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Auth {
    pub passwd: Option<String>,
    /// `passwdValidTo`, UTC: year, month, day, hour, minute, second.
    pub valid_to: Option<[i32; 6]>,
    pub connected: Option<Connected>,
}

impl Auth {
    /// `virDomainGraphicsAuthDefParseXML`: nothing is read without a password.
    pub(crate) fn parse(e: &Element, gtype: GraphicsType) -> Result<Auth> {
        let Some(passwd) = e.attr_string("passwd") else {
            return Ok(Auth::default());
        };
        let valid_to = e.attr("passwdValidTo").map(parse_valid_to).transpose()?;
        let connected = match e.attr("connected") {
            None => None,
            Some(c) => match Connected::from_str_opt(c) {
                Some(Connected::Keep) => Some(Connected::Keep),
                Some(_) if gtype == GraphicsType::Vnc => {
                    return Err(unsupported("VNC supports connected='keep' only"))
                }
                Some(v) => Some(v),
                None => return Err(unsupported(format!("unknown connected value {c}"))),
            },
        };
        Ok(Auth {
            passwd: Some(passwd),
            valid_to,
            connected,
        })
    }

    pub(crate) fn format(&self, a: &mut Attrs, opts: &FormatOptions) {
        if self.passwd.is_none() {
            return;
        }
        if opts.secure {
            a.opt("passwd", self.passwd.as_deref());
        }
        if let Some([y, mo, d, h, mi, s]) = self.valid_to {
            a.add(
                "passwdValidTo",
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"),
            );
        }
        a.opt("connected", self.connected.map(Connected::as_str));
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, each part as `virStrToLong_i` reads it.
fn parse_valid_to(v: &str) -> Result<[i32; 6]> {
    let bad = || {
        internal(format!(
            "cannot parse password validity time '{v}', expect YYYY-MM-DDTHH:MM:SS"
        ))
    };
    let mut out = [0; 6];
    let mut rest = v;
    for (i, sep) in ['-', '-', 'T', ':', ':', '\0'].into_iter().enumerate() {
        let end = if sep == '\0' {
            rest.len()
        } else {
            rest.find(sep).ok_or_else(bad)?
        };
        out[i] = rest[..end].trim_start().parse().map_err(|_| bad())?;
        rest = rest.get(end + 1..).unwrap_or("");
    }
    Ok(out)
}

/// VNC's own settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vnc {
    /// 0 when unset or automatic.
    pub port: i32,
    pub autoport: bool,
    pub websocket: i32,
    pub websocket_generated: bool,
    pub share_policy: Option<SharePolicy>,
    pub power_control: Option<TriBool>,
    pub keymap: Option<String>,
    /// `<audio id>`; 0 is unset.
    pub audio_id: u32,
    pub auth: Auth,
}

/// `virStrToLong_i` of a port, with the type's own message.
fn parse_port(e: &Element, what: &str) -> Result<Option<i32>> {
    let Some(p) = e.attr("port") else {
        return Ok(None);
    };
    p.trim_start()
        .parse()
        .map(Some)
        .map_err(|_| internal(format!("cannot parse {what} port {p}")))
}

/// `virStringParseYesNo` whose failure libvirt ignores.
fn yes_no(e: &Element, name: &str) -> Option<bool> {
    match e.attr(name) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

/// The `<audio id>` child (`VIR_XML_PROP_REQUIRED | VIR_XML_PROP_NONZERO`).
fn audio_id(e: &Element) -> Result<u32> {
    match e.child("audio") {
        Some(a) => Ok(props::uint(a, "id", true, true)?.unwrap_or(0)),
        None => Ok(0),
    }
}

impl Vnc {
    /// `virDomainGraphicsDefParseXMLVNC`, as an inactive definition.
    fn parse(e: &Element) -> Result<Vnc> {
        let mut v = Vnc::default();
        match parse_port(e, "vnc")? {
            Some(-1) | None => v.autoport = true,
            Some(p) => v.port = p,
        }
        if let Some(auto) = yes_no(e, "autoport") {
            v.autoport = auto;
        }
        if v.autoport {
            v.port = 0;
        }
        v.websocket = props::int(e, "websocket")?.unwrap_or(0);
        v.websocket_generated = yes_no(e, "websocketGenerated").unwrap_or(false);
        v.share_policy = props::enumeration(e, "sharePolicy", false)?;
        v.power_control = props::tribool(e, "powerControl")?;
        v.keymap = e.attr_string("keymap");
        v.audio_id = audio_id(e)?;
        v.auth = Auth::parse(e, GraphicsType::Vnc)?;
        Ok(v)
    }

    fn format(&self, a: &mut Attrs, first: Option<&Listen>, opts: &FormatOptions) {
        match first.map(|l| l.listen_type) {
            Some(ListenType::Socket) => {
                a.opt("socket", first.and_then(|l| l.socket.as_deref()));
            }
            Some(ListenType::Address | ListenType::Network) => {
                if self.port != 0 && (!self.autoport || !opts.inactive) {
                    a.add("port", self.port);
                } else if self.autoport {
                    a.add("port", -1);
                }
                a.add("autoport", if self.autoport { "yes" } else { "no" });
                if self.websocket_generated && opts.inactive {
                    a.add("websocket", -1);
                } else if self.websocket != 0 {
                    a.add("websocket", self.websocket);
                }
                listen_attr(a, first, opts);
            }
            _ => {}
        }
        a.opt("keymap", self.keymap.as_deref());
        a.opt(
            "sharePolicy",
            self.share_policy
                .filter(|p| *p != SharePolicy::Default)
                .map(SharePolicy::as_str),
        );
        a.opt("powerControl", self.power_control.map(TriBool::as_str));
        self.auth.format(a, opts);
    }
}

/// `virDomainGraphicsListenDefFormatAddr`: the legacy `listen` attribute
/// mirroring the first listen's address.
pub(crate) fn listen_attr(a: &mut Attrs, first: Option<&Listen>, opts: &FormatOptions) {
    let Some(l) = first else { return };
    if l.listen_type == ListenType::Network && opts.inactive {
        return;
    }
    raw_attr(a, "listen", l.address.as_deref());
}

/// RDP's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rdp {
    pub port: i32,
    pub autoport: bool,
    pub replace_user: bool,
    pub multi_user: bool,
}

impl Rdp {
    fn parse(e: &Element) -> Result<Rdp> {
        let mut r = Rdp::default();
        match parse_port(e, "rdp")? {
            Some(-1) | None => r.autoport = true,
            Some(p) => r.port = p,
        }
        r.autoport |= e.attr("autoport") == Some("yes");
        if r.autoport {
            r.port = 0;
        }
        r.replace_user = e.attr("replaceUser") == Some("yes");
        r.multi_user = e.attr("multiUser") == Some("yes");
        Ok(r)
    }

    fn format(&self, a: &mut Attrs, first: Option<&Listen>, opts: &FormatOptions) {
        if self.port != 0 {
            a.add("port", self.port);
        } else if self.autoport {
            a.add("port", 0);
        }
        let yes = |a: &mut Attrs, name, set| {
            if set {
                a.add(name, "yes");
            }
        };
        yes(a, "autoport", self.autoport);
        yes(a, "replaceUser", self.replace_user);
        yes(a, "multiUser", self.multi_user);
        listen_attr(a, first, opts);
    }
}

/// SDL's and the desktop's settings (SDL alone has `<gl>` and `xauth`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalDisplay {
    pub display: Option<String>,
    pub xauth: Option<String>,
    pub fullscreen: bool,
    pub gl: Option<TriBool>,
}

impl LocalDisplay {
    fn parse(e: &Element, sdl: bool) -> Result<LocalDisplay> {
        let fullscreen = props::tribool(e, "fullscreen")? == Some(TriBool::Yes);
        let gl = match e.child("gl").filter(|_| sdl) {
            Some(g) => props::enumeration(g, "enable", true)?,
            None => None,
        };
        Ok(LocalDisplay {
            display: e.attr_string("display"),
            xauth: e.attr_string("xauth").filter(|_| sdl),
            fullscreen,
            gl,
        })
    }

    fn format(&self, a: &mut Attrs) {
        a.opt("display", self.display.as_deref());
        a.opt("xauth", self.xauth.as_deref());
        if self.fullscreen {
            a.add("fullscreen", "yes");
        }
    }
}

/// D-Bus display settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dbus {
    pub p2p: bool,
    pub address: Option<String>,
    pub gl: Option<TriBool>,
    pub rendernode: Option<String>,
    pub audio_id: u32,
}

impl Dbus {
    fn parse(e: &Element) -> Result<Dbus> {
        let p2p = props::tribool(e, "p2p")? == Some(TriBool::Yes);
        let (gl, rendernode) = parse_gl(e)?;
        Ok(Dbus {
            p2p,
            address: e.attr_string("address"),
            gl,
            rendernode,
            audio_id: audio_id(e)?,
        })
    }
}

/// A `<gl enable= rendernode=>` child (enable required).
pub(crate) fn parse_gl(e: &Element) -> Result<(Option<TriBool>, Option<String>)> {
    match e.child("gl") {
        Some(g) => {
            let rendernode = g.attr_string("rendernode");
            Ok((props::enumeration(g, "enable", true)?, rendernode))
        }
        None => Ok((None, None)),
    }
}

/// `<gl enable='..' rendernode='..'/>` when `enable` is set.
pub(crate) fn format_gl(w: &mut Writer, gl: Option<TriBool>, rendernode: Option<&str>) {
    if let Some(g) = gl {
        let mut a = Attrs::new();
        a.add("enable", g.as_str());
        a.opt("rendernode", rendernode);
        w.line(&format!("<gl{}/>", a.as_str()));
    }
}

/// The settings of one graphics type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphicsKind {
    Sdl(LocalDisplay),
    Vnc(Vnc),
    Rdp(Rdp),
    Desktop(LocalDisplay),
    Spice(Box<Spice>),
    EglHeadless { rendernode: Option<String> },
    Dbus(Dbus),
}

/// `<graphics>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graphics {
    pub kind: GraphicsKind,
    /// VNC, SPICE and RDP: at least one after parsing.
    pub listens: Vec<Listen>,
}

impl Graphics {
    pub fn graphics_type(&self) -> GraphicsType {
        match self.kind {
            GraphicsKind::Sdl(_) => GraphicsType::Sdl,
            GraphicsKind::Vnc(_) => GraphicsType::Vnc,
            GraphicsKind::Rdp(_) => GraphicsType::Rdp,
            GraphicsKind::Desktop(_) => GraphicsType::Desktop,
            GraphicsKind::Spice(_) => GraphicsType::Spice,
            GraphicsKind::EglHeadless { .. } => GraphicsType::EglHeadless,
            GraphicsKind::Dbus(_) => GraphicsType::Dbus,
        }
    }

    /// `virDomainGraphicsDefParseXML` and the SPICE half of
    /// `virDomainDefPostParseGraphics`.
    pub(crate) fn parse(e: &Element) -> Result<Graphics> {
        let gtype: GraphicsType = props::enumeration(e, "type", true)?.unwrap_or(GraphicsType::Sdl);
        let listens = match gtype {
            GraphicsType::Vnc | GraphicsType::Spice | GraphicsType::Rdp => parse_listens(e, gtype)?,
            _ => Vec::new(),
        };
        let kind = match gtype {
            GraphicsType::Vnc => GraphicsKind::Vnc(Vnc::parse(e)?),
            GraphicsType::Sdl => GraphicsKind::Sdl(LocalDisplay::parse(e, true)?),
            GraphicsType::Rdp => GraphicsKind::Rdp(Rdp::parse(e)?),
            GraphicsType::Desktop => GraphicsKind::Desktop(LocalDisplay::parse(e, false)?),
            GraphicsType::Spice => GraphicsKind::Spice(Box::new(Spice::parse(e)?)),
            GraphicsType::EglHeadless => GraphicsKind::EglHeadless {
                rendernode: e.child("gl").and_then(|g| g.attr_string("rendernode")),
            },
            GraphicsType::Dbus => GraphicsKind::Dbus(Dbus::parse(e)?),
        };
        let mut g = Graphics { kind, listens };
        if let GraphicsKind::Spice(s) = &g.kind {
            // Spice without ports nor autoport listens nowhere: type none.
            let first = &mut g.listens[0];
            let no_port = s.port == 0 && s.tls_port == 0 && !s.autoport;
            if first.listen_type == ListenType::Address && no_port {
                *first = Listen::new(ListenType::None);
            }
        }
        Ok(g)
    }

    /// `virDomainGraphicsDefValidate`.
    pub(crate) fn validate(&self, audios: &[Audio]) -> Result<()> {
        if self
            .listens
            .iter()
            .any(|l| l.listen_type == ListenType::Network && l.network.is_none())
        {
            return Err(internal_xml(
                "'network' attribute is required for listen type 'network'",
            ));
        }
        match &self.kind {
            GraphicsKind::Vnc(v) => ensure_audio(audios, v.audio_id),
            GraphicsKind::Dbus(d) if d.p2p && d.address.is_some() => {
                Err(internal_xml("D-Bus p2p with an address is not supported"))
            }
            _ => Ok(()),
        }
    }

    /// `virDomainGraphicsDefFormat`.
    pub(crate) fn format(&self, w: &mut Writer, opts: &FormatOptions) {
        let first = self.listens.first();
        let mut a = Attrs::new();
        a.add("type", self.graphics_type().as_str());
        match &self.kind {
            GraphicsKind::Vnc(v) => v.format(&mut a, first, opts),
            GraphicsKind::Sdl(d) | GraphicsKind::Desktop(d) => d.format(&mut a),
            GraphicsKind::Rdp(r) => r.format(&mut a, first, opts),
            GraphicsKind::Spice(s) => s.format_attrs(&mut a, first, opts),
            GraphicsKind::EglHeadless { .. } => {}
            GraphicsKind::Dbus(d) => {
                if d.p2p {
                    a.add("p2p", "yes");
                }
                raw_attr(&mut a, "address", d.address.as_deref());
            }
        }
        w.elem_with("graphics", a.as_str(), |w| self.format_children(w, opts));
    }

    fn format_children(&self, w: &mut Writer, opts: &FormatOptions) {
        match &self.kind {
            GraphicsKind::Sdl(d) => format_gl(w, d.gl, None),
            GraphicsKind::EglHeadless {
                rendernode: Some(r),
            } => w.line(&format!("<gl rendernode='{}'/>", super::esc(r))),
            GraphicsKind::Dbus(d) => {
                format_gl(w, d.gl, d.rendernode.as_deref());
                format_audio(w, d.audio_id);
            }
            _ => {}
        }
        for l in &self.listens {
            l.format(w, opts);
        }
        match &self.kind {
            GraphicsKind::Spice(s) => s.format_children(w),
            GraphicsKind::Vnc(v) => format_audio(w, v.audio_id),
            _ => {}
        }
    }
}

fn format_audio(w: &mut Writer, id: u32) {
    if id > 0 {
        w.line(&format!("<audio id='{id}'/>"));
    }
}

/// `virDomainEnsureAudioID` for a display's audio backend.
fn ensure_audio(audios: &[Audio], id: u32) -> Result<()> {
    if id == 0 || audios.iter().any(|a| a.id == id) {
        return Ok(());
    }
    Err(internal_xml(format!("no audio device with ID {id}")))
}

/// Every display's checks.
pub(crate) fn validate_all(graphics: &[Graphics], audios: &[Audio]) -> Result<()> {
    graphics.iter().try_for_each(|g| g.validate(audios))
}

/// `virDomainDefAddImplicitVideo`: a display without a `<video>` gets the
/// default adapter, of the model the test driver picks for the guest
/// (`testDomainDevicesDefPostParse`).
pub(crate) fn add_implicit_video(
    graphics: &[Graphics],
    videos: &mut Vec<Video>,
    os: &OsDef,
) -> Result<()> {
    if graphics.is_empty() || !videos.is_empty() {
        return Ok(());
    }
    let model = match os.os_type {
        OsType::Xen | OsType::Linux => "xen",
        _ if os.arch.is_some_and(Arch::is_ppc64) => "vga",
        _ => "cirrus",
    };
    let text = format!("<video><model type='{model}'/></video>");
    let e = crate::xml::parse_raw(&text).map_err(|_| internal("implicit video"))?;
    videos.push(Video::parse(&e, os)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn graphics_as_virsh() {
        let vnc = "<audio id='1' type='none'/><graphics type='vnc' port='5903' autoport='no' \
                   listen='1.2.3.4' keymap='de' sharePolicy='force-shared' passwd='x' \
                   passwdValidTo='2010-04-09T15:51:00' connected='keep'>\
                   <listen type='address'/><audio id='1'/></graphics>";
        assert_dump_holds(
            dump_devices,
            vnc,
            "    <graphics type='vnc' port='5903' autoport='no' listen='1.2.3.4' keymap='de' sharePolicy='force-shared' passwdValidTo='2010-04-09T15:51:00' connected='keep'>\n      <listen type='address' address='1.2.3.4'/>\n      <audio id='1'/>\n    </graphics>\n",
        );
        let spice = "<graphics type='spice' autoport='yes' defaultMode='secure'>\
                     <listen type='network' network='default' address='9.9.9.9'/>\
                     <channel name='main' mode='secure'/><channel name='inputs' mode='insecure'/>\
                     <image compression='auto_glz'/><streaming mode='filter'/>\
                     <clipboard copypaste='no'/><mouse mode='client'/>\
                     <filetransfer enable='no'/><gl enable='yes' rendernode='/dev/dri/foo'/>\
                     </graphics>";
        assert_dump_holds(
            dump_devices,
            spice,
            "    <graphics type='spice' autoport='yes' defaultMode='secure'>\n      <listen type='network' network='default'/>\n      <channel name='main' mode='secure'/>\n      <channel name='inputs' mode='insecure'/>\n      <image compression='auto_glz'/>\n      <streaming mode='filter'/>\n      <mouse mode='client'/>\n      <clipboard copypaste='no'/>\n      <filetransfer enable='no'/>\n      <gl enable='yes' rendernode='/dev/dri/foo'/>\n    </graphics>\n",
        );
        let others = "<graphics type='sdl' display=':0.1' xauth='/root/.Xauthority' fullscreen='yes'>\
                      <gl enable='no'/></graphics><graphics type='rdp' autoport='yes' multiUser='yes'/>\
                      <graphics type='egl-headless'><gl rendernode='/dev/dri/x'/></graphics>\
                      <graphics type='dbus' p2p='yes'/>";
        assert_dump_holds(
            dump_devices,
            others,
            "    <graphics type='sdl' display=':0.1' xauth='/root/.Xauthority' fullscreen='yes'>\n      <gl enable='no'/>\n    </graphics>\n    <graphics type='rdp' port='0' autoport='yes' multiUser='yes'>\n      <listen type='address'/>\n    </graphics>\n    <graphics type='egl-headless'>\n      <gl rendernode='/dev/dri/x'/>\n    </graphics>\n    <graphics type='dbus' p2p='yes'/>\n    <video>\n      <model type='cirrus' vram='16384' heads='1' primary='yes'/>\n    </video>\n",
        );
    }

    #[test]
    fn graphics_errors_as_virsh() {
        assert_errors(
            dump_devices,
            &[
                ("<graphics type='vnc'><listen type='network'/></graphics>", "XML error: 'network' attribute is required for listen type 'network'"),
                ("<graphics type='vnc' listen='1.1.1.1'><listen type='address' address='2.2.2.2'/></graphics>", "unsupported configuration: graphics 'listen' attribute '1.1.1.1' must match 'address' attribute of first listen element (found '2.2.2.2')"),
                ("<graphics type='rdp'><listen type='none'/></graphics>", "unsupported configuration: listen type 'none' is not available for graphics type 'rdp'"),
                ("<graphics type='vnc'><listen type='address' network='x'/></graphics>", "XML error: 'network' attribute is valid only for listen type 'network'"),
                ("<graphics type='vnc' passwd='a' connected='fail'/>", "unsupported configuration: VNC supports connected='keep' only"),
                ("<graphics type='spice' passwd='a' connected='bogus'/>", "unsupported configuration: unknown connected value bogus"),
                ("<graphics type='vnc' port='x'/>", "internal error: cannot parse vnc port x"),
                ("<graphics type='vnc'><audio id='3'/></graphics>", "XML error: no audio device with ID 3"),
                ("<graphics type='dbus' p2p='yes' address='unix:path=/x'/>", "XML error: D-Bus p2p with an address is not supported"),
                ("<graphics type='spice'><image compression='default'/></graphics>", "XML error: Invalid value for attribute 'compression' in element 'image': 'default'."),
                ("<graphics type='vnc' passwd='a' passwdValidTo='2010-04-09'/>", "internal error: cannot parse password validity time '2010-04-09', expect YYYY-MM-DDTHH:MM:SS"),
                ("<graphics type='foo'/>", "XML error: Invalid value for attribute 'type' in element 'graphics': 'foo'."),
            ],
        );
    }
}
