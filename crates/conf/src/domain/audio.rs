//! `<audio>`: an audio backend (`virDomainAudioDef`), parse, validate and
//! format as `virDomainAudioDefParseXML` / `virDomainAudioDefFormat`.

use super::props::{self, vir_enum, TriBool, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainAudioType`.
    pub enum AudioType {
        None = "none", Alsa = "alsa", CoreAudio = "coreaudio", Jack = "jack",
        Oss = "oss", PulseAudio = "pulseaudio", Sdl = "sdl", Spice = "spice",
        File = "file", Dbus = "dbus",
    }

    /// `virDomainAudioSDLDriver` (its empty default is `None`).
    pub enum SdlDriver { Esd = "esd", Alsa = "alsa", Arts = "arts", PulseAudio = "pulseaudio" }

    /// `virDomainAudioFormat` (its empty default is `None`).
    pub enum AudioFormat {
        U8 = "u8", S8 = "s8", U16 = "u16", S16 = "s16",
        U32 = "u32", S32 = "s32", F32 = "f32",
    }
}

/// `<input>` / `<output>`: the common settings (`virDomainAudioIOCommon`)
/// and the backend's own attributes; only the backend's are ever set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AudioIo {
    pub mixing_engine: Option<TriBool>,
    pub fixed_settings: Option<TriBool>,
    pub voices: Option<u32>,
    pub buffer_length: Option<u32>,
    pub frequency: Option<u32>,
    pub channels: Option<u32>,
    pub format: Option<AudioFormat>,
    /// alsa, oss.
    pub dev: Option<String>,
    /// coreaudio, oss, sdl (0 is "unset", as in libvirt).
    pub buffer_count: Option<u32>,
    /// oss.
    pub try_poll: Option<TriBool>,
    /// jack.
    pub server_name: Option<String>,
    pub client_name: Option<String>,
    pub connect_ports: Option<String>,
    pub exact_name: Option<TriBool>,
    /// pulseaudio.
    pub name: Option<String>,
    pub stream_name: Option<String>,
    pub latency: Option<u32>,
}

/// `<audio>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audio {
    pub id: u32,
    pub audio_type: AudioType,
    pub timer_period: Option<u32>,
    pub input: AudioIo,
    pub output: AudioIo,
    /// oss.
    pub try_mmap: Option<TriBool>,
    pub exclusive: Option<TriBool>,
    pub dsp_policy: Option<i32>,
    /// pulseaudio.
    pub server_name: Option<String>,
    /// sdl.
    pub sdl_driver: Option<SdlDriver>,
    /// file.
    pub path: Option<String>,
}

/// `virDomainAudioCommonParse`.
fn parse_common(e: &Element) -> Result<AudioIo> {
    let mut io = AudioIo {
        mixing_engine: props::tribool(e, "mixingEngine")?,
        fixed_settings: props::tribool(e, "fixedSettings")?,
        ..AudioIo::default()
    };
    let fixed = io.fixed_settings == Some(TriBool::Yes);
    if fixed && io.mixing_engine != Some(TriBool::Yes) {
        return Err(unsupported("fixed audio settings requires mixing engine"));
    }
    io.voices = props::uint(e, "voices", false, true)?;
    io.buffer_length = props::uint(e, "bufferLength", false, true)?;
    if let Some(s) = e.child("settings") {
        if !fixed {
            return Err(unsupported(
                "audio settings specified without fixed settings flag",
            ));
        }
        io.frequency = props::uint(s, "frequency", false, true)?;
        io.channels = props::uint(s, "channels", false, true)?;
        io.format = props::enumeration(s, "format", false)?;
    }
    Ok(io)
}

/// The backend's attributes of one direction.
fn parse_backend_io(t: AudioType, e: &Element, io: &mut AudioIo) -> Result<()> {
    let count = |e| props::uint(e, "bufferCount", false, false);
    match t {
        AudioType::Alsa => io.dev = e.attr_string("dev"),
        AudioType::CoreAudio | AudioType::Sdl => io.buffer_count = count(e)?,
        AudioType::Jack => {
            io.server_name = e.attr_string("serverName");
            io.client_name = e.attr_string("clientName");
            io.connect_ports = e.attr_string("connectPorts");
            io.exact_name = props::tribool(e, "exactName")?;
        }
        AudioType::Oss => {
            io.dev = e.attr_string("dev");
            io.try_poll = props::tribool(e, "tryPoll")?;
            io.buffer_count = count(e)?;
        }
        AudioType::PulseAudio => {
            io.name = e.attr_string("name");
            io.stream_name = e.attr_string("streamName");
            io.latency = props::uint(e, "latency", false, false)?;
        }
        _ => {}
    }
    Ok(())
}

impl Audio {
    /// An `<audio>` with nothing but its id and type set (a driver's
    /// implicit backend, or the start of a parse).
    pub fn new(id: u32, audio_type: AudioType) -> Audio {
        Audio {
            id,
            audio_type,
            timer_period: None,
            input: AudioIo::default(),
            output: AudioIo::default(),
            try_mmap: None,
            exclusive: None,
            dsp_policy: None,
            server_name: None,
            sdl_driver: None,
            path: None,
        }
    }

    pub(crate) fn parse(e: &Element) -> Result<Audio> {
        let audio_type = props::enumeration(e, "type", true)?.unwrap_or(AudioType::None);
        let id = props::uint(e, "id", true, true)?.unwrap_or(1);
        let mut a = Audio {
            timer_period: props::uint(e, "timerPeriod", false, true)?,
            ..Audio::new(id, audio_type)
        };
        for (name, io) in [("input", &mut a.input), ("output", &mut a.output)] {
            if let Some(n) = e.child(name) {
                *io = parse_common(n)?;
                parse_backend_io(audio_type, n, io)?;
            }
        }
        match audio_type {
            AudioType::Oss => {
                a.try_mmap = props::tribool(e, "tryMMap")?;
                a.exclusive = props::tribool(e, "exclusive")?;
                a.dsp_policy = props::int(e, "dspPolicy")?;
                if let Some(p) = a.dsp_policy.filter(|p| *p < 0) {
                    return Err(internal_xml(format!(
                        "cannot parse 'dspPolicy' value '{p}'"
                    )));
                }
            }
            AudioType::PulseAudio => a.server_name = e.attr_string("serverName"),
            AudioType::Sdl => a.sdl_driver = props::enumeration(e, "driver", false)?,
            AudioType::File => a.path = e.attr_string("path"),
            _ => {}
        }
        Ok(a)
    }

    /// `virDomainAudioDefValidate`: IDs are unique.
    pub(crate) fn validate_all(audios: &[Audio]) -> Result<()> {
        for (i, a) in audios.iter().enumerate() {
            if audios[..i].iter().any(|b| b.id == a.id) {
                return Err(internal_xml(format!(
                    "audio ID {} is used multiple times",
                    a.id
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("id", self.id);
        a.add("type", self.audio_type.as_str());
        a.opt("timerPeriod", self.timer_period);
        a.opt("tryMMap", self.try_mmap.map(TriBool::as_str));
        a.opt("exclusive", self.exclusive.map(TriBool::as_str));
        a.opt("dspPolicy", self.dsp_policy);
        a.opt("serverName", self.server_name.as_deref());
        a.opt("driver", self.sdl_driver.map(SdlDriver::as_str));
        a.opt("path", self.path.as_deref());
        w.elem_with("audio", a.as_str(), |w| {
            format_io(&self.input, "input", w);
            format_io(&self.output, "output", w);
        });
    }
}

/// `virDomainAudioCommonFormat` with the backend attributes appended.
fn format_io(io: &AudioIo, direction: &str, w: &mut Writer) {
    let mut backend = Attrs::new();
    backend.opt("dev", io.dev.as_deref());
    backend.opt("bufferCount", io.buffer_count.filter(|c| *c != 0));
    backend.opt("tryPoll", io.try_poll.map(TriBool::as_str));
    backend.opt("serverName", io.server_name.as_deref());
    backend.opt("clientName", io.client_name.as_deref());
    backend.opt("connectPorts", io.connect_ports.as_deref());
    backend.opt("exactName", io.exact_name.map(TriBool::as_str));
    backend.opt("name", io.name.as_deref());
    backend.opt("streamName", io.stream_name.as_deref());
    backend.opt("latency", io.latency.filter(|l| *l != 0));
    let any = io.mixing_engine.is_some()
        || io.fixed_settings.is_some()
        || io.voices.is_some()
        || io.buffer_length.is_some()
        || !backend.as_str().is_empty();
    if !any {
        return;
    }
    let mut a = Attrs::new();
    a.opt("mixingEngine", io.mixing_engine.map(TriBool::as_str));
    a.opt("fixedSettings", io.fixed_settings.map(TriBool::as_str));
    a.opt("voices", io.voices);
    a.opt("bufferLength", io.buffer_length);
    let head = format!("<{direction}{}{}", a.as_str(), backend.as_str());
    if io.fixed_settings != Some(TriBool::Yes) {
        w.line(&format!("{head}/>"));
        return;
    }
    // Fixed settings always print <settings>, empty or not.
    let mut s = Attrs::new();
    s.opt("frequency", io.frequency);
    s.opt("channels", io.channels);
    s.opt("format", io.format.map(AudioFormat::as_str));
    w.line(&format!("{head}>"));
    w.line(&format!("  <settings{}/>", s.as_str()));
    w.line(&format!("</{direction}>"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml;
    use rvirt_util::ErrorDomain;

    fn parse(s: &str) -> Result<Audio> {
        Audio::parse(&xml::parse(s, "t", ErrorDomain::DOMAIN)?)
    }

    #[test]
    fn round_trip_oss() {
        let a = parse("<audio id='1' type='oss' dspPolicy='3'><input mixingEngine='yes' fixedSettings='yes' dev='/dev/dsp0'><settings channels='2'/></input></audio>").unwrap();
        let mut w = Writer::new();
        a.format(&mut w);
        assert_eq!(
            w.finish(),
            "<audio id='1' type='oss' dspPolicy='3'>\n  <input mixingEngine='yes' fixedSettings='yes' dev='/dev/dsp0'>\n    <settings channels='2'/>\n  </input>\n</audio>\n"
        );
    }

    #[test]
    fn errors() {
        let e = parse("<audio type='none'/>").unwrap_err();
        assert_eq!(
            e.message,
            "XML error: Missing required attribute 'id' in element 'audio'"
        );
        let e = parse("<audio id='0' type='none'/>").unwrap_err();
        assert!(e.message.ends_with("Zero is not permitted"));
        let e = parse("<audio id='1' type='x'/>").unwrap_err();
        assert!(e.message.ends_with("in element 'audio': 'x'."));
    }
}
