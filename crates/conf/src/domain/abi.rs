//! `virDomainDefCheckABIStability`: may `dst` replace `src` under a
//! running guest (migration, restore)?
//!
//! Every check fails with libvirt's "Target X does not match source Y"
//! (VIR_ERR_CONFIG_UNSUPPORTED) for the first property that differs, in
//! libvirt's order.

use super::address::{Address, DeviceInfo};
use super::controller::ControllerModel;
use super::disk::Disk;
use super::filesystem::Filesystem;
use super::hostdev::Hostdev;
use super::interface::NetModel;
use super::iommu::Iommu;
use super::memory::{MemoryDevice, MemoryModel};
use super::props::TriSwitch;
use super::props::VirEnum;
use super::shmem::Shmem;
use super::tpm::{Tpm, TpmBackend};
use super::virtio::VirtioOptions;
use super::watchdog::Watchdog;
use super::{unsupported, DomainDef};
use rvirt_util::Result;
use std::fmt::Display;

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// `Target WHAT DST does not match source SRC`, values quoted by `quote`.
fn compare<T: PartialEq + Display>(what: &str, src: T, dst: T, quote: &str) -> Result<()> {
    if src == dst {
        return Ok(());
    }
    Err(unsupported(format!(
        "Target {what} {quote}{dst}{quote} does not match source {quote}{src}{quote}"
    )))
}

fn same<T: PartialEq + Display>(what: &str, src: T, dst: T) -> Result<()> {
    compare(what, src, dst, "")
}

/// `same` on typed values: compared as values, named by `name` in the
/// message.
fn same_value<T: PartialEq + Copy, S: PartialEq + Display>(
    what: &str,
    src: T,
    dst: T,
    name: impl Fn(T) -> S,
) -> Result<()> {
    if src == dst {
        return Ok(());
    }
    same(what, name(src), name(dst))
}

/// An optional value, absent written as nothing.
fn same_opt<T: PartialEq + Display>(what: &str, src: Option<T>, dst: Option<T>) -> Result<()> {
    if src == dst {
        return Ok(());
    }
    let text = |v: Option<T>| v.map_or_else(String::new, |v| v.to_string());
    same(what, text(src), text(dst))
}

fn same_quoted<T: PartialEq + Display>(what: &str, src: T, dst: T) -> Result<()> {
    compare(what, src, dst, "'")
}

/// `Target domain WHAT count`: as many devices of a kind on both sides.
fn same_count<T>(what: &str, src: &[T], dst: &[T]) -> Result<()> {
    same(&format!("domain {what} count"), src.len(), dst.len())
}

/// The count of a device list, then `check` on each source/target pair.
fn each_device<T>(
    what: &str,
    src: &[T],
    dst: &[T],
    check: impl Fn(&T, &T) -> Result<()>,
) -> Result<()> {
    same_count(what, src, dst)?;
    src.iter().zip(dst).try_for_each(|(a, b)| check(a, b))
}

/// `virDomainDeviceInfoCheckABIStability`: the address, then the ACPI
/// index.
fn same_info(
    src: &DeviceInfo,
    src_addr: &Option<Address>,
    dst: &DeviceInfo,
    dst_addr: &Option<Address>,
) -> Result<()> {
    same_address(src_addr, dst_addr)?;
    same_acpi_index(src.acpi_index, dst.acpi_index)
}

/// The tail of `virDomainDeviceInfoCheckABIStability` (unset is 0).
fn same_acpi_index(src: Option<u32>, dst: Option<u32>) -> Result<()> {
    let (s, d) = (src.unwrap_or(0), dst.unwrap_or(0));
    if s != d {
        return Err(unsupported(format!(
            "Target ACPI index '{d}' does not match source '{s}'"
        )));
    }
    Ok(())
}

/// `virDomainDeviceInfoCheckABIStability`'s address half: the same
/// address type, and for the types libvirt compares the same address
/// (USB, CCW, sPAPR VIO and virtio-mmio addresses may differ).
fn same_address(src: &Option<Address>, dst: &Option<Address>) -> Result<()> {
    let type_of = |a: &Option<Address>| a.as_ref().map_or("none", Address::type_name).to_string();
    let (Some(s), Some(d)) = (src, dst) else {
        if src.is_some() != dst.is_some() {
            return Err(unsupported(format!(
                "Target device address type {} does not match source {}",
                type_of(dst),
                type_of(src)
            )));
        }
        return Ok(());
    };
    use Address as A;
    let msg = match (s, d) {
        (
            A::Pci { domain: sd, bus: sb, slot: ss, function: sf, .. },
            A::Pci { domain: dd, bus: db, slot: ds, function: df, .. },
        ) if (sd, sb, ss, sf) != (dd, db, ds, df) => format!(
            "Target device PCI address {dd:04x}:{db:02x}:{ds:02x}.{df}does not match \
             source {sd:04x}:{sb:02x}:{ss:02x}.{sf}"
        ),
        (
            A::Drive { controller: sc, bus: sb, unit: su, .. },
            A::Drive { controller: dc, bus: db, unit: du, .. },
        ) if (sc, sb, su) != (dc, db, du) => format!(
            "Target device drive address {dc}:{db}:{du} does not match source {sc}:{sb}:{su}"
        ),
        (
            A::VirtioSerial { controller: sc, bus: sb, port: sp },
            A::VirtioSerial { controller: dc, bus: db, port: dp },
        ) if (sc, sb, sp) != (dc, db, dp) => format!(
            "Target device virtio serial address {dc}:{db}:{dp} does not match source {sc}:{sb}:{sp}"
        ),
        (A::Ccid { controller: sc, slot: ss }, A::Ccid { controller: dc, slot: ds })
            if (sc, ss) != (dc, ds) =>
        {
            format!("Target device ccid address {dc}:{ds} does not match source {sc}:{ss}")
        }
        (A::Isa { iobase: sb, irq: si }, A::Isa { iobase: db, irq: di }) if (sb, si) != (db, di) => {
            format!("Target device isa address {db}:{di} does not match source {sb}:{si}")
        }
        (A::Dimm { slot: ss, .. }, A::Dimm { slot: ds, .. }) if ss != ds => {
            format!("Target device dimm slot {ds} does not match source {ss}")
        }
        (A::Dimm { base: sb, .. }, A::Dimm { base: db, .. }) if sb != db => {
            format!("Target device dimm base address '{db:x}' does not match source '{sb:x}'")
        }
        _ if s.type_name() != d.type_name() => format!(
            "Target device address type {} does not match source {}",
            d.type_name(),
            s.type_name()
        ),
        _ => return Ok(()),
    };
    Err(unsupported(msg))
}

pub(crate) fn check(src: &DomainDef, dst: &DomainDef) -> Result<()> {
    same("domain virt type", src.virt_type, dst.virt_type)?;
    same("domain uuid", src.uuid.hyphenated(), dst.uuid.hyphenated())?;
    same_quoted("domain name", &src.name, &dst.name)?;
    same("domain max memory", src.memory_kib, dst.memory_kib)?;
    check_max_memory(src, dst)?;
    super::numa::check_abi(numa_cells(src), numa_cells(dst))?;
    same("domain vCPU max", src.vcpus, dst.vcpus)?;
    super::vcpus::check_abi(src, dst)?;
    same("domain OS type", src.os.os_type, dst.os.os_type)?;
    same_opt("domain architecture", src.os.arch, dst.os.arch)?;
    same(
        "domain machine type",
        opt(&src.os.machine),
        opt(&dst.os.machine),
    )?;
    check_devices(src, dst)
}

fn numa_cells(d: &DomainDef) -> &[super::numa::NumaCell] {
    d.cpu.as_ref().map_or(&[], |c| &c.numa)
}

/// `<maxMemory>`: its slots, then its size ("doesn't" in libvirt's text).
fn check_max_memory(src: &DomainDef, dst: &DomainDef) -> Result<()> {
    let (smax, sslots) = src.max_memory.unwrap_or((0, 0));
    let (dmax, dslots) = dst.max_memory.unwrap_or((0, 0));
    if sslots != dslots {
        return Err(unsupported(format!(
            "Target domain memory slots count '{dslots}' doesn't match source '{sslots}'"
        )));
    }
    if smax != dmax {
        return Err(unsupported(format!(
            "Target maximum memory size '{dmax}' doesn't match source '{smax}'"
        )));
    }
    Ok(())
}

/// The rest of `virDomainDiskDefCheckABIStability`.
fn check_disk(a: &Disk, b: &Disk) -> Result<()> {
    let null = |s: &Option<String>| s.clone().unwrap_or_else(|| "<null>".into());
    same("disk serial", null(&a.serial), null(&b.serial))?;
    same_quoted("disk wwn", null(&a.wwn), null(&b.wwn))?;
    if a.readonly != b.readonly {
        return Err(unsupported("Target disk access mode does not match source"));
    }
    same("disk model", a.model.as_str(), b.model.as_str())?;
    let rpm = |d: &Disk| format!("{} RPM", d.target.rotation_rate);
    same("disk rotation rate", rpm(a), rpm(b))?;
    same("disk queue count", a.driver.queues, b.driver.queues)?;
    // libvirt prints the queue counts here.
    if a.driver.queue_size != b.driver.queue_size {
        let (q, p) = (b.driver.queues, a.driver.queues);
        return Err(unsupported(format!(
            "Target disk queue size {q} does not match source {p}"
        )));
    }
    check_virtio(&a.driver.virtio, &b.driver.virtio)
}

/// `virDomainVirtioOptionsCheckABIStability`.
fn check_virtio(a: &VirtioOptions, b: &VirtioOptions) -> Result<()> {
    let text = |v: Option<TriSwitch>| v.map_or("absent", VirEnum::as_str);
    for (what, s, d) in [
        ("iommu", a.iommu, b.iommu),
        ("ats", a.ats, b.ats),
        ("packed", a.packed, b.packed),
        ("page_per_vq", a.page_per_vq, b.page_per_vq),
    ] {
        same_quoted(&format!("device {what} option"), text(s), text(d))?;
    }
    Ok(())
}

fn check_devices(src: &DomainDef, dst: &DomainDef) -> Result<()> {
    let (s, d) = (&src.devices, &dst.devices);
    each_device("disk", &s.disks, &d.disks, |a, b| {
        same("disk device", a.device.as_str(), b.device.as_str())?;
        same("disk bus", a.bus().as_str(), b.bus().as_str())?;
        same("disk", &a.target.dev, &b.target.dev)?;
        check_disk(a, b)?;
        same_info(&a.info, &a.address, &b.info, &b.address)
    })?;
    each_device("controller", &s.controllers, &d.controllers, |a, b| {
        same_value(
            "controller type",
            a.controller_type,
            b.controller_type,
            VirEnum::as_str,
        )?;
        same("controller index", a.index, b.index)?;
        same_value("controller model", a.model, b.model, |m| {
            m.map_or("", ControllerModel::as_str)
        })?;
        same_info(&a.info, &a.address, &b.info, &b.address)
    })?;
    each_device(
        "filesystem",
        &s.filesystems,
        &d.filesystems,
        check_filesystem,
    )?;
    each_device("net card", &s.interfaces, &d.interfaces, |a, b| {
        same("network card mac", a.mac, b.mac)?;
        same_value("network card model", &a.model, &b.model, |m| {
            m.as_ref().map_or("", NetModel::as_str)
        })?;
        // libvirt prints an unset MTU as 0.
        same(
            "network card MTU",
            a.mtu.unwrap_or_default(),
            b.mtu.unwrap_or_default(),
        )?;
        check_virtio(&a.driver.options, &b.driver.options)?;
        same_info(&a.info, &a.address, &b.info, &b.address)
    })?;
    same_count("input device", &s.inputs, &d.inputs)?;
    same_count("graphics", &s.graphics, &d.graphics)?;
    same_count("video", &s.videos, &d.videos)?;
    same_count("serial port", &s.serials, &d.serials)?;
    same_count("parallel port", &s.parallels, &d.parallels)?;
    same_count("console", &s.consoles, &d.consoles)?;
    for (a, b) in s.inputs.iter().zip(&d.inputs) {
        same_value(
            "input device type",
            a.input_type,
            b.input_type,
            VirEnum::as_str,
        )?;
        same_value("input device bus", a.bus, b.bus, VirEnum::as_str)?;
        same_info(&a.info, &a.address, &b.info, &b.address)?;
    }
    for (a, b) in s.videos.iter().zip(&d.videos) {
        same_value("video card model", a.model, b.model, VirEnum::as_str)?;
        same_info(&a.info, &a.address, &b.info, &b.address)?;
    }
    each_device("host device", &s.hostdevs, &d.hostdevs, |a, b| {
        let subsystem = |h: &Hostdev| h.type_name();
        same("host device subsystem", subsystem(a), subsystem(b))?;
        same_info(&a.info, &a.address, &b.info, &b.address)
    })?;
    if s.watchdog.is_some() != d.watchdog.is_some() {
        let count = |w: &Option<Watchdog>| usize::from(w.is_some());
        same(
            "domain watchdog count",
            count(&s.watchdog),
            count(&d.watchdog),
        )?;
    }
    if let (Some(a), Some(b)) = (&s.watchdog, &d.watchdog) {
        same("watchdog model", a.model.as_str(), b.model.as_str())?;
        same_info(&a.info, &a.address, &b.info, &b.address)?;
    }
    let sb = s.memballoon.as_ref().map(|m| m.model);
    let db = d.memballoon.as_ref().map(|m| m.model);
    if sb.is_some() != db.is_some() {
        return Err(unsupported(
            "Target domain memballoon device presence does not match source",
        ));
    }
    same_value("balloon model", sb, db, |m| m.map_or("", VirEnum::as_str))?;
    same_count("smartcard", &s.smartcards, &d.smartcards)?;
    each_device("sound card", &s.sounds, &d.sounds, |a, b| {
        same("sound card model", a.model.as_str(), b.model.as_str())?;
        same_info(&a.info, &a.address, &b.info, &b.address)
    })?;
    same_count("redirected devices", &s.redirdevs, &d.redirdevs)?;
    same_count("hub device", &s.hubs, &d.hubs)?;
    each_device("RNG device", &s.rngs, &d.rngs, |a, b| {
        same_quoted("RNG model", a.model.as_str(), b.model.as_str())?;
        same_info(&a.info, &a.address, &b.info, &b.address)
    })?;
    each_device("panic device", &s.panics, &d.panics, |a, b| {
        same_quoted("panic model", a.model.as_str(), b.model.as_str())?;
        same_info(&a.info, &a.address, &b.info, &b.address)
    })?;
    each_device("shared memory device", &s.shmems, &d.shmems, check_shmem)?;
    each_device("TPM device", &s.tpms, &d.tpms, check_tpm)?;
    each_device("memory device", &s.memories, &d.memories, check_memory)?;
    if s.iommu.is_some() != d.iommu.is_some() {
        return Err(unsupported(
            "Target domain IOMMU device count does not match source",
        ));
    }
    if let (Some(a), Some(b)) = (&s.iommu, &d.iommu) {
        check_iommu(a, b)?;
    }
    if s.vsock.is_some() != d.vsock.is_some() {
        return Err(unsupported(
            "Target domain vsock device count does not match source",
        ));
    }
    match (&s.vsock, &d.vsock) {
        (Some(a), Some(b)) => {
            same_quoted(
                "domain vsock device model",
                a.model.as_str(),
                b.model.as_str(),
            )?;
            same_address(&a.address, &b.address)
        }
        _ => Ok(()),
    }
}

/// `virDomainIOMMUDefCheckABIStability`.
fn check_iommu(src: &Iommu, dst: &Iommu) -> Result<()> {
    let switch = |s: Option<TriSwitch>| s.map_or("absent", VirEnum::as_str);
    same_quoted(
        "domain IOMMU device model",
        src.model.as_str(),
        dst.model.as_str(),
    )?;
    let (s, d) = (&src.driver, &dst.driver);
    let switches = [
        ("intremap value", s.intremap, d.intremap),
        ("caching mode", s.caching_mode, d.caching_mode),
        ("eim value", s.eim, d.eim),
        ("iotlb value", s.iotlb, d.iotlb),
    ];
    for (what, a, b) in switches {
        same_quoted(&format!("domain IOMMU device {what}"), switch(a), switch(b))?;
    }
    let bits = |b: Option<std::num::NonZeroU32>| b.map_or(0, |b| b.get());
    same_quoted(
        "domain IOMMU device aw_bits value",
        bits(s.aw_bits),
        bits(d.aw_bits),
    )?;
    same_info(&src.info, &src.address, &dst.info, &dst.address)
}

/// `virDomainFsDefCheckABIStability`.
fn check_filesystem(src: &Filesystem, dst: &Filesystem) -> Result<()> {
    same(
        "filesystem guest target",
        opt(&src.target),
        opt(&dst.target),
    )?;
    if src.readonly != dst.readonly {
        return Err(unsupported(
            "Target filesystem access mode does not match source",
        ));
    }
    if src.model != dst.model {
        return Err(unsupported("Target filesystem model does not match source"));
    }
    same_info(&src.info, &src.address, &dst.info, &dst.address)
}

/// `virDomainShmemDefCheckABIStability`.
fn check_shmem(src: &Shmem, dst: &Shmem) -> Result<()> {
    let role = |s: &Shmem| s.role.map_or("default", VirEnum::as_str);
    let differs = |what: &str, d: String, s: String| {
        Err(unsupported(format!(
            "Target shared memory {what} '{d}' does not match source {what} '{s}'"
        )))
    };
    if src.role != dst.role {
        return differs("role", role(dst).into(), role(src).into());
    }
    if src.model != dst.model {
        return differs(
            "model",
            dst.model.as_str().into(),
            src.model.as_str().into(),
        );
    }
    if src.size != dst.size {
        return differs("size", dst.size.to_string(), src.size.to_string());
    }
    if src.server.is_some() != dst.server.is_some() {
        return Err(unsupported(
            "Target shared memory server usage doesn't match source",
        ));
    }
    if src.msi != dst.msi {
        return Err(unsupported(
            "Target shared memory MSI configuration doesn't match source",
        ));
    }
    same_info(&src.info, &src.address, &dst.info, &dst.address)
}

/// libvirt's "Target WHAT 'D' doesn't match source SOURCE_WHAT 'S'".
fn same_doesnt<T: PartialEq + Display>(
    what: &str,
    source_what: &str,
    src: T,
    dst: T,
) -> Result<()> {
    if src == dst {
        return Ok(());
    }
    Err(unsupported(format!(
        "Target {what} '{dst}' doesn't match source {source_what} '{src}'"
    )))
}

/// `virDomainMemoryDefCheckABIStability`: the sizes, then what an NVDIMM
/// adds.
fn check_memory(src: &MemoryDevice, dst: &MemoryDevice) -> Result<()> {
    let node = |m: &MemoryDevice| m.target.node.map_or(-1, i64::from);
    let (s, d) = (&src.target, &dst.target);
    same_doesnt(
        "memory device model",
        "model",
        src.model.as_str(),
        dst.model.as_str(),
    )?;
    same_doesnt(
        "memory device targetNode",
        "targetNode",
        node(src),
        node(dst),
    )?;
    let sizes = [
        ("size", s.size_kib, d.size_kib),
        ("block size", s.block_kib, d.block_kib),
        ("requested size", s.requested_kib, d.requested_kib),
    ];
    for (what, a, b) in sizes {
        let what = format!("memory device {what}");
        same_doesnt(&what, &what, a, b)?;
    }
    if src.model == MemoryModel::Nvdimm {
        // libvirt shows the source's value first in these two.
        same_doesnt(
            "NVDIMM label size",
            "NVDIMM label size",
            d.label_kib,
            s.label_kib,
        )?;
        let (sa, da) = (src.source.alignsize_kib, dst.source.alignsize_kib);
        same_doesnt("NVDIMM alignment", "NVDIMM alignment", da, sa)?;
        let flags = [
            (
                src.source.pmem != dst.source.pmem,
                "pmem flag doesn't match source NVDIMM pmem flag",
            ),
            (
                s.readonly != d.readonly,
                "readonly flag doesn't match source NVDIMM readonly flag",
            ),
            (src.uuid != dst.uuid, "UUID doesn't match source NVDIMM"),
        ];
        if let Some((_, msg)) = flags.iter().find(|(differs, _)| *differs) {
            return Err(unsupported(format!("Target NVDIMM {msg}")));
        }
    }
    same_info(&src.info, &src.address, &dst.info, &dst.address)
}

/// `virDomainTPMDefCheckABIStability` ("doesn't match", no values).
fn check_tpm(src: &Tpm, dst: &Tpm) -> Result<()> {
    let differs = |what: &str| Err(unsupported(format!("Target {what} doesn't match source")));
    if src.backend_type() != dst.backend_type() {
        return differs("TPM device type");
    }
    if src.model != dst.model {
        return differs("TPM device model");
    }
    if let (
        TpmBackend::Emulator {
            version: sv,
            pcr_banks: sb,
            ..
        },
        TpmBackend::Emulator {
            version: dv,
            pcr_banks: db,
            ..
        },
    ) = (&src.backend, &dst.backend)
    {
        if sv != dv {
            return differs("TPM version");
        }
        if sb != db {
            return differs("active PCR banks");
        }
    }
    same_info(&src.info, &src.address, &dst.info, &dst.address)
}

#[cfg(test)]
mod tests {
    use super::super::DomainDef;

    const X: &str = "<domain type='test'><name>x</name><uuid>11111111-2222-3333-4444-555555555555</uuid><memory>1024</memory><os><type>hvm</type></os></domain>";

    #[test]
    fn abi() {
        let a = DomainDef::parse(X).unwrap();
        assert!(a.check_abi_stability(&a.clone()).is_ok());
        let mut b = a.clone();
        b.name = "y".into();
        assert_eq!(
            a.check_abi_stability(&b).unwrap_err().message,
            "unsupported configuration: Target domain name 'y' does not match source 'x'"
        );
        let mut b = a.clone();
        b.vcpus = 4;
        assert_eq!(
            a.check_abi_stability(&b).unwrap_err().message,
            "unsupported configuration: Target domain vCPU max 4 does not match source 1"
        );
    }

    /// `virDomainNumaCheckABIStability` and the per-vCPU states.
    #[test]
    fn abi_numa_and_vcpus() {
        let with =
            |head: &str| DomainDef::parse(&X.replace("<os>", &format!("{head}<os>"))).unwrap();
        let cells = |c0: &str, c1: &str| {
            with(&format!(
                "<vcpu>2</vcpu><cpu><numa><cell cpus='{c0}' memory='512'><distances><sibling id='1' value='21'/>\
                 </distances></cell><cell cpus='{c1}' memory='512'/></numa></cpu>"
            ))
        };
        let plain = with("<vcpu>2</vcpu><cpu><numa><cell cpus='0' memory='512'/><cell cpus='1' memory='512'/></numa></cpu>");
        let states = |v1: &str| {
            with(&format!(
                "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' {v1}/></vcpus>"
            ))
        };
        for (a, b, message) in [
            (
                cells("0", "1"),
                with("<vcpu>2</vcpu>"),
                "Target NUMA node count '0' doesn't match source '2'",
            ),
            (
                cells("0", "1"),
                cells("1", "0"),
                "Processor mask of target NUMA node 0 doesn't match source",
            ),
            (
                cells("0", "1"),
                plain,
                "Target NUMA distance from 0 to 1 doesn't match source",
            ),
            (
                states("enabled='yes'"),
                with("<vcpu current='1'>2</vcpu>"),
                "State of vCPU '1' differs between source and destination definitions",
            ),
            (
                states("enabled='yes' order='2'"),
                with("<vcpu>2</vcpu>"),
                "vcpu enable order of vCPU '1' differs between source and destination definitions",
            ),
        ] {
            let err = a.check_abi_stability(&b).unwrap_err();
            assert_eq!(err.message, format!("unsupported configuration: {message}"));
        }
        assert!(states("enabled='no'")
            .check_abi_stability(&with("<vcpu current='1'>2</vcpu>"))
            .is_ok());
    }

    #[test]
    fn abi_devices() {
        let with = |devices: &str| {
            DomainDef::parse(&X.replace("</os>", &format!("</os><devices>{devices}</devices>")))
                .unwrap()
        };
        let rng = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>";
        let a = with(rng);
        let b = with("");
        assert_eq!(
            a.check_abi_stability(&b).unwrap_err().message,
            "unsupported configuration: Target domain RNG device count 0 does not match source 1"
        );
        let a = with("<controller type='usb' index='0' model='piix3-uhci'/>");
        let b = with("<controller type='usb' index='0' model='ich9-ehci1'/>");
        assert_eq!(
            a.check_abi_stability(&b).unwrap_err().message,
            "unsupported configuration: Target controller model ich9-ehci1 does not match source piix3-uhci"
        );
        let disk = |extra: &str| {
            with(&format!(
                "<disk type='file'><source file='/a'/><target dev='vda'/>{extra}</disk>"
            ))
        };
        for (a, b, message) in [
            (
                "<serial>A</serial>",
                "",
                "Target disk serial <null> does not match source A",
            ),
            (
                "",
                "<wwn>0x5000c50015ea71ac</wwn>",
                "Target disk wwn '0x5000c50015ea71ac' does not match source '<null>'",
            ),
            (
                "",
                "<readonly/>",
                "Target disk access mode does not match source",
            ),
            (
                "<driver queues='2'/>",
                "",
                "Target disk queue count 0 does not match source 2",
            ),
            (
                "<driver iommu='on'/>",
                "",
                "Target device iommu option 'absent' does not match source 'on'",
            ),
        ] {
            let err = disk(a).check_abi_stability(&disk(b)).unwrap_err();
            assert_eq!(err.message, format!("unsupported configuration: {message}"));
        }
    }

    /// `virDomainNetDefCheckABIStability`: MAC, model, MTU, virtio options.
    #[test]
    fn abi_interfaces() {
        let with = |devices: &str| {
            DomainDef::parse(&X.replace("</os>", &format!("</os><devices>{devices}</devices>")))
                .unwrap()
        };
        let nic = |mac: &str, extra: &str| {
            with(&format!(
                "<interface type='user'><mac address='{mac}'/><model type='virtio'/>{extra}</interface>"
            ))
        };
        let m1 = "52:54:00:00:00:01";
        for (a, b, message) in [
            (
                nic(m1, ""),
                nic("52:54:00:00:00:02", ""),
                "Target network card mac 52:54:00:00:00:02 does not match source 52:54:00:00:00:01",
            ),
            (
                nic(m1, "<mtu size='9000'/>"),
                nic(m1, ""),
                "Target network card MTU 0 does not match source 9000",
            ),
            (
                nic(m1, ""),
                nic(m1, "<driver ats='on'/>"),
                "Target device ats option 'on' does not match source 'absent'",
            ),
            (
                nic(m1, "<acpi index='3'/>"),
                nic(m1, ""),
                "Target ACPI index '0' does not match source '3'",
            ),
            (
                with("<watchdog model='i6300esb'><acpi index='1'/></watchdog>"),
                with("<watchdog model='i6300esb'><acpi index='2'/></watchdog>"),
                "Target ACPI index '2' does not match source '1'",
            ),
        ] {
            let err = a.check_abi_stability(&b).unwrap_err();
            assert_eq!(err.message, format!("unsupported configuration: {message}"));
        }
        let (a, b) = (nic(m1, "<link state='down'/>"), nic(m1, ""));
        assert!(a.check_abi_stability(&b).is_ok());
    }

    /// `virDomainDeviceInfoCheckABIStability`'s address texts; a USB
    /// address may differ.
    #[test]
    fn abi_addresses() {
        let with = |devices: &str| {
            DomainDef::parse(&X.replace("</os>", &format!("</os><devices>{devices}</devices>")))
                .unwrap()
        };
        let dog = |addr: &str| with(&format!("<watchdog model='i6300esb'>{addr}</watchdog>"));
        let pci = |slot: u32| {
            format!("<address type='pci' domain='0' bus='0' slot='{slot}' function='0'/>")
        };
        let disk = |unit: u32| {
            with(&format!(
                "<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/>\
                 <address type='drive' controller='0' bus='0' target='0' unit='{unit}'/></disk>"
            ))
        };
        for (a, b, message) in [
            (
                dog(&pci(3)),
                dog(&pci(4)),
                "Target device PCI address 0000:00:04.0does not match source 0000:00:03.0",
            ),
            (
                dog(&pci(3)),
                dog(""),
                "Target device address type none does not match source pci",
            ),
            (
                dog(&pci(3)),
                dog("<address type='isa' iobase='0x505'/>"),
                "Target device address type isa does not match source pci",
            ),
            (
                disk(1),
                disk(2),
                "Target device drive address 0:0:2 does not match source 0:0:1",
            ),
        ] {
            let err = a.check_abi_stability(&b).unwrap_err();
            assert_eq!(err.message, format!("unsupported configuration: {message}"));
        }
        let video = |slot: u32| with(&format!("<video><model type='vga'/>{}</video>", pci(slot)));
        let err = video(2).check_abi_stability(&video(5)).unwrap_err();
        assert!(
            err.message
                .contains("PCI address 0000:00:05.0does not match"),
            "{}",
            err.message
        );
        let usb = |port: u32| dog(&format!("<address type='usb' bus='0' port='{port}'/>"));
        assert!(usb(1).check_abi_stability(&usb(2)).is_ok());
    }
}
