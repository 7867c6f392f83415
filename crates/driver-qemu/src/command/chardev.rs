//! Character devices: the QMP monitor, `-chardev` backends
//! (`qemuBuildChardevStr`) and the serial ports, consoles and channels on
//! them (`qemuBuildSerialCommandLine`, `qemuBuildChannelsCommandLine`,
//! `qemuBuildConsoleCommandLine`).

use super::json::Props;
use super::{escape_comma, unsupported, Args, RunContext};
use rvirt_conf::domain::channel::{Channel, ChannelTarget};
use rvirt_conf::domain::chardev::{ChrSource, ChrType, TcpProtocol};
use rvirt_conf::domain::props::{TriBool, VirEnum};
use rvirt_conf::domain::serial::{ConsoleTarget, SerialModel};
use rvirt_conf::domain::{Address, DomainDef};
use rvirt_util::Result;
use std::path::{Path, PathBuf};

/// The QMP monitor on a unix socket QEMU listens on.
pub(super) fn monitor(a: &mut Args, socket: &Path) {
    a.opt(
        "-chardev",
        format!(
            "socket,id=charmonitor,path={},server=on,wait=off",
            escape_comma(&socket.to_string_lossy())
        ),
    );
    a.opt("-mon", "chardev=charmonitor,id=monitor,mode=control");
}

/// The `-chardev` value for `source` under `alias` (`char` + device alias).
pub(super) fn backend(source: &ChrSource, alias: &str) -> Result<String> {
    // libvirt's security drivers label the source; rvirt has none yet.
    if !source.seclabels.is_empty() {
        return Err(unsupported(
            "character device source <seclabel> is not supported by the rvirt QEMU driver yet",
        ));
    }
    let path = || escape_comma(source.path.as_deref().unwrap_or(""));
    let mut out = match source.chr_type {
        ChrType::Null => format!("null,id={alias}"),
        ChrType::Vc => format!("vc,id={alias}"),
        ChrType::Pty => format!("pty,id={alias}"),
        ChrType::Dev => format!("serial,id={alias},path={}", path()),
        ChrType::Pipe => format!("pipe,id={alias},path={}", path()),
        ChrType::Stdio => format!("stdio,id={alias}"),
        ChrType::File => {
            let mut s = format!("file,id={alias},path={}", path());
            if let Some(append) = source.append {
                s.push_str(&format!(",append={}", append.as_str()));
            }
            s
        }
        ChrType::Tcp => {
            let mut s = format!(
                "socket,id={alias},host={},port={}",
                source.host.as_deref().unwrap_or(""),
                source.service.as_deref().unwrap_or("")
            );
            if source.protocol == TcpProtocol::Telnet {
                s.push_str(",telnet=on");
            }
            s.push_str(&listen_and_reconnect(source));
            s
        }
        ChrType::Unix => format!(
            "socket,id={alias},path={}{}",
            path(),
            listen_and_reconnect(source)
        ),
        ChrType::Udp => format!(
            "udp,id={alias},host={},port={},localaddr={},localport={}",
            source.host.as_deref().unwrap_or(""),
            source.service.as_deref().unwrap_or(""),
            source.bind_host.as_deref().unwrap_or(""),
            source.bind_service.as_deref().unwrap_or("0"),
        ),
        other => {
            return Err(unsupported(format!(
                "Unsupported character device type '{}'",
                other.as_str()
            )))
        }
    };
    if let Some(log) = &source.log_file {
        out.push_str(&format!(",logfile={}", escape_comma(log)));
        if let Some(append) = source.log_append {
            out.push_str(&format!(",logappend={}", append.as_str()));
        }
    }
    Ok(out)
}

fn listen_and_reconnect(source: &ChrSource) -> String {
    let mut s = String::new();
    if source.listen {
        s.push_str(",server=on,wait=off");
    }
    if source.reconnect.enabled == Some(TriBool::Yes) {
        s.push_str(&format!(",reconnect={}", source.reconnect.timeout));
    }
    s
}

/// Each `<serial>`: its backend and its ISA/PCI/USB serial device.
pub(super) fn serials(a: &mut Args, def: &DomainDef) -> Result<()> {
    for (i, serial) in def.devices.serials.iter().enumerate() {
        let alias = format!("serial{i}");
        a.opt(
            "-chardev",
            backend(&serial.source, &format!("char{alias}"))?,
        );
        let driver = match serial.target_model {
            None | Some(SerialModel::IsaSerial) => "isa-serial",
            Some(SerialModel::PciSerial) => "pci-serial",
            Some(SerialModel::UsbSerial) => "usb-serial",
            Some(other) => {
                return Err(unsupported(format!(
                    "serial target model '{}' is not supported by rvirt yet",
                    other.as_str()
                )))
            }
        };
        let mut p = Props::new()
            .str("driver", driver)
            .str("chardev", &format!("char{alias}"))
            .str("id", &alias);
        p = match driver {
            "isa-serial" => p.num("index", serial.target_port.unwrap_or(0)),
            _ => super::address::device_address(p, &serial.address, def),
        };
        a.json("-device", p);
    }
    Ok(())
}

/// Where an unnamed-path guest agent socket goes: libvirt's
/// `channelTargetDir/domain-ID-NAME/TARGETNAME`.
fn channel_socket(ctx: &RunContext, target: &str) -> PathBuf {
    channel_dir(&ctx.lib_dir).join(target)
}

/// The channel sockets' directory of the run whose private directory is
/// `lib_dir` (`LIB/domain-ID-NAME`): `LIB/channel/target/domain-ID-NAME`.
pub fn channel_dir(lib_dir: &Path) -> PathBuf {
    let domain_dir = lib_dir.file_name().unwrap_or_default();
    let base = lib_dir.parent().unwrap_or(Path::new("/"));
    base.join("channel/target").join(domain_dir)
}

/// Each `<channel>`: virtio-serial ports (the guest agent and friends).
pub(super) fn channels(a: &mut Args, def: &DomainDef, ctx: &RunContext) -> Result<()> {
    for (i, channel) in def.devices.channels.iter().enumerate() {
        let alias = format!("channel{i}");
        let ChannelTarget::Virtio { name } = &channel.target else {
            return Err(unsupported(
                "only virtio channels are supported by rvirt yet",
            ));
        };
        let source = with_default_path(channel, name.as_deref(), ctx);
        a.opt("-chardev", backend(&source, &format!("char{alias}"))?);
        let p = virtio_serial_port("virtserialport", &channel.address, &alias)
            .opt_str("name", name.as_deref());
        a.json("-device", p);
    }
    Ok(())
}

/// A unix channel without a path listens where libvirt puts it
/// (`qemuDomainPrepareChannel`).
fn with_default_path(channel: &Channel, name: Option<&str>, ctx: &RunContext) -> ChrSource {
    let mut source = channel.source.clone();
    if source.chr_type == ChrType::Unix && source.path.is_none() {
        if let Some(name) = name {
            source.path = Some(channel_socket(ctx, name).to_string_lossy().into_owned());
            source.listen = true;
        }
    }
    source
}

/// `{"driver":KIND,"bus":"virtio-serialC.B","nr":P,"chardev":..,"id":..}`.
fn virtio_serial_port(kind: &str, address: &Option<Address>, alias: &str) -> Props {
    let mut p = Props::new().str("driver", kind);
    if let Some(Address::VirtioSerial {
        controller,
        bus,
        port,
    }) = address
    {
        p = p
            .str("bus", &format!("virtio-serial{controller}.{bus}"))
            .num("nr", *port);
    }
    p.str("chardev", &format!("char{alias}")).str("id", alias)
}

/// `<console>`s: the first one of target type serial is the first serial
/// port (no device of its own); virtio consoles are `virtconsole`s.
pub(super) fn consoles(a: &mut Args, def: &DomainDef) -> Result<()> {
    for (i, console) in def.devices.consoles.iter().enumerate() {
        match console.console_target() {
            Some(ConsoleTarget::Serial) | None => continue,
            Some(ConsoleTarget::Virtio) => {
                let alias = format!("console{i}");
                a.opt(
                    "-chardev",
                    backend(&console.source, &format!("char{alias}"))?,
                );
                a.json(
                    "-device",
                    virtio_serial_port("virtconsole", &console.address, &alias),
                );
            }
            Some(other) => {
                return Err(unsupported(format!(
                    "console target type '{}' is not supported by rvirt yet",
                    other.as_str()
                )))
            }
        }
    }
    Ok(())
}
