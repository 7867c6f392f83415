//! Firmware: `<os firmware=>` with its `<firmware><feature>`s, `<loader>`
//! and `<nvram>` (libvirt's `virDomainLoaderDef`), and libvirt 9.0's
//! firmware/NVRAM rules (`virDomainDefOSValidate`, `virDomainDefPostParseOs`).

use super::props::{self, vir_enum, TriBool, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virDomainOsDefFirmware` (its `none` is `None`).
    pub enum Firmware { Bios = "bios", Efi = "efi" }

    /// `virDomainOsDefFirmwareFeature`.
    pub enum FirmwareFeature { EnrolledKeys = "enrolled-keys", SecureBoot = "secure-boot" }

    /// `virDomainLoader` (its `none` is `None`).
    pub enum LoaderType { Rom = "rom", Pflash = "pflash" }
}

/// `<os firmware=>` and its feature requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirmwareSelection {
    pub firmware: Option<Firmware>,
    /// `<firmware><feature>`, indexed by [`FirmwareFeature`]; `None` when
    /// the element lists no feature.
    pub features: Option<[Option<TriBool>; 2]>,
}

impl FirmwareSelection {
    /// `virDomainDefParseBootFirmwareOptions` for a define (no ABI update).
    pub(crate) fn parse(os: &Element) -> Result<FirmwareSelection> {
        let firmware = os.attr("firmware");
        let nodes: Vec<&Element> = os.grandchildren("firmware", "feature").collect();
        let mut sel = FirmwareSelection::default();
        // Features without firmware= come from migrations of 8.6–9.1; ignored.
        if !nodes.is_empty() && firmware.is_none() {
            return Ok(sel);
        }
        if !nodes.is_empty() {
            let mut features = [None; 2];
            for n in nodes {
                let f: Option<FirmwareFeature> = props::enumeration(n, "name", true)?;
                let enabled: Option<TriBool> = props::enumeration(n, "enabled", true)?;
                if let Some(f) = f {
                    features[f.index()] = enabled;
                }
            }
            sel.features = Some(features);
        }
        if let Some(fw) = firmware {
            let fw = Firmware::from_str_opt(fw)
                .ok_or_else(|| internal_xml(format!("unknown firmware value {fw}")))?;
            sel.firmware = Some(fw);
        }
        Ok(sel)
    }

    /// `virDomainDefPostParseOs`'s half: enrolled keys imply Secure Boot.
    pub(crate) fn post_parse(&mut self) -> Result<()> {
        let Some(f) = self.features.as_mut() else {
            return Ok(());
        };
        let (keys, secure) = (
            FirmwareFeature::EnrolledKeys.index(),
            FirmwareFeature::SecureBoot.index(),
        );
        if f[keys] == Some(TriBool::Yes) {
            if f[secure] == Some(TriBool::No) {
                return Err(detail(
                    "firmware feature 'enrolled-keys' cannot be enabled when firmware feature 'secure-boot' is disabled",
                ));
            }
            f[secure] = Some(TriBool::Yes);
        }
        Ok(())
    }

    pub(crate) fn format_features(&self, w: &mut Writer) {
        let Some(features) = &self.features else {
            return;
        };
        w.block("firmware", "", |w| {
            for (i, v) in features.iter().enumerate() {
                if let Some(v) = v {
                    let name = FirmwareFeature::from_index(i).as_str();
                    w.line(&format!(
                        "<feature enabled='{}' name='{name}'/>",
                        v.as_str()
                    ));
                }
            }
        });
    }
}

/// Where the NVRAM (UEFI variable store) lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nvram {
    /// `<nvram>PATH</nvram>`.
    Path(String),
    /// `<nvram type='file'><source file=/></nvram>`.
    File(String),
    /// `<nvram type='block'><source dev=/></nvram>`.
    Block(String),
}

/// `<loader>` and `<nvram>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loader {
    pub readonly: Option<TriBool>,
    pub secure: Option<TriBool>,
    pub loader_type: Option<LoaderType>,
    pub stateless: Option<TriBool>,
    pub path: Option<String>,
    pub nvram_template: Option<String>,
    pub nvram: Option<Nvram>,
}

/// `virXMLNodeContentString`, empty as `None`.
fn content(e: &Element) -> Option<String> {
    Some(e.text()).filter(|t| !t.is_empty())
}

impl Loader {
    /// `virDomainDefParseBootLoaderOptions`: `None` without both elements.
    pub(crate) fn parse(os: &Element) -> Result<Option<Loader>> {
        let (loader, nvram) = (os.child("loader"), os.child("nvram"));
        if loader.is_none() && nvram.is_none() {
            return Ok(None);
        }
        let mut l = Loader::default();
        if let Some(n) = nvram {
            l.nvram_template = n.attr_string("template");
            l.nvram = parse_nvram(n)?;
        }
        if let Some(e) = loader {
            l.readonly = props::tribool(e, "readonly")?;
            l.loader_type = props::enumeration(e, "type", false)?;
            l.path = content(e);
            l.secure = props::tribool(e, "secure")?;
            l.stateless = props::tribool(e, "stateless")?;
        }
        // A loader given by path is a ROM unless said otherwise.
        if l.path.is_some() && l.loader_type.is_none() {
            l.loader_type = Some(LoaderType::Rom);
        }
        Ok(Some(l))
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.opt("readonly", self.readonly.map(TriBool::as_str));
        a.opt("secure", self.secure.map(TriBool::as_str));
        a.opt("type", self.loader_type.map(LoaderType::as_str));
        a.opt("stateless", self.stateless.map(TriBool::as_str));
        let path = self.path.as_deref().map(escape).unwrap_or_default();
        element(w, "loader", a.as_str(), &path);
        let mut a = Attrs::new();
        a.opt("template", self.nvram_template.as_deref());
        let source = |a: &mut Attrs, ty: &str, attr: &str, p: &str| {
            a.add("type", ty);
            format!("<source {attr}='{}'/>", escape(p))
        };
        match &self.nvram {
            None => element(w, "nvram", a.as_str(), ""),
            Some(Nvram::Path(p)) => element(w, "nvram", a.as_str(), &escape(p)),
            Some(Nvram::File(p)) => {
                let s = source(&mut a, "file", "file", p);
                w.elem_with("nvram", a.as_str(), |w| w.line(&s));
            }
            Some(Nvram::Block(p)) => {
                let s = source(&mut a, "block", "dev", p);
                w.elem_with("nvram", a.as_str(), |w| w.line(&s));
            }
        }
    }
}

/// `virXMLFormatElement` with inline content: nothing when both are empty.
fn element(w: &mut Writer, name: &str, attrs: &str, text: &str) {
    match (attrs.is_empty(), text.is_empty()) {
        (true, true) => {}
        (_, true) => w.line(&format!("<{name}{attrs}/>")),
        _ => w.line(&format!("<{name}{attrs}>{text}</{name}>")),
    }
}

/// `virDomainLoaderDefParseXMLNvram`: a path as content, or a typed
/// storage source (the file and block kinds; others are refused).
fn parse_nvram(n: &Element) -> Result<Option<Nvram>> {
    let Some(ty) = n.attr("type") else {
        return Ok(content(n).map(Nvram::Path));
    };
    let source = n.child("source");
    let refuse = || {
        unsupported(format!(
            "element <os/nvram type='{ty}'> is not supported by rvirt yet"
        ))
    };
    let path = |attr| -> Result<String> {
        let s = source.ok_or_else(refuse)?;
        if s.elements().next().is_some() || s.attrs.len() != 1 {
            return Err(refuse());
        }
        Ok(s.attr_string(attr).unwrap_or_default())
    };
    match ty {
        "file" => Ok(Some(Nvram::File(path("file")?))),
        "block" => Ok(Some(Nvram::Block(path("dev")?))),
        "dir" | "network" | "volume" | "nvme" | "vhostuser" | "vhostvdpa" => Err(refuse()),
        _ => Err(internal_xml(format!(
            "Invalid value for attribute 'type' in element 'nvram': '{ty}'."
        ))),
    }
}

/// VIR_ERR_XML_DETAIL from the domain code: the bare message.
fn detail(msg: &str) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::XML_DETAIL, msg)
}

/// `virDomainDefOSValidate`.
pub(crate) fn validate(sel: &FirmwareSelection, loader: Option<&Loader>) -> Result<()> {
    let when_auto = |what: &str| {
        detail(&format!(
            "{what} cannot be specified when firmware autoselection is enabled"
        ))
    };
    if let Some(fw) = sel.firmware {
        let Some(l) = loader else { return Ok(()) };
        if l.readonly.is_some() {
            return Err(when_auto("loader attribute 'readonly'"));
        }
        if l.loader_type.is_some() {
            return Err(when_auto("loader attribute 'type'"));
        }
        if l.path.is_some() {
            return Err(when_auto("loader path"));
        }
        if l.nvram_template.is_some() {
            return Err(when_auto("nvram attribute 'template'"));
        }
        if l.secure == Some(TriBool::No) {
            return Err(when_auto("loader attribute 'secure'"));
        }
        if l.nvram.is_some() && fw != Firmware::Efi {
            return Err(detail(&format!(
                "firmware type '{}' does not support nvram",
                fw.as_str()
            )));
        }
    } else {
        if sel.features.is_some() {
            return Err(detail(
                "cannot use feature-based firmware autoselection when firmware autoselection is disabled",
            ));
        }
        let Some(l) = loader else { return Ok(()) };
        if l.path.is_none() {
            return Err(detail(
                "no loader path specified and firmware auto selection disabled",
            ));
        }
    }
    let Some(l) = loader else { return Ok(()) };
    match l.stateless {
        Some(TriBool::Yes) if l.nvram_template.is_some() => Err(detail(
            "NVRAM template is not permitted when loader is stateless",
        )),
        Some(TriBool::Yes) if l.nvram.is_some() => {
            Err(detail("NVRAM is not permitted when loader is stateless"))
        }
        Some(TriBool::No) => match sel.firmware {
            None if l.loader_type != Some(LoaderType::Pflash) => {
                Err(detail("Only pflash loader type permits NVRAM"))
            }
            Some(Firmware::Bios) => Err(detail("Only EFI firmware permits NVRAM")),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, round_trip};

    /// A test domain whose `<os firmware=FW>` holds `os` after its type.
    fn dump(fw_and_os: &str) -> Result<String, String> {
        let (fw, os) = fw_and_os.split_once('|').unwrap_or(("", fw_and_os));
        let fw = if fw.is_empty() {
            String::new()
        } else {
            format!(" firmware='{fw}'")
        };
        round_trip(&format!(
            "<domain type='test'><name>p</name><memory>1024</memory>\
             <os{fw}><type>hvm</type>{os}</os></domain>"
        ))
    }

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn firmware_as_virsh() {
        let os = "<loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>\
                  <nvram template='/t.fd'>/var/nv.fd</nvram><bootmenu enable='yes' timeout='3000'/>\
                  <bios useserial='yes' rebootTimeout='0'/><smbios mode='sysinfo'/>\
                  <acpi><table type='slic'>/var/slic.dat</table></acpi>";
        assert_dump_holds(
            dump,
            os,
            "    <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>\n    <nvram template='/t.fd'>/var/nv.fd</nvram>\n    <acpi>\n      <table type='slic'>/var/slic.dat</table>\n    </acpi>\n    <boot dev='hd'/>\n    <bootmenu enable='yes' timeout='3000'/>\n    <bios useserial='yes' rebootTimeout='0'/>\n    <smbios mode='sysinfo'/>\n  </os>\n",
        );
        let keys = "<firmware><feature enabled='yes' name='enrolled-keys'/></firmware>";
        assert_dump_holds(
            dump,
            keys,
            "  <os>\n    <type>hvm</type>\n    <boot dev='hd'/>\n",
        );
        assert_dump_holds(
            dump,
            &format!("efi|{keys}"),
            "  <os firmware='efi'>\n    <type>hvm</type>\n    <firmware>\n      <feature enabled='yes' name='enrolled-keys'/>\n      <feature enabled='yes' name='secure-boot'/>\n    </firmware>\n",
        );
        assert_errors(
            dump,
            &[
                ("efi|<loader>/x</loader>", "loader attribute 'type' cannot be specified when firmware autoselection is enabled"),
                ("<loader type='rom'/>", "no loader path specified and firmware auto selection disabled"),
                ("<loader stateless='yes'>/x</loader><nvram>/n</nvram>", "NVRAM is not permitted when loader is stateless"),
                ("<loader stateless='no'>/x</loader>", "Only pflash loader type permits NVRAM"),
                ("bios|<loader stateless='no'/>", "Only EFI firmware permits NVRAM"),
                ("bios|<nvram>/n</nvram>", "firmware type 'bios' does not support nvram"),
                ("<bootmenu enable='yes' timeout='70000'/>", "unsupported configuration: invalid value for boot menu timeout, must be in range [0,65535]"),
                ("<bios rebootTimeout='-2'/>", "unsupported configuration: invalid value for rebootTimeout, must be in range [-1,65535]"),
                ("<acpi><table type='msdm'>/x</table></acpi>", "XML error: Unknown acpi table type: msdm"),
                ("efi|<firmware><feature enabled='yes' name='enrolled-keys'/><feature enabled='no' name='secure-boot'/></firmware>", "firmware feature 'enrolled-keys' cannot be enabled when firmware feature 'secure-boot' is disabled"),
                ("uefi|", "XML error: unknown firmware value uefi"),
            ],
        );
    }
}
