//! `<memory model=...>`: a memory device (`virDomainMemoryDef`), parsed as
//! `virDomainMemoryDefParseXML`, completed as `virDomainMemoryDefPostParse`,
//! checked as `virDomainMemoryDefValidate` and formatted as
//! `virDomainMemoryDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::props::{self, vir_enum, TriBool, VirEnum};
use super::{format_bitmap, internal, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{uuid, Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virDomainMemoryModel` without its empty zero entry.
    pub enum MemoryModel {
        Dimm = "dimm", Nvdimm = "nvdimm", VirtioPmem = "virtio-pmem",
        VirtioMem = "virtio-mem", SgxEpc = "sgx-epc",
    }

    /// `virDomainMemoryAccess` without "default" (`None`).
    pub enum MemoryDeviceAccess { Shared = "shared", Private = "private" }
}

/// `<source>`: which fields apply depends on the model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemorySourceDef {
    /// dimm, virtio-mem (KiB, 0 unset).
    pub pagesize_kib: u64,
    /// dimm, virtio-mem, sgx-epc: host NUMA nodes, sorted.
    pub nodemask: Option<Vec<u32>>,
    /// nvdimm, virtio-pmem.
    pub path: Option<String>,
    /// nvdimm (KiB, 0 unset).
    pub alignsize_kib: u64,
    pub pmem: bool,
}

/// `<target>`; sizes in KiB, 0 unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryTargetDef {
    pub size_kib: u64,
    /// The guest NUMA node.
    pub node: Option<u32>,
    /// nvdimm.
    pub label_kib: u64,
    pub readonly: bool,
    /// virtio-mem.
    pub block_kib: u64,
    pub requested_kib: u64,
}

/// `<memory>` under `<devices>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryDevice {
    pub model: MemoryModel,
    pub access: Option<MemoryDeviceAccess>,
    pub discard: Option<TriBool>,
    /// nvdimm.
    pub uuid: Option<uuid::Uuid>,
    pub source: MemorySourceDef,
    pub target: MemoryTargetDef,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

/// `virDomainDefPostParseMemory`: the guest's total memory in KiB, from
/// `<memory>` (`given`) or else the NUMA cells and the memory devices.
pub(crate) fn total_kib(
    given: Option<u64>,
    numa_kib: u64,
    devices: &[MemoryDevice],
) -> Result<u64> {
    let hotplug: u64 = devices.iter().map(|d| d.target.size_kib).sum();
    let total = match given.filter(|m| *m > 0) {
        None => numa_kib + hotplug,
        Some(m) if hotplug > m => {
            return Err(internal_xml(
                "Total size of memory devices exceeds the total memory size",
            ))
        }
        Some(m) => m,
    };
    // virDomainDefGetMemoryInitial: what the devices leave.
    if total == hotplug {
        return Err(internal_xml(
            "Memory size must be specified via <memory> or in the <numa> configuration",
        ));
    }
    Ok(total)
}

/// `virDomainParseMemory` of the text of `path` (children, '/'-separated)
/// under `e`, with its `unit`; 0 when absent and not `required`.
fn size_kib(e: &Element, path: &str, required: bool) -> Result<u64> {
    let node = path.split('/').try_fold(e, |n, c| n.child(c));
    let text = node.map(Element::text);
    let unit = node.and_then(|n| n.attr("unit"));
    let kib = props::memory_kib(text.as_deref(), unit, &format!("./{path}"), required)?;
    Ok(kib.unwrap_or(0))
}

/// `virBitmapParse` of `<nodemask>`, which must name a node.
fn nodemask(s: &Element) -> Result<Option<Vec<u32>>> {
    let Some(text) = s.child("nodemask").map(Element::text) else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    let bits = props::bitmap(&text)?;
    if bits.is_empty() {
        return Err(unsupported(format!("Invalid value of 'nodemask': {text}")));
    }
    Ok(Some(bits))
}

fn parse_source(s: &Element, model: MemoryModel) -> Result<MemorySourceDef> {
    let path = || s.child("path").map(Element::text).filter(|p| !p.is_empty());
    let mut src = MemorySourceDef::default();
    match model {
        MemoryModel::Dimm | MemoryModel::VirtioMem => {
            src.pagesize_kib = size_kib(s, "pagesize", false)?;
            src.nodemask = nodemask(s)?;
        }
        MemoryModel::Nvdimm => {
            src.path = path();
            src.alignsize_kib = size_kib(s, "alignsize", false)?;
            src.pmem = s.child("pmem").is_some();
        }
        MemoryModel::VirtioPmem => src.path = path(),
        MemoryModel::SgxEpc => src.nodemask = nodemask(s)?,
    }
    Ok(src)
}

fn parse_target(t: &Element, model: MemoryModel) -> Result<MemoryTargetDef> {
    let node = match t.child("node").map(Element::text).filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => Some(
            n.trim()
                .parse::<u32>()
                .map_err(|_| internal_xml("invalid value of memory device node"))?,
        ),
    };
    let mut target = MemoryTargetDef {
        size_kib: size_kib(t, "size", true)?,
        node,
        ..MemoryTargetDef::default()
    };
    match model {
        MemoryModel::Nvdimm => {
            target.label_kib = size_kib(t, "label/size", false)?;
            if target.label_kib != 0 && target.label_kib < 128 {
                return Err(internal_xml("nvdimm label must be at least 128KiB"));
            }
            if target.label_kib >= target.size_kib {
                return Err(internal_xml("label size must be smaller than NVDIMM size"));
            }
            target.readonly = t.child("readonly").is_some();
        }
        MemoryModel::VirtioMem => {
            target.block_kib = size_kib(t, "block", false)?;
            target.requested_kib = size_kib(t, "requested", false)?;
        }
        _ => {}
    }
    Ok(target)
}

fn detail(msg: impl AsRef<str>) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::XML_DETAIL, msg)
}

/// `virHostMemGetTHPSize` in KiB, 2 MiB when the host does not say.
fn host_thp_kib() -> u64 {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(2048, |bytes| bytes / 1024)
}

impl MemoryDevice {
    /// Parse and complete (`virDomainMemoryDefPostParse`); `ppc64` guests
    /// get an NVDIMM UUID made up.
    pub(crate) fn parse(e: &Element, ppc64: bool) -> Result<MemoryDevice> {
        let model: MemoryModel = props::enumeration(e, "model", true)?.unwrap_or(MemoryModel::Dimm);
        let access = props::enumeration(e, "access", false)?;
        let discard = props::tribool(e, "discard")?;
        let uuid = match e.child("uuid").map(Element::text).filter(|u| !u.is_empty()) {
            Some(u) if model == MemoryModel::Nvdimm => Some(
                uuid::parse(&u.replace(' ', ""))
                    .ok_or_else(|| internal("malformed uuid element"))?,
            ),
            _ => None,
        };
        let source = match e.child("source") {
            Some(s) => parse_source(s, model)?,
            None => MemorySourceDef::default(),
        };
        let Some(t) = e.child("target") else {
            return Err(internal_xml("missing <target> element for <memory> device"));
        };
        let target = parse_target(t, model)?;
        let address = parse_addr(e)?;
        let access = match (model, access) {
            (MemoryModel::VirtioPmem, None) => Some(MemoryDeviceAccess::Shared),
            (_, a) => a,
        };
        let uuid = match model {
            MemoryModel::Nvdimm if ppc64 => uuid.or_else(|| Some(uuid::generate())),
            _ => uuid,
        };
        Ok(MemoryDevice {
            model,
            access,
            discard,
            uuid,
            source,
            target,
            info: DeviceInfo::parse(e)?,
            address,
        })
    }

    /// `virDomainMemoryDefValidate`; `numa_nodes` is the guest's count.
    pub(crate) fn validate(&self, numa_nodes: usize, ppc64: bool) -> Result<()> {
        if let Some(node) = self.target.node {
            if numa_nodes == 0 {
                return Err(detail(
                    "can't add memory backend as guest has no NUMA nodes configured",
                ));
            }
            if node as usize >= numa_nodes {
                return Err(detail(format!("can't add memory backend for guest node '{node}' as the guest has only '{numa_nodes}' NUMA nodes configured")));
            }
        }
        let model = self.model.as_str();
        let discard = self.discard == Some(TriBool::Yes);
        match self.model {
            MemoryModel::Nvdimm => {
                if self.source.path.is_none() {
                    return Err(detail("path is required for model 'nvdimm'"));
                }
                if discard {
                    return Err(unsupported("discard is not supported for nvdimms"));
                }
                if ppc64 && self.target.label_kib == 0 {
                    return Err(unsupported("label size is required for NVDIMM device"));
                }
                if !ppc64 && self.uuid.is_some() {
                    return Err(unsupported("UUID is not supported for NVDIMM device"));
                }
            }
            MemoryModel::VirtioPmem => {
                if self.source.path.is_none() {
                    return Err(detail(format!("path is required for model '{model}'")));
                }
                if discard {
                    return Err(unsupported(format!(
                        "discard is not supported for model '{model}'"
                    )));
                }
                if self.access != Some(MemoryDeviceAccess::Shared) {
                    return Err(unsupported(
                        "shared access mode required for virtio-pmem device",
                    ));
                }
                if self.target.node.is_some() {
                    return Err(unsupported("virtio-pmem does not support NUMA nodes"));
                }
            }
            MemoryModel::VirtioMem => self.validate_virtio_mem()?,
            MemoryModel::SgxEpc if self.address.is_some() => {
                return Err(unsupported(format!(
                    "memory device address is not supported for model '{model}'"
                )))
            }
            _ => {}
        }
        Ok(())
    }

    fn validate_virtio_mem(&self) -> Result<()> {
        let t = &self.target;
        if t.requested_kib > t.size_kib {
            return Err(detail(format!(
                "requested size must be smaller than or equal to @size ({}KiB)",
                t.size_kib
            )));
        }
        if !t.block_kib.is_power_of_two() {
            return Err(detail("block size must be a power of two"));
        }
        let thp = host_thp_kib();
        if t.block_kib < thp {
            return Err(detail(format!(
                "block size too small, must be at least {thp}KiB"
            )));
        }
        if !t.requested_kib.is_multiple_of(t.block_kib) {
            return Err(detail(
                "requested size must be an integer multiple of block size",
            ));
        }
        Ok(())
    }

    /// `inactive` leaves out the runtime `<current>` size of virtio-mem.
    pub(crate) fn format(&self, w: &mut Writer, inactive: bool) {
        let mut a = Attrs::new();
        a.add("model", self.model.as_str());
        a.opt("access", self.access.map(VirEnum::as_str));
        a.opt("discard", self.discard.map(VirEnum::as_str));
        w.block("memory", a.as_str(), |w| {
            if let Some(u) = &self.uuid {
                w.line(&format!("<uuid>{}</uuid>", u.hyphenated()));
            }
            if self.source != MemorySourceDef::default() {
                w.elem_with("source", "", |w| self.format_source(w));
            }
            w.elem_with("target", "", |w| self.format_target(w, inactive));
            format_info_addr(&self.info, &self.address, w);
        });
    }

    fn format_source(&self, w: &mut Writer) {
        let s = &self.source;
        let kib = |w: &mut Writer, name: &str, v: u64| {
            if v != 0 {
                w.line(&format!("<{name} unit='KiB'>{v}</{name}>"));
            }
        };
        if let Some(nodes) = &s.nodemask {
            w.line(&format!("<nodemask>{}</nodemask>", format_bitmap(nodes)));
        }
        kib(w, "pagesize", s.pagesize_kib);
        w.text_elem("path", s.path.as_deref());
        kib(w, "alignsize", s.alignsize_kib);
        if s.pmem {
            w.line("<pmem/>");
        }
    }

    fn format_target(&self, w: &mut Writer, inactive: bool) {
        let t = &self.target;
        w.line(&format!("<size unit='KiB'>{}</size>", t.size_kib));
        if let Some(n) = t.node {
            w.line(&format!("<node>{n}</node>"));
        }
        if t.label_kib != 0 {
            w.elem_with("label", "", |w| {
                w.line(&format!("<size unit='KiB'>{}</size>", t.label_kib))
            });
        }
        if t.readonly {
            w.line("<readonly/>");
        }
        if t.block_kib != 0 {
            w.line(&format!("<block unit='KiB'>{}</block>", t.block_kib));
            w.line(&format!(
                "<requested unit='KiB'>{}</requested>",
                t.requested_kib
            ));
            if !inactive {
                // Nothing is plugged into a guest that does not run.
                w.line("<current unit='KiB'>0</current>");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_around_os};

    /// A 4 GiB guest with one 1 GiB NUMA cell and `devices`.
    fn dump(devices: &str) -> Result<String, String> {
        dump_around_os(
            "<maxMemory slots='4'>8388608</maxMemory><memory>4194304</memory><vcpu>2</vcpu>",
            &format!("<cpu><numa><cell id='0' cpus='0-1' memory='1048576'/></numa></cpu><devices>{devices}</devices>"),
        )
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn memory_devices_as_virsh() {
        assert_dump_holds(
            dump,
            "<memory model='dimm' discard='yes' access='private'><source><pagesize unit='M'>2</pagesize>\
             <nodemask>0-1</nodemask></source><target><size unit='MiB'>128</size><node>0</node></target></memory>\
             <memory model='virtio-pmem'><source><path>/p</path></source><target><size>1024</size></target></memory>",
            "    <memory model='dimm' access='private' discard='yes'>
      <source>
        <nodemask>0-1</nodemask>
        <pagesize unit='KiB'>2048</pagesize>
      </source>
      <target>
        <size unit='KiB'>131072</size>
        <node>0</node>
      </target>
    </memory>
    <memory model='virtio-pmem' access='shared'>
      <source>
        <path>/p</path>
      </source>
      <target>
        <size unit='KiB'>1024</size>
      </target>
    </memory>
",
        );
        assert_errors(
            dump,
            &[
                ("<memory/>", "XML error: Missing required attribute 'model' in element 'memory'"),
                ("<memory model='dimm'/>", "XML error: missing <target> element for <memory> device"),
                ("<memory model='dimm'><target><size>128</size><node>1</node></target></memory>", "can't add memory backend for guest node '1' as the guest has only '1' NUMA nodes configured"),
                ("<memory model='nvdimm'><source><path>/p</path></source><target><size>1024</size><label><size>100</size></label></target></memory>", "XML error: nvdimm label must be at least 128KiB"),
                ("<memory model='virtio-pmem' access='private'><source><path>/p</path></source><target><size>1024</size></target></memory>", "unsupported configuration: shared access mode required for virtio-pmem device"),
                ("<memory model='virtio-mem'><target><size>4096</size><block>3000</block></target></memory>", "block size must be a power of two"),
                ("<memory model='dimm'><target><size unit='GiB'>5</size></target></memory>", "XML error: Total size of memory devices exceeds the total memory size"),
            ],
        );
    }
}
