//! Interfaces: a `-netdev` backend `hostnetN` and its NIC `-device` `netN`
//! (`qemuBuildInterfaceCommandLine`).
//!
//! User networking is exactly libvirt's. For tap backends libvirt opens
//! the tap device itself and passes its fd (`"fd":"N"`); rvirt names the
//! tap (`"ifname"`, created and attached to the bridge by the driver) so
//! QEMU opens it. The guest-visible device tree is the same either way.
//! A direct interface's macvtap tap cannot be opened by name: its
//! descriptor (opened by the driver, `crate::macvtap`) is passed as
//! libvirt passes it.

use super::address::device_address;
use super::boot::BootOrder;
use super::json::Props;
use super::{unsupported, Args, RunContext};
use rvirt_conf::domain::interface::{NetModel, NetModelType, NetSource, NetType};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::{DomainDef, Interface};
use rvirt_util::Result;

pub(super) fn interfaces(a: &mut Args, def: &DomainDef, ctx: &RunContext) -> Result<()> {
    let boot = BootOrder::of(def);
    for (i, net) in def.devices.interfaces.iter().enumerate() {
        refuse_unexpressed(net)?;
        let netdev = format!("hostnet{i}");
        a.json("-netdev", backend(net, i, ctx)?.str("id", &netdev));
        let mut p = Props::new()
            .str("driver", nic_driver(net)?)
            .str("netdev", &netdev)
            .str("id", &format!("net{i}"))
            .str("mac", &net.mac.to_string());
        if boot.nets[i] > 0 {
            p = p.num("bootindex", boot.nets[i]);
        }
        a.json("-device", device_address(p, &net.address, def));
    }
    Ok(())
}

/// Interface settings this command line does not carry: refused by name
/// rather than dropped, so a guest never runs without what it asked for.
/// (`<guest dev actual>` is for LXC; libvirt's QEMU driver does not use it
/// either.)
fn refuse_unexpressed(net: &Interface) -> Result<()> {
    let set = [
        ("<driver>", !net.driver.is_empty()),
        ("<script>", net.script.is_some()),
        ("<downscript>", net.downscript.is_some()),
        ("<backenddomain>", net.backend_domain.is_some()),
        ("<target managed>", net.target_managed.is_some()),
        ("<teaming>", net.teaming.is_some()),
        (
            "<source><reconnect>",
            matches!(&net.source, NetSource::VhostUser { reconnect, .. } if reconnect.enabled.is_some()),
        ),
        ("<backend>", !net.backend.is_empty()),
        ("<vlan>", net.vlan.is_some()),
        ("<bandwidth>", net.bandwidth.is_some()),
        ("<port isolated>", net.port_isolated.is_some()),
        ("<virtualport>", net.virtualport.is_some()),
        ("<filterref>", net.filterref.is_some()),
        ("<source><ip>/<route>", !net.host_ip.is_empty()),
        ("<ip>/<route>", !net.guest_ip.is_empty()),
        ("<portForward>", !net.port_forwards.is_empty()),
        // A tap backend carries sndbuf; libvirt ignores it for user.
        (
            "<tune><sndbuf>",
            net.sndbuf.is_some() && net.net_type == NetType::User,
        ),
        ("<link state>", net.link_state.is_some()),
        ("<mtu>", net.mtu.is_some()),
        ("<coalesce>", net.coalesce_rx_frames.is_some()),
        ("trustGuestRxFilters", net.trust_guest_rx_filters.is_some()),
        ("<alias>", net.info.alias.is_some()),
        ("<acpi index>", net.info.acpi_index.is_some()),
    ];
    match set.iter().find(|(_, present)| *present) {
        Some((part, _)) => Err(unsupported(format!(
            "interface {part} is not supported by rvirt's QEMU driver yet"
        ))),
        None => Ok(()),
    }
}

/// The name of the tap an interface uses: its `<target dev>`, else
/// libvirt's `vnetN` pattern by position.
pub fn tap_name(net: &Interface, position: usize) -> String {
    net.target_dev
        .clone()
        .unwrap_or_else(|| format!("vnet{position}"))
}

fn backend(net: &Interface, position: usize, ctx: &RunContext) -> Result<Props> {
    let sndbuf = |p: Props| match net.sndbuf {
        Some(s) => p.num("sndbuf", s),
        None => p,
    };
    match net.net_type {
        NetType::User => Ok(Props::new().str("type", "user")),
        // A network's tap is made on its bridge at start (network_iface).
        NetType::Ethernet | NetType::Bridge | NetType::Network => {
            let p = Props::new()
                .str("type", "tap")
                .str("ifname", &tap_name(net, position))
                .str("script", "no")
                .str("downscript", "no");
            Ok(sndbuf(p))
        }
        // qemuBuildHostNetProps: "fd", then "vhost" and "vhostfd".
        NetType::Direct => {
            let fds = ctx.tap_fds.get(&position).ok_or_else(|| {
                unsupported("interface type 'direct' needs its macvtap device opened at start")
            })?;
            let mut p = Props::new()
                .str("type", "tap")
                .str("fd", &fds.tap.to_string());
            if let Some(v) = fds.vhost {
                p = p.bool("vhost", true).str("vhostfd", &v.to_string());
            }
            Ok(sndbuf(p))
        }
        other => Err(unsupported(format!(
            "interface type '{}' is not supported by rvirt yet",
            other.as_str()
        ))),
    }
}

/// `virDomainNetGetModelString` → QEMU device.
fn nic_driver(net: &Interface) -> Result<&'static str> {
    let model = match &net.model {
        None => NetModelType::Rtl8139,
        Some(NetModel::Known(m)) => *m,
        Some(other) => return Err(unsupported_model(other.as_str())),
    };
    Ok(match model {
        NetModelType::Virtio => "virtio-net-pci",
        NetModelType::E1000 => "e1000",
        NetModelType::E1000e => "e1000e",
        NetModelType::Rtl8139 => "rtl8139",
        other => return Err(unsupported_model(other.as_str())),
    })
}

fn unsupported_model(model: &str) -> rvirt_util::Error {
    unsupported(format!(
        "interface model '{model}' is not supported by rvirt yet"
    ))
}
