//! What a user sees and touches: inputs (`qemuBuildInputCommandLine`),
//! audio backends, VNC (`qemuBuildGraphicsVNCCommandLine`) and video
//! (`qemuBuildVideoCommandLine`).

use super::address::device_address;
use super::json::Props;
use super::{unsupported, Args};
use rvirt_conf::domain::audio::AudioType;
use rvirt_conf::domain::devices::{InputBus, InputType};
use rvirt_conf::domain::graphics::{GraphicsKind, ListenType, Vnc};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::video::VideoModel;
use rvirt_conf::domain::virtio::VirtioOptions;
use rvirt_conf::domain::{DomainDef, InputSource, Video};
use rvirt_util::Result;

/// VNC's display numbers start at this TCP port.
const VNC_BASE_PORT: i32 = 5900;

/// PS/2 devices are the chipset's; USB and virtio ones are `-device`s
/// named by their user alias or `inputN` by position.
pub(super) fn inputs(a: &mut Args, def: &DomainDef) -> Result<()> {
    for (i, input) in def.devices.inputs.iter().enumerate() {
        let unexpressed = input.model.is_some()
            || input.source != InputSource::default()
            || input.virtio != VirtioOptions::default();
        if unexpressed {
            return Err(unsupported(
                "input model, source and driver options are not supported by the rvirt QEMU driver yet",
            ));
        }
        let driver = match (input.bus, input.input_type) {
            (InputBus::Ps2, _) => continue,
            (InputBus::Usb, InputType::Tablet) => "usb-tablet",
            (InputBus::Usb, InputType::Mouse) => "usb-mouse",
            (InputBus::Usb, InputType::Keyboard) => "usb-kbd",
            (InputBus::Virtio, InputType::Tablet) => "virtio-tablet-pci",
            (InputBus::Virtio, InputType::Mouse) => "virtio-mouse-pci",
            (InputBus::Virtio, InputType::Keyboard) => "virtio-keyboard-pci",
            (bus, kind) => {
                return Err(unsupported(format!(
                    "input '{}' on bus '{}' is not supported by rvirt yet",
                    kind.as_str(),
                    bus.as_str()
                )))
            }
        };
        // A user alias (`ua-`) is the device's id, as qemuAssignDeviceAliases keeps it.
        let id = input
            .info
            .alias
            .clone()
            .unwrap_or_else(|| format!("input{i}"));
        let p = Props::new().str("driver", driver).str("id", &id);
        a.json("-device", device_address(p, &input.address, def));
    }
    Ok(())
}

/// `-audiodev` per `<audio>`; only the `none` backend so far.
pub(super) fn audio(a: &mut Args, def: &DomainDef) -> Result<()> {
    for audio in &def.devices.audios {
        if audio.audio_type != AudioType::None {
            return Err(unsupported(format!(
                "audio type '{}' is not supported by rvirt yet",
                audio.audio_type.as_str()
            )));
        }
        let p = Props::new()
            .str("id", &format!("audio{}", audio.id))
            .str("driver", "none");
        a.json("-audiodev", p);
    }
    Ok(())
}

/// `-vnc LISTEN:DISPLAY,audiodev=audioN`; an automatic port is display 0
/// here (the driver fills the port it allocated before building).
pub(super) fn graphics(a: &mut Args, def: &DomainDef) -> Result<()> {
    for g in &def.devices.graphics {
        let GraphicsKind::Vnc(v) = &g.kind else {
            return Err(unsupported(format!(
                "graphics type '{}' is not supported by rvirt yet",
                g.graphics_type().as_str()
            )));
        };
        refuse_unexpressed_vnc(v, g.listens.len())?;
        let first = g.listens.first();
        let mut vnc = match first.map(|l| l.listen_type) {
            Some(ListenType::None) => "none".to_string(),
            Some(ListenType::Socket) => {
                return Err(unsupported(
                    "VNC on a unix socket is not supported by rvirt yet",
                ))
            }
            _ => {
                let listen = first.and_then(|l| l.address.as_deref());
                let listen = listen.unwrap_or("127.0.0.1");
                let listen = if listen.contains(':') {
                    format!("[{listen}]")
                } else {
                    listen.to_string()
                };
                format!("{listen}:{}", (v.port - VNC_BASE_PORT).max(0))
            }
        };
        if let Some(audio) = def.devices.audios.first() {
            vnc.push_str(&format!(",audiodev=audio{}", audio.id));
        }
        a.opt("-vnc", vnc);
    }
    Ok(())
}

/// VNC settings the command line does not express yet are refused rather
/// than started without them.
fn refuse_unexpressed_vnc(v: &Vnc, listens: usize) -> Result<()> {
    let unexpressed = [
        ("passwd", v.auth.passwd.is_some()),
        ("keymap", v.keymap.is_some()),
        ("websocket", v.websocket != 0),
        ("sharePolicy", v.share_policy.is_some()),
        ("powerControl", v.power_control.is_some()),
        ("audio", v.audio_id != 0),
        ("listen", listens > 1),
    ];
    match unexpressed.iter().find(|(_, set)| *set) {
        Some((what, _)) => Err(unsupported(format!(
            "VNC '{what}' setting is not supported by rvirt yet"
        ))),
        None => Ok(()),
    }
}

pub(super) fn videos(a: &mut Args, def: &DomainDef) -> Result<()> {
    for (i, video) in def.devices.videos.iter().enumerate() {
        if video.model == VideoModel::None {
            continue;
        }
        let p = video_props(video, i)?;
        a.json("-device", device_address(p, &video.address, def));
    }
    Ok(())
}

/// The device of one video model; the primary (first) one is VGA-compatible.
fn video_props(video: &Video, i: usize) -> Result<Props> {
    let id = format!("video{i}");
    let primary = i == 0;
    let p = match video.model {
        VideoModel::Vga => Props::new()
            .str("driver", if primary { "VGA" } else { "secondary-vga" })
            .str("id", &id)
            .num("vgamem_mb", video.vram.unwrap_or(16384) / 1024),
        VideoModel::Cirrus => Props::new().str("driver", "cirrus-vga").str("id", &id),
        VideoModel::Virtio => Props::new()
            .str(
                "driver",
                if primary {
                    "virtio-vga"
                } else {
                    "virtio-gpu-pci"
                },
            )
            .str("id", &id)
            .num("max_outputs", video.heads.unwrap_or(1)),
        VideoModel::Bochs => Props::new()
            .str("driver", "bochs-display")
            .str("id", &id)
            .num("vgamem", video.vram.unwrap_or(16384) * 1024),
        other => {
            return Err(unsupported(format!(
                "video type '{}' is not supported by rvirt yet",
                other.as_str()
            )))
        }
    };
    Ok(p)
}
