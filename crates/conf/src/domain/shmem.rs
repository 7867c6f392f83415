//! `<shmem>`: shared memory between guests and the host
//! (`virDomainShmemDef`), parsed as `virDomainShmemDefParseXML`, checked as
//! `virDomainShmemDefValidate` and formatted as `virDomainShmemDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::props::{self, vir_enum, TriSwitch, VirEnum};
use super::{internal_xml, sanitize_path, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainShmemModel` (ivshmem when no `<model>`).
    pub enum ShmemModel { Ivshmem = "ivshmem", IvshmemPlain = "ivshmem-plain", IvshmemDoorbell = "ivshmem-doorbell" }

    /// `virDomainShmemRole` without "default" (`None`); not for ivshmem.
    pub enum ShmemRole { Master = "master", Peer = "peer" }
}

/// `<msi>`: interrupts, with a server only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShmemMsi {
    /// 0 (unset) is `None`.
    pub vectors: Option<u32>,
    pub ioeventfd: Option<TriSwitch>,
}

/// `<shmem>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shmem {
    pub name: String,
    pub model: ShmemModel,
    pub role: Option<ShmemRole>,
    /// Bytes; 0 is unset (formatted in MiB).
    pub size: u64,
    /// `<server path>`: `Some` when there is a server, with its socket.
    pub server: Option<Option<String>>,
    pub msi: Option<ShmemMsi>,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Shmem {
    pub(crate) fn parse(e: &Element) -> Result<Shmem> {
        let model = match e.child("model") {
            Some(m) => props::enumeration(m, "type", false)?,
            None => None,
        };
        let model = model.unwrap_or(ShmemModel::Ivshmem);
        let Some(name) = e.attr_string("name") else {
            return Err(internal_xml("shmem element must contain 'name' attribute"));
        };
        let role = match model {
            ShmemModel::Ivshmem => None,
            _ => props::enumeration(e, "role", false)?,
        };
        let size = props::scaled_bytes(e, "size")?;
        let server = e.child("server").map(|s| s.attr("path").map(sanitize_path));
        let msi = match e.child("msi") {
            Some(m) => Some(ShmemMsi {
                vectors: props::uint_base0(m, "vectors", false, false)?.filter(|v| *v != 0),
                ioeventfd: props::triswitch(m, "ioeventfd")?,
            }),
            None => None,
        };
        if msi.is_some() && server.is_none() {
            return Err(internal_xml("msi option is only supported with a server"));
        }
        Ok(Shmem {
            name,
            model,
            role,
            size,
            server,
            msi,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    /// `virDomainShmemDefValidate`: the name becomes a file name.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.name.contains('/') {
            return Err(unsupported("shmem name cannot include '/' character"));
        }
        if self.name == "." || self.name == ".." {
            return Err(unsupported(format!(
                "shmem name cannot be equal to '{}'",
                self.name
            )));
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("name", &self.name);
        a.opt("role", self.role.map(VirEnum::as_str));
        w.block("shmem", a.as_str(), |w| {
            w.line(&format!("<model type='{}'/>", self.model.as_str()));
            if self.size != 0 {
                w.line(&format!("<size unit='M'>{}</size>", self.size >> 20));
            }
            if let Some(path) = &self.server {
                let mut s = Attrs::new();
                s.opt("path", path.as_deref());
                w.line(&format!("<server{}/>", s.as_str()));
            }
            if let Some(msi) = &self.msi {
                let mut m = Attrs::new();
                m.opt("vectors", msi.vectors);
                m.opt("ioeventfd", msi.ioeventfd.map(VirEnum::as_str));
                w.line(&format!("<msi{}/>", m.as_str()));
            }
            format_info_addr(&self.info, &self.address, w);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn shmems_as_virsh() {
        assert_dump_holds(
            dump,
            "<shmem name='a' role='peer'><size unit='K'>4096</size></shmem>\
             <shmem name='b' role='master'><model type='ivshmem-doorbell'/>\
             <server path='/tmp//s/'/><msi vectors='0x20' ioeventfd='on'/></shmem>",
            "    <shmem name='a'>
      <model type='ivshmem'/>
      <size unit='M'>4</size>
    </shmem>
    <shmem name='b' role='master'>
      <model type='ivshmem-doorbell'/>
      <server path='/tmp/s'/>
      <msi vectors='32' ioeventfd='on'/>
    </shmem>
",
        );
        assert_errors(
            dump,
            &[
                (
                    "<shmem/>",
                    "XML error: shmem element must contain 'name' attribute",
                ),
                (
                    "<shmem name='a'><model type='x'/></shmem>",
                    "XML error: Invalid value for attribute 'type' in element 'model': 'x'.",
                ),
                (
                    "<shmem name='a' role='default'><model type='ivshmem-plain'/></shmem>",
                    "XML error: Invalid value for attribute 'role' in element 'shmem': 'default'.",
                ),
                (
                    "<shmem name='a'><msi/></shmem>",
                    "XML error: msi option is only supported with a server",
                ),
                (
                    "<shmem name='a/b'/>",
                    "unsupported configuration: shmem name cannot include '/' character",
                ),
                (
                    "<shmem name='..'/>",
                    "unsupported configuration: shmem name cannot be equal to '..'",
                ),
            ],
        );
    }
}
