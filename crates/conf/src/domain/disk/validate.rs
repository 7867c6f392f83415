//! `virDomainDiskDefValidate` and the domain-wide disk checks
//! (`virDomainDefDuplicateDiskInfoValidate`,
//! `virDomainDefDuplicateDriveAddressesValidate`), with libvirt's texts.

use super::super::address::Address;
use super::super::device_seclabel::DeviceSeclabel;
use super::super::hostdev::{Sgio, StartupPolicy};
use super::super::props::VirEnum;
use super::super::seclabel::Seclabel;
use super::super::{internal, internal_xml, unsupported};
use super::network::Protocol;
use super::secret::EncryptionFormat;
use super::source::{DiskType, SourceKind, StorageFormat, StorageSource};
use super::{Disk, DiskBus, DiskDevice, DiskModel, Tray};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `virDomainDiskDefValidateSourceChainOne`.
fn validate_source(src: &StorageSource) -> Result<()> {
    if let (SourceKind::Network(n), Some(auth)) = (&src.kind, &src.auth) {
        use Protocol as P;
        if matches!(
            n.protocol,
            P::Nbd | P::Sheepdog | P::Gluster | P::Tftp | P::Vxhs | P::Nfs
        ) {
            return Err(unsupported(format!(
                "authentication is not supported for protocol '{}'",
                n.protocol.as_str()
            )));
        }
        // virSecretUsageType.
        const USAGES: [&str; 6] = ["none", "volume", "ceph", "iscsi", "tls", "vtpm"];
        let usage = auth.secret_type.as_deref().filter(|t| USAGES.contains(t));
        let Some(usage) = usage else {
            return Err(unsupported(format!(
                "unknown secret type '{}'",
                auth.secret_type.as_deref().unwrap_or("<null>")
            )));
        };
        let wanted = match n.protocol {
            P::Iscsi => Some("iscsi"),
            P::Rbd => Some("ceph"),
            _ => None,
        };
        if wanted.is_some_and(|w| w != usage) {
            return Err(unsupported(format!("invalid secret type '{usage}'")));
        }
    }
    if let Some(e) = &src.encryption {
        if e.format == EncryptionFormat::Luks && e.cipher.is_some() {
            return Err(unsupported(
                "supplying <cipher> for domain disk definition is unnecessary",
            ));
        }
    }
    Ok(())
}

/// The sources of the disk's chain, its own first.
fn chain(disk: &Disk) -> Vec<&StorageSource> {
    let mut out = vec![&disk.source];
    if let Some(b) = &disk.backing_store {
        out.extend(b.sources());
    }
    out
}

/// `virDomainDiskDefSourceLUNValidate`.
fn validate_lun(disk: &Disk) -> Result<()> {
    let src = &disk.source;
    match &src.kind {
        SourceKind::Network(n) if n.protocol != Protocol::Iscsi => {
            return Err(unsupported(format!(
                "disk device='lun' is not supported for protocol='{}'",
                n.protocol.as_str()
            )))
        }
        SourceKind::Network(_) | SourceKind::Block(_) | SourceKind::Volume(_) => {}
        _ => {
            return Err(unsupported(
                "disk device='lun' is only valid for block type disk source",
            ))
        }
    }
    if disk.driver.format.is_some_and(|f| f != StorageFormat::Raw) {
        return Err(unsupported("disk device 'lun' must use 'raw' format"));
    }
    if src.slice.is_some() {
        return Err(unsupported(
            "disk device 'lun' doesn't support storage slice",
        ));
    }
    if src
        .encryption
        .as_ref()
        .is_some_and(|e| e.format != EncryptionFormat::Default)
    {
        return Err(unsupported("disk device 'lun' doesn't support encryption"));
    }
    Ok(())
}

/// `virDomainDiskDefValidateStartupPolicy`.
fn validate_startup_policy(disk: &Disk) -> Result<()> {
    let Some(p) = disk.startup_policy else {
        return Ok(());
    };
    let t = disk.disk_type();
    if !matches!(
        t,
        DiskType::File | DiskType::Block | DiskType::Dir | DiskType::Volume
    ) {
        return Err(internal_xml(format!(
            "disk startupPolicy '{}' is not allowed for disk of '{}' type",
            p.as_str(),
            t.as_str()
        )));
    }
    let removable = matches!(disk.device, DiskDevice::Cdrom | DiskDevice::Floppy);
    if !removable && p == StartupPolicy::Requisite {
        return Err(internal_xml(
            "disk startupPolicy 'requisite' is allowed only for cdrom or floppy",
        ));
    }
    Ok(())
}

/// `virDomainDiskVhostUserValidate`: what a vhost-user disk cannot have.
fn validate_vhostuser(disk: &Disk) -> Result<()> {
    let d = &disk.driver;
    let p = &d.policies;
    let first = [
        (
            disk.bus() != DiskBus::Virtio,
            "vhostuser disk supports only virtio bus",
        ),
        (
            disk.snapshot != Some(super::SnapshotLocation::No),
            "only snapshot=no is supported with vhostuser disk",
        ),
    ];
    if let Some((_, msg)) = first.iter().find(|(bad, _)| *bad) {
        return Err(unsupported(msg));
    }
    // What libvirt names in "X is not supported with vhostuser disk".
    let refused = [
        (
            d.cache.is_some_and(|c| c != super::DiskCache::Default),
            "cache",
        ),
        (
            p.error_policy.is_some() || p.rerror_policy.is_some(),
            "error_policy",
        ),
        (p.io.is_some(), "io"),
        (p.ioeventfd.is_some(), "ioeventfd"),
        (p.copy_on_read.is_some(), "copy_on_read"),
        (p.discard.is_some(), "discard"),
        (d.iothread.is_some(), "iothread"),
        (d.detect_zeroes.is_some(), "detect_zeroes"),
        (d.metadata_cache > 0, "metadata_cache"),
        (
            disk.iotune.group_name.is_some() || disk.iotune.has_any(),
            "iotune",
        ),
        (disk.backing_store.is_some(), "backingStore"),
        (disk.source.encryption.is_some(), "encryption"),
        (disk.readonly, "readonly"),
        (disk.shareable, "shareable"),
        (disk.transient.is_some(), "transient"),
        (disk.serial.is_some(), "serial"),
        (disk.wwn.is_some(), "wwn"),
        (disk.vendor.is_some(), "vendor"),
        (disk.product.is_some(), "product"),
        (disk.source.auth.is_some(), "auth"),
        (disk.geometry.is_set(), "geometry"),
        (disk.blockio != super::BlockIo::default(), "blockio"),
    ];
    match refused.iter().find(|(bad, _)| *bad) {
        Some((_, what)) => Err(unsupported(format!(
            "{what} is not supported with vhostuser disk"
        ))),
        None => Ok(()),
    }
}

/// `virStringIsPrintable`.
fn printable(s: &str) -> bool {
    s.chars().all(|c| (' '..='~').contains(&c))
}

/// `virValidateWWN`.
pub(crate) fn valid_wwn(wwn: &str) -> bool {
    let digits = wwn.strip_prefix("0x").unwrap_or(wwn);
    digits.len() == 16 && digits.chars().all(|c| c.is_ascii_hexdigit())
}

impl Disk {
    /// `virDomainDiskDefValidate`.
    pub(crate) fn validate(&self) -> Result<()> {
        // virDomainDeviceDefPostParseCheckFeatures: no driver of rvirt's
        // takes file descriptors for disks (test has no DISK_FD feature).
        if let SourceKind::File {
            fdgroup: Some(_), ..
        } = self.source.kind
        {
            return Err(unsupported(format!(
                "driver does not support FD passing for disk '{}'",
                self.target.dev
            )));
        }
        for src in chain(self) {
            validate_source(src)?;
        }
        if self.sgio == Some(Sgio::Unfiltered) {
            return Err(unsupported("unfiltered sgio is no longer supported"));
        }
        if self.device == DiskDevice::Lun {
            validate_lun(self)?;
        } else if self.source.reservations.is_some() {
            return Err(unsupported("<reservations/> allowed only for lun devices"));
        } else if self.rawio.is_some() {
            return Err(unsupported("rawio can be used only with device='lun'"));
        } else if self.sgio.is_some() {
            return Err(unsupported("sgio can be used only with device='lun'"));
        }
        self.iotune.validate()?;
        self.validate_bus()?;
        if let SourceKind::Nvme(n) = &self.source.kind {
            if n.namespace == 0 {
                return Err(unsupported("NVMe namespace can't be zero"));
            }
        }
        if self.disk_type() == DiskType::VhostUser {
            validate_vhostuser(self)?;
        }
        let removable = matches!(self.device, DiskDevice::Cdrom | DiskDevice::Floppy);
        if self.target.tray != Tray::Closed && !removable {
            return Err(unsupported("tray is only valid for cdrom and floppy"));
        }
        self.validate_identity()?;
        self.validate_names()
    }

    /// The label overrides of the whole chain against the domain's labels.
    pub(crate) fn validate_seclabels(&self, domain: &[Seclabel]) -> Result<()> {
        for src in chain(self) {
            DeviceSeclabel::validate(&src.seclabels, domain)?;
        }
        Ok(())
    }

    /// The address type, model and virtio options the bus allows.
    fn validate_bus(&self) -> Result<()> {
        let bus = self.bus();
        let drive_bus = matches!(
            bus,
            DiskBus::Ide | DiskBus::Fdc | DiskBus::Scsi | DiskBus::Sata
        );
        if let Some(a) = self
            .address
            .as_ref()
            .filter(|a| drive_bus && !matches!(a, Address::Drive { .. }))
        {
            return Err(unsupported(format!(
                "Invalid address type '{}' for the disk '{}' with the bus type '{}'",
                a.type_name(),
                self.target.dev,
                bus.as_str()
            )));
        }
        if bus == DiskBus::Virtio {
            return Ok(());
        }
        if self.model != DiskModel::Default {
            return Err(unsupported(format!(
                "disk model '{}' not supported for bus '{}'",
                self.model.as_str(),
                bus.as_str()
            )));
        }
        if self.driver.queues != 0 {
            return Err(unsupported(
                "queues attribute in disk driver element is only supported by virtio-blk",
            ));
        }
        if self.driver.policies.event_idx.is_some() {
            return Err(unsupported(
                "disk event_idx mode supported only for virtio bus",
            ));
        }
        if self.driver.policies.ioeventfd.is_some() {
            return Err(unsupported(
                "disk ioeventfd mode supported only for virtio bus",
            ));
        }
        self.driver.virtio.check_absent()
    }

    /// Vendor, product, floppy bus, removable, startup policy and WWN.
    fn validate_identity(&self) -> Result<()> {
        for (what, value, max) in [("vendor", &self.vendor, 8), ("product", &self.product, 16)] {
            let Some(v) = value else { continue };
            if !printable(v) {
                return Err(internal_xml(format!("disk {what} is not printable string")));
            }
            if v.len() > max {
                return Err(unsupported(format!(
                    "disk {what} is more than {max} characters"
                )));
            }
        }
        let bus = self.bus();
        let floppy = self.device == DiskDevice::Floppy;
        if floppy != (bus == DiskBus::Fdc) {
            let what = if floppy {
                " for floppy disk"
            } else {
                " for disk"
            };
            return Err(internal(format!(
                "Invalid bus type '{}'{what}",
                bus.as_str()
            )));
        }
        if self.target.removable.is_some() && bus != DiskBus::Usb {
            return Err(internal_xml("removable is only valid for usb disks"));
        }
        validate_startup_policy(self)?;
        match &self.wwn {
            Some(w) if !valid_wwn(w) => Err(internal(format!("Malformed wwn: {w}"))),
            _ => Ok(()),
        }
    }

    /// Target names by device, and media where a disk needs it.
    fn validate_names(&self) -> Result<()> {
        let dst = &self.target.dev;
        let hard = matches!(self.device, DiskDevice::Disk | DiskDevice::Lun);
        if hard
            && !["hd", "sd", "vd", "xvd", "ubd"]
                .iter()
                .any(|p| dst.starts_with(p))
        {
            return Err(internal(format!("Invalid harddisk device name: {dst}")));
        }
        if self.device == DiskDevice::Floppy && !dst.starts_with("fd") {
            return Err(internal(format!("Invalid floppy device name: {dst}")));
        }
        if self.source.is_empty() && self.device == DiskDevice::Disk {
            return Err(Error::new(ErrorDomain::DOMAIN, ErrorCode::NO_SOURCE, dst));
        }
        Ok(())
    }
}

/// `virDomainDefDuplicateDiskInfoValidate`: no target twice.
pub(crate) fn unique_targets(disks: &[Disk]) -> Result<()> {
    for (i, a) in disks.iter().enumerate() {
        for b in &disks[i + 1..] {
            if a.target.dev == b.target.dev {
                return Err(internal_xml(format!(
                    "target '{}' duplicated for disk sources '{}' and '{}'",
                    a.target.dev,
                    a.source_name().unwrap_or("<null>"),
                    b.source_name().unwrap_or("<null>")
                )));
            }
        }
    }
    Ok(())
}

/// `virDomainDefDuplicateDriveAddressesValidate` for disks.
pub(crate) fn unique_drive_addresses(disks: &[Disk]) -> Result<()> {
    for (i, a) in disks.iter().enumerate() {
        let Some(Address::Drive {
            controller,
            bus,
            target,
            unit,
        }) = &a.address
        else {
            continue;
        };
        if disks[i + 1..]
            .iter()
            .any(|b| b.bus() == a.bus() && b.address == a.address)
        {
            return Err(unsupported(format!(
                "Found duplicate drive address for disk with target name '{}' controller='{controller}' bus='{bus}' target='{target}' unit='{unit}'",
                a.target.dev
            )));
        }
    }
    Ok(())
}

/// `virDomainDefValidateAliases`: no user alias twice.
pub(crate) fn unique_aliases<'a>(aliases: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    for alias in aliases {
        if seen.contains(&alias) {
            return Err(unsupported(format!("non unique alias detected: {alias}")));
        }
        seen.push(alias);
    }
    Ok(())
}
