//! `<tpm>`: a TPM device (`virDomainTPMDef`), parsed as
//! `virDomainTPMDefParseXML`, checked as `virDomainTPMDevValidate` and
//! formatted as `virDomainTPMDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::chardev::{ChrSource, ChrType};
use super::props::{self, vir_enum, VirEnum};
use super::{internal, internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{uuid, Result};

vir_enum! {
    /// `virDomainTPMModel` without its "default" (that is `None`).
    pub enum TpmModel {
        Tis = "tpm-tis", Crb = "tpm-crb", Spapr = "tpm-spapr", SpaprProxy = "spapr-tpm-proxy",
    }

    /// `virDomainTPMBackend`.
    pub enum TpmBackendType { Passthrough = "passthrough", Emulator = "emulator", External = "external" }

    /// `virDomainTPMVersion` without its "default" (that is `None`).
    pub enum TpmVersion { V1_2 = "1.2", V2_0 = "2.0" }

    /// `virDomainTPMPcrBank`: the `<active_pcr_banks>` children.
    pub enum PcrBank { Sha1 = "sha1", Sha256 = "sha256", Sha384 = "sha384", Sha512 = "sha512" }
}

/// `VIR_DOMAIN_TPM_DEFAULT_DEVICE`.
const DEFAULT_DEVICE: &str = "/dev/tpm0";

/// The `<backend>`, one variant per backend type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TpmBackend {
    /// The host device handed through.
    Passthrough { path: String },
    /// swtpm run by libvirt.
    Emulator {
        version: Option<TpmVersion>,
        persistent_state: bool,
        /// `<encryption secret=>`: the secret that encrypts the state.
        secret: Option<uuid::Uuid>,
        /// `Some` when `<active_pcr_banks>` lists any, in table order.
        pcr_banks: Option<Vec<PcrBank>>,
    },
    /// An emulator started by someone else, reached over a socket.
    External { source: Box<ChrSource> },
}

/// `<tpm>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tpm {
    pub model: Option<TpmModel>,
    pub backend: TpmBackend,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

/// The `<devices>` children: at most two (a TPM and a TPM proxy).
pub(crate) fn parse_all(devices: &Element) -> Result<Vec<Tpm>> {
    let nodes: Vec<&Element> = devices.children_named("tpm").collect();
    if nodes.len() > 2 {
        return Err(internal_xml(
            "a maximum of two TPM devices is supported, one of them being a TPM Proxy device",
        ));
    }
    nodes.into_iter().map(Tpm::parse).collect()
}

/// `virXPathString`: the first match, `None` when empty.
fn xpath_attr<'a>(e: &'a Element, child: &str, name: &str) -> Option<&'a str> {
    e.child(child)?.attr(name).filter(|v| !v.is_empty())
}

fn parse_emulator(b: &Element) -> Result<TpmBackend> {
    let version = props::enumeration(b, "version", false)?;
    let secret = match xpath_attr(b, "encryption", "secret") {
        None => None,
        Some(s) => Some(
            uuid::parse(s).ok_or_else(|| internal(format!("Unable to parse secret uuid '{s}'")))?,
        ),
    };
    let persistent_state = match b.attr("persistent_state") {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => {
            return Err(internal(
                "Invalid persistent_state value, either 'yes' or 'no'",
            ))
        }
    };
    let mut banks: Option<Vec<PcrBank>> = None;
    for bank in b
        .children_named("active_pcr_banks")
        .flat_map(Element::elements)
    {
        let Some(bank) = PcrBank::from_str_opt(&bank.name) else {
            return Err(unsupported(format!(
                "Unsupported PCR banks '{}'",
                bank.name
            )));
        };
        banks.get_or_insert_with(Vec::new).push(bank);
    }
    // A bitmap in libvirt: each bank once, in table order.
    if let Some(b) = banks.as_mut() {
        b.sort_by_key(|bank| bank.index());
        b.dedup();
    }
    Ok(TpmBackend::Emulator {
        version,
        persistent_state,
        secret,
        pcr_banks: banks,
    })
}

fn parse_external(b: &Element) -> Result<TpmBackend> {
    let Some(t) = xpath_attr(b, "source", "type") else {
        return Err(internal_xml("missing external TPM backend type"));
    };
    let chr_type = ChrType::from_str_opt(t)
        .ok_or_else(|| unsupported(format!("unknown backend type '{t}' for external TPM")))?;
    Ok(TpmBackend::External {
        source: Box::new(ChrSource::parse(b, chr_type)?),
    })
}

impl Tpm {
    pub(crate) fn parse(e: &Element) -> Result<Tpm> {
        let model = props::enumeration(e, "model", false)?;
        let backends: Vec<&Element> = e.children_named("backend").collect();
        let b = match backends.as_slice() {
            [b] => *b,
            [] => return Err(internal_xml("missing TPM device backend")),
            _ => return Err(internal_xml("only one TPM backend is supported")),
        };
        let backend = match props::enumeration(b, "type", true)? {
            Some(TpmBackendType::Emulator) => parse_emulator(b)?,
            Some(TpmBackendType::External) => parse_external(b)?,
            _ => TpmBackend::Passthrough {
                path: xpath_attr(b, "device", "path")
                    .unwrap_or(DEFAULT_DEVICE)
                    .to_string(),
            },
        };
        Ok(Tpm {
            model,
            backend,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    /// `virDomainTPMDevValidate`.
    pub(crate) fn validate(&self) -> Result<()> {
        match &self.backend {
            TpmBackend::Emulator {
                version, pcr_banks, ..
            } if pcr_banks.is_some() && *version != Some(TpmVersion::V2_0) => Err(internal_xml(
                "<active_pcr_banks/> requires TPM version '2.0'",
            )),
            TpmBackend::External { source } if source.chr_type != ChrType::Unix => Err(
                internal_xml("only source type 'unix' is supported for external TPM device"),
            ),
            TpmBackend::External { source } if source.listen => Err(internal_xml(
                "only 'client' mode is supported for external TPM device",
            )),
            TpmBackend::External { source } if source.path.is_none() => {
                Err(internal_xml("missing socket path for external TPM device"))
            }
            _ => Ok(()),
        }
    }

    pub fn backend_type(&self) -> TpmBackendType {
        match self.backend {
            TpmBackend::Passthrough { .. } => TpmBackendType::Passthrough,
            TpmBackend::Emulator { .. } => TpmBackendType::Emulator,
            TpmBackend::External { .. } => TpmBackendType::External,
        }
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("model", self.model.map(VirEnum::as_str));
        w.elem_with("tpm", a.as_str(), |w| {
            let mut b = Attrs::new();
            b.add("type", self.backend_type().as_str());
            if let TpmBackend::Emulator {
                version,
                persistent_state,
                ..
            } = &self.backend
            {
                b.opt("version", version.map(VirEnum::as_str));
                if *persistent_state {
                    b.add("persistent_state", "yes");
                }
            }
            w.elem_with("backend", b.as_str(), |w| self.format_backend_children(w));
            format_info_addr(&self.info, &self.address, w);
        });
    }

    fn format_backend_children(&self, w: &mut Writer) {
        match &self.backend {
            TpmBackend::Passthrough { path } => w.line(&format!(
                "<device{}/>",
                Attrs::new().add("path", path).as_str()
            )),
            TpmBackend::Emulator {
                secret, pcr_banks, ..
            } => {
                if let Some(s) = secret {
                    w.line(&format!("<encryption secret='{}'/>", s.hyphenated()));
                }
                if let Some(banks) = pcr_banks {
                    w.elem_with("active_pcr_banks", "", |w| {
                        banks
                            .iter()
                            .for_each(|b| w.line(&format!("<{}/>", b.as_str())))
                    });
                }
            }
            TpmBackend::External { source } => {
                if let (ChrType::Unix, Some(path)) = (source.chr_type, &source.path) {
                    let mut a = Attrs::new();
                    a.add("type", "unix")
                        .add("mode", "connect")
                        .add("path", path);
                    w.line(&format!("<source{}/>", a.as_str()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn tpms_as_virsh() {
        let emulator_and_proxy =
            "<tpm model='tpm-tis'><backend type='emulator' version='2.0' persistent_state='yes'>\
             <encryption secret='32ee7e76217847a1ab7b269e6e348015'/>\
             <active_pcr_banks><sha384/><sha256/><sha256/></active_pcr_banks></backend></tpm>\
             <tpm model='spapr-tpm-proxy'><backend type='passthrough'/></tpm>";
        let want = "    <tpm model='tpm-tis'>
      <backend type='emulator' version='2.0' persistent_state='yes'>
        <encryption secret='32ee7e76-2178-47a1-ab7b-269e6e348015'/>
        <active_pcr_banks>
          <sha256/>
          <sha384/>
        </active_pcr_banks>
      </backend>
    </tpm>
    <tpm model='spapr-tpm-proxy'>
      <backend type='passthrough'>
        <device path='/dev/tpm0'/>
      </backend>
    </tpm>
";
        assert_dump_holds(dump, emulator_and_proxy, want);
        assert_dump_holds(
            dump,
            "<tpm><backend type='external'><source type='unix' path='/s'/></backend></tpm>",
            "    <tpm>\n      <backend type='external'>\n        <source type='unix' mode='connect' path='/s'/>\n      </backend>\n    </tpm>\n",
        );
        assert_errors(
            dump,
            &[
                ("<tpm model='tpm-tis'/>", "XML error: missing TPM device backend"),
                ("<tpm model='default'><backend type='emulator'/></tpm>", "XML error: Invalid value for attribute 'model' in element 'tpm': 'default'."),
                ("<tpm><backend/></tpm>", "XML error: Missing required attribute 'type' in element 'backend'"),
                ("<tpm><backend type='emulator'><active_pcr_banks><sha256/></active_pcr_banks></backend></tpm>", "XML error: <active_pcr_banks/> requires TPM version '2.0'"),
                ("<tpm><backend type='emulator' version='2.0'><active_pcr_banks><md5/></active_pcr_banks></backend></tpm>", "unsupported configuration: Unsupported PCR banks 'md5'"),
                ("<tpm><backend type='emulator' persistent_state='on'/></tpm>", "internal error: Invalid persistent_state value, either 'yes' or 'no'"),
                ("<tpm><backend type='external'/></tpm>", "XML error: missing external TPM backend type"),
                ("<tpm><backend type='external'><source type='pty'/></backend></tpm>", "XML error: only source type 'unix' is supported for external TPM device"),
                ("<tpm><backend type='external'><source type='unix' mode='bind' path='/s'/></backend></tpm>", "XML error: only 'client' mode is supported for external TPM device"),
                ("<tpm><backend type='passthrough'/></tpm><tpm><backend type='passthrough'/></tpm><tpm><backend type='passthrough'/></tpm>", "XML error: a maximum of two TPM devices is supported, one of them being a TPM Proxy device"),
            ],
        );
    }
}
