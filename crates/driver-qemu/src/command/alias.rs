//! Device aliases as libvirt's `qemuAssignDeviceAliases` (qemu_alias.c)
//! names them on start: the ids the command line gives QEMU's devices,
//! shown as `<alias name=.../>` in the live XML.

use super::disk::disk_alias;
use super::machine::is_q35;
use rvirt_conf::domain::address::DeviceInfo;
use rvirt_conf::domain::controller::{ControllerModel, ControllerType, PciModel, ScsiModel};
use rvirt_conf::domain::devices::{DeviceAliases, MemballoonModel};
use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::domain::{Controller, DomainDef};
use rvirt_util::Result;

/// Every device's alias in `def` (a user `ua-` alias kept as it is).
pub fn assign(def: &DomainDef) -> Result<DeviceAliases> {
    let d = &def.devices;
    let numbered = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect();
    let disks = d
        .disks
        .iter()
        .map(|disk| match &disk.info.alias {
            Some(user) => Ok(user.clone()),
            None => disk_alias(disk, def),
        })
        .collect::<Result<_>>()?;
    let balloon = d
        .memballoon
        .as_ref()
        .filter(|b| b.model != MemballoonModel::None);
    Ok(DeviceAliases {
        disks,
        controllers: d.controllers.iter().map(|c| controller(def, c)).collect(),
        filesystems: numbered("fs", d.filesystems.len()),
        interfaces: user_or_numbered("net", d.interfaces.iter().map(|n| &n.info)),
        smartcards: numbered("smartcard", d.smartcards.len()),
        serials: numbered("serial", d.serials.len()),
        parallels: numbered("parallel", d.parallels.len()),
        consoles: (d.consoles.iter().enumerate())
            .map(|(i, c)| crate::console::console_alias(def, i, c))
            .collect(),
        channels: numbered("channel", d.channels.len()),
        inputs: user_or_numbered("input", d.inputs.iter().map(|x| &x.info)),
        tpms: numbered("tpm", d.tpms.len()),
        sounds: numbered("sound", d.sounds.len()),
        videos: numbered("video", d.videos.len()),
        hostdevs: user_or_numbered("hostdev", d.hostdevs.iter().map(|h| &h.info)),
        redirdevs: numbered("redir", d.redirdevs.len()),
        hubs: numbered("hub", d.hubs.len()),
        watchdog: numbered("watchdog", usize::from(d.watchdog.is_some())),
        memballoon: numbered("balloon", usize::from(balloon.is_some())),
        rngs: user_or_numbered("rng", d.rngs.iter().map(|r| &r.info)),
        shmems: numbered("shmem", d.shmems.len()),
        memories: numbered("dimm", d.memories.len()),
        iommu: numbered("iommu", usize::from(d.iommu.is_some())),
        vsock: numbered("vsock", usize::from(d.vsock.is_some())),
    })
}

/// Each device's user alias, else `PREFIX<n>` by its place in the list.
fn user_or_numbered<'a>(prefix: &str, infos: impl Iterator<Item = &'a DeviceInfo>) -> Vec<String> {
    let alias = |(i, info): (usize, &DeviceInfo)| {
        info.alias.clone().unwrap_or_else(|| format!("{prefix}{i}"))
    };
    infos.enumerate().map(alias).collect()
}

/// qemuAssignDeviceControllerAlias for a QEMU with multiple PCI buses.
fn controller(def: &DomainDef, c: &Controller) -> String {
    use ControllerModel as M;
    use ControllerType as T;
    let index = c.index;
    match (c.controller_type, index, c.model) {
        (T::Pci, _, Some(M::Pci(PciModel::PcieRoot))) => format!("pcie.{index}"),
        (T::Pci, _, _) => format!("pci.{index}"),
        // i440fx's built-in IDE and q35's built-in AHCI are both "ide".
        (T::Ide, 0, _) if !is_q35(def) => "ide".into(),
        (T::Sata, 0, _) if is_q35(def) => "ide".into(),
        (T::Usb, 0, _) => "usb".into(),
        (T::Scsi, 0, Some(M::Scsi(ScsiModel::Ncr53c90))) => "scsi".into(),
        (kind, _, _) => format!("{}{index}", kind.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_qemu_alias_c() {
        let xml = "<domain type='qemu'><name>a</name><memory>131072</memory>\
            <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os><devices>\
            <disk type='file' device='disk'><source file='/a.img'/><target dev='vda' bus='virtio'/></disk>\
            <disk type='file' device='cdrom'><source file='/b.iso'/><target dev='hdc' bus='ide'/></disk>\
            <controller type='usb' index='0' model='piix3-uhci'/>\
            <controller type='pci' index='0' model='pci-root'/>\
            <controller type='ide' index='0'/>\
            <interface type='user'><model type='virtio'/></interface>\
            <interface type='user'><alias name='ua-nic'/><model type='virtio'/></interface>\
            <serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>\
            <input type='mouse' bus='ps2'/><input type='keyboard' bus='ps2'/>\
            <memballoon model='virtio'/><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>\
            </devices></domain>";
        let def = DomainDef::parse(xml).unwrap();
        let a = assign(&def).unwrap();
        assert_eq!(a.disks, ["virtio-disk0", "ide0-1-0"]);
        assert_eq!(a.controllers, ["usb", "pci.0", "ide"]);
        assert_eq!(a.interfaces, ["net0", "ua-nic"]);
        assert_eq!(a.serials, ["serial0"]);
        assert_eq!(a.consoles, ["serial0"]);
        assert_eq!(a.inputs, ["input0", "input1"]);
        assert_eq!(a.memballoon, ["balloon0"]);
        assert_eq!(a.rngs, ["rng0"]);
        let mut live = def.clone();
        live.devices.aliases = a;
        let opts = |inactive| rvirt_conf::FormatOptions {
            id: None,
            inactive,
            secure: false,
        };
        let text = live.format(&opts(false));
        for want in [
            "<target dev='vda' bus='virtio'/>\n      <alias name='virtio-disk0'/>\n",
            "<controller type='pci' index='0' model='pci-root'>\n      <alias name='pci.0'/>\n    </controller>",
            "<input type='mouse' bus='ps2'>\n      <alias name='input0'/>\n    </input>",
            "<alias name='ua-nic'/>",
        ] {
            assert!(text.contains(want), "{want} not in\n{text}");
        }
        assert!(!live.format(&opts(true)).contains("<alias name='net0'/>"));
    }
}
