//! Firmware: `<os firmware=>` with its `<firmware><feature>`s, `<loader>`
//! and `<nvram>` (libvirt's `virDomainLoaderDef`), and libvirt 9.0's
//! firmware/NVRAM rules (`virDomainDefOSValidate`, `virDomainDefPostParseOs`).

use super::disk::{format_element, DiskType, StorageSource};
use super::props::{self, vir_enum, TriBool, VirEnum};
use super::{internal, internal_xml, FormatOptions};
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
    /// `<nvram type='T'><source .../></nvram>` (libvirt 9.0's
    /// `newStyleNVRAM`): a storage source of any kind a disk can have.
    Source(Box<StorageSource>),
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

    pub(crate) fn format(&self, w: &mut Writer, opts: &FormatOptions) {
        let mut a = Attrs::new();
        a.opt("readonly", self.readonly.map(TriBool::as_str));
        a.opt("secure", self.secure.map(TriBool::as_str));
        a.opt("type", self.loader_type.map(LoaderType::as_str));
        a.opt("stateless", self.stateless.map(TriBool::as_str));
        let path = self.path.as_deref().map(escape).unwrap_or_default();
        element(w, "loader", a.as_str(), &path);
        let mut a = Attrs::new();
        a.opt("template", self.nvram_template.as_deref());
        match &self.nvram {
            None => element(w, "nvram", a.as_str(), ""),
            Some(Nvram::Path(p)) => element(w, "nvram", a.as_str(), &escape(p)),
            Some(Nvram::Source(src)) => {
                a.add("type", src.disk_type().as_str());
                // virDomainDiskSourceFormat: no startup policy, auth and
                // encryption inside <source>.
                format_element(w, "nvram", a.as_str(), |w| {
                    src.format(w, None, (false, false), opts)
                });
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
/// storage source parsed as a disk's.
fn parse_nvram(n: &Element) -> Result<Option<Nvram>> {
    let Some(ty) = n.attr("type") else {
        return Ok(content(n).map(Nvram::Path));
    };
    let disk_type = match DiskType::from_str_opt(ty) {
        Some(t) => t,
        None if ty == "none" => return Err(internal("unexpected disk type none")),
        None => {
            return Err(internal_xml(format!(
                "Invalid value for attribute 'type' in element 'nvram': '{ty}'."
            )))
        }
    };
    // libvirt fails without reporting an error here: its API reports
    // virErrorGenericFailure.
    let Some(source) = n.child("source") else {
        return Err(Error::raw(
            ErrorDomain::NONE,
            ErrorCode::INTERNAL_ERROR,
            "An error occurred, but the cause is unknown",
        ));
    };
    let src = StorageSource::parse(disk_type, source)?;
    Ok(Some(Nvram::Source(Box::new(src))))
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

    /// libvirt 9.0's typed NVRAM: any storage source a disk can have.
    #[test]
    fn nvram_sources_as_virsh() {
        let loader = "<loader type='pflash'>/l</loader>";
        for (nvram, want) in [
            (
                "<nvram type='network'><source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool'>\
                 <host name='example.com' port='6000'/><auth username='myname'>\
                 <secret type='iscsi' usage='mycluster_myname'/></auth></source></nvram>",
                "    <nvram type='network'>\n      <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool'>\n        <host name='example.com' port='6000'/>\n        <auth username='myname'>\n          <secret type='iscsi' usage='mycluster_myname'/>\n        </auth>\n      </source>\n    </nvram>\n",
            ),
            (
                "<nvram type='dir'><source dir='/a'/></nvram>",
                "    <nvram type='dir'>\n      <source dir='/a'/>\n    </nvram>\n",
            ),
            (
                "<nvram type='file'><source file='/a'><seclabel model='dac' relabel='no'/></source></nvram>",
                "    <nvram type='file'>\n      <source file='/a'>\n        <seclabel model='dac' relabel='no'/>\n      </source>\n    </nvram>\n",
            ),
            (
                "<nvram type='volume'><source pool='p' volume='v'/></nvram>",
                "    <nvram type='volume'>\n      <source pool='p' volume='v'/>\n    </nvram>\n",
            ),
            (
                "<nvram type='file' template='/t'><source/></nvram>",
                "    <nvram template='/t' type='file'/>\n",
            ),
        ] {
            assert_dump_holds(dump, &format!("{loader}{nvram}"), want);
        }
        assert_errors(
            dump,
            &[
                ("<nvram type='file'/>", "An error occurred, but the cause is unknown"),
                ("<nvram type='none'><source file='/a'/></nvram>", "internal error: unexpected disk type none"),
                ("<nvram type='vhostvdpa'><source dev='/a'/></nvram>", "XML error: Invalid value for attribute 'type' in element 'nvram': 'vhostvdpa'."),
            ],
        );
    }
}
