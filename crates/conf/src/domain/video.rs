//! `<video>` (`virDomainVideoDef`): parsed as `virDomainVideoDefParseXML`
//! with rvirt's model defaults, formatted as `virDomainVideoDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::os::OsDef;
use super::props::{self, vir_enum, TriBool, VirEnum};
use super::virtio::VirtioOptions;
use super::VirtType;
use super::{internal, internal_xml, sanitize_path, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainVideoType` (rvirt keeps `default` as written).
    pub enum VideoModel {
        Default = "default", Vga = "vga", Cirrus = "cirrus", Vmvga = "vmvga", Xen = "xen",
        Vbox = "vbox", Qxl = "qxl", Parallels = "parallels", Virtio = "virtio", Gop = "gop",
        None = "none", Bochs = "bochs", Ramfb = "ramfb",
    }

    /// `virDomainVideoBackend` ("default" is the unset value).
    pub enum VideoBackend { Default = "default", Qemu = "qemu", VhostUser = "vhostuser" }

    /// `virDomainVideoVGAConf` ("io", the zero entry, is never formatted).
    pub enum VgaConf { Io = "io", On = "on", Off = "off" }
}

/// `<acceleration>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acceleration {
    pub accel3d: Option<TriBool>,
    pub accel2d: Option<TriBool>,
    pub rendernode: Option<String>,
}

/// `<video>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Video {
    pub model: VideoModel,
    pub ram: Option<u32>,
    pub vram: Option<u32>,
    pub vram64: Option<u32>,
    pub vgamem: Option<u32>,
    pub heads: Option<u32>,
    pub primary: bool,
    pub acceleration: Option<Acceleration>,
    /// `<resolution x y>`.
    pub resolution: Option<(u32, u32)>,
    pub backend: Option<VideoBackend>,
    pub vgaconf: Option<VgaConf>,
    pub virtio: VirtioOptions,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

fn parse_accel(a: &Element) -> Result<Acceleration> {
    let acc = Acceleration {
        accel3d: props::tribool(a, "accel3d")?,
        accel2d: props::tribool(a, "accel2d")?,
        rendernode: a.attr("rendernode").map(sanitize_path),
    };
    if acc.accel3d.is_none() && acc.accel2d.is_none() && acc.rendernode.is_none() {
        return Err(unsupported("missing values for acceleration"));
    }
    Ok(acc)
}

/// `./model/@NAME` as `virStrToLong_uip`; heads report an internal error.
fn model_number(m: Option<&Element>, name: &str) -> Result<Option<u32>> {
    let Some(v) = m.and_then(|m| m.attr(name)).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let msg = format!("cannot parse video {name} '{v}'");
    let n = v.trim_start().parse::<u32>();
    match (n, name) {
        (Ok(n), _) => Ok(Some(n)),
        (Err(_), "heads") => Err(internal(msg)),
        (Err(_), _) => Err(internal_xml(msg)),
    }
}

/// `virDomainVideoDefaultRAM`: KiB of (V)RAM a model gets when none is
/// given, by the domain's virt type.
fn default_ram(virt_type: VirtType, model: VideoModel) -> u32 {
    match model {
        VideoModel::Vga | VideoModel::Cirrus | VideoModel::Vmvga => match virt_type {
            VirtType::Vbox => 8 * 1024,
            VirtType::Vmware => 4 * 1024,
            _ => 16 * 1024,
        },
        VideoModel::Bochs => 16 * 1024,
        VideoModel::Xen => 4 * 1024,
        VideoModel::Qxl => 64 * 1024,
        _ => 0,
    }
}

/// `VIR_ROUND_UP_POWER_OF_TWO` on an unsigned int: 0 for 0 and for what
/// does not fit.
fn round_up_power_of_two(n: u32) -> u32 {
    match n {
        0 => 0,
        n if n > 1 << 31 => 0,
        n => n.next_power_of_two(),
    }
}

impl Video {
    /// A video of `model` with nothing else set.
    pub fn bare(model: VideoModel) -> Video {
        Video {
            model,
            ram: None,
            vram: None,
            vram64: None,
            vgamem: None,
            heads: None,
            primary: false,
            acceleration: None,
            resolution: None,
            backend: None,
            vgaconf: None,
            virtio: VirtioOptions::default(),
            info: DeviceInfo::default(),
            address: None,
        }
    }

    /// `virDomainVideoDefPostParse`: the (V)RAM defaults of `virt_type`
    /// (RAM for qxl only), both rounded up to a power of two.
    pub(crate) fn post_parse(&mut self, virt_type: VirtType) {
        let default = default_ram(virt_type, self.model);
        let ram = match self.ram {
            None if self.model == VideoModel::Qxl => default,
            other => other.unwrap_or(0),
        };
        let vram = self.vram.unwrap_or(default);
        self.ram = Some(round_up_power_of_two(ram)).filter(|n| *n != 0);
        self.vram = Some(round_up_power_of_two(vram)).filter(|n| *n != 0);
    }

    /// `virDomainDefPostParseVideo` on a `none` video: nothing it was
    /// given is kept but its user alias.
    pub(crate) fn clear_to_none(&mut self) {
        let alias = self.info.alias.take();
        *self = Video::bare(VideoModel::None);
        self.info.alias = alias;
    }

    pub(crate) fn parse(e: &Element, os: &OsDef) -> Result<Video> {
        let m = e.child("model");
        let model = match m.and_then(|m| m.attr("type")) {
            Some(t) => VideoModel::parse_named(t, "video model")?,
            None if os.os_type == super::OsType::Hvm => VideoModel::Cirrus,
            None => VideoModel::Xen,
        };
        let driver = e.child("driver");
        let backend = match driver {
            Some(d) => props::enumeration(d, "name", false)?,
            None => None,
        };
        if backend == Some(VideoBackend::Default) {
            return Err(props::invalid(driver.unwrap_or(e), "name", "default"));
        }
        Ok(Video {
            // A zero size, like an absent one, takes the default (post_parse).
            ram: model_number(m, "ram")?.filter(|n| *n != 0),
            vram: model_number(m, "vram")?.filter(|n| *n != 0),
            vram64: model_number(m, "vram64")?,
            vgamem: model_number(m, "vgamem")?,
            heads: Some(model_number(m, "heads")?.unwrap_or(1)),
            primary: m.and_then(|m| m.attr("primary")) == Some("yes"),
            acceleration: m
                .and_then(|m| m.child("acceleration"))
                .map(parse_accel)
                .transpose()?,
            resolution: match m.and_then(|m| m.child("resolution")) {
                None => None,
                Some(r) => Some((
                    props::uint(r, "x", true, false)?.unwrap_or(0),
                    props::uint(r, "y", true, false)?.unwrap_or(0),
                )),
            },
            backend,
            vgaconf: match driver {
                Some(d) => props::enumeration(d, "vgaconf", false)?,
                None => None,
            },
            virtio: VirtioOptions::parse(driver)?,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
            model,
        })
    }

    fn format_driver(&self, w: &mut Writer) {
        let mut attrs = self.virtio.attrs();
        if let Some(v) = self.vgaconf.filter(|v| *v != VgaConf::Io) {
            attrs.push_str(&format!(" vgaconf='{}'", v.as_str()));
        }
        if let Some(b) = self.backend {
            attrs.push_str(&format!(" name='{}'", b.as_str()));
        }
        w.attrs_elem("driver", &attrs);
    }

    fn format_model_children(&self, w: &mut Writer) {
        if let Some(acc) = &self.acceleration {
            let mut a = Attrs::new();
            a.opt("accel3d", acc.accel3d.map(VirEnum::as_str));
            a.opt("accel2d", acc.accel2d.map(VirEnum::as_str));
            a.opt("rendernode", acc.rendernode.as_deref());
            w.line(&format!("<acceleration{}/>", a.as_str()));
        }
        match self.resolution {
            Some((x, y)) if x != 0 && y != 0 => w.line(&format!("<resolution x='{x}' y='{y}'/>")),
            Some(_) => w.line("<resolution/>"),
            None => {}
        }
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.block("video", "", |w| {
            self.format_driver(w);
            let mut a = Attrs::new();
            a.add("type", self.model.as_str());
            a.opt("ram", self.ram.filter(|n| *n != 0));
            a.opt("vram", self.vram.filter(|n| *n != 0));
            a.opt("vram64", self.vram64.filter(|n| *n != 0));
            a.opt("vgamem", self.vgamem.filter(|n| *n != 0));
            a.opt("heads", self.heads.filter(|n| *n != 0));
            if self.primary {
                a.add("primary", "yes");
            }
            w.elem_with("model", a.as_str(), |w| self.format_model_children(w));
            format_info_addr(&self.info, &self.address, w);
        });
    }
}

/// `virDomainVideoDefValidate` for every video of the domain.
pub(crate) fn validate_all(videos: &[Video]) -> Result<()> {
    for v in videos {
        if v.model == VideoModel::None && videos.len() > 1 {
            return Err(unsupported(
                "a 'none' video type must be the only video device defined for the domain",
            ));
        }
        if v.backend == Some(VideoBackend::VhostUser) && v.model != VideoModel::Virtio {
            return Err(unsupported(
                "'vhostuser' driver is only supported with 'virtio' device",
            ));
        }
        let rendernode = v
            .acceleration
            .as_ref()
            .is_some_and(|a| a.rendernode.is_some());
        if v.backend != Some(VideoBackend::VhostUser) && rendernode {
            return Err(unsupported(
                "unsupported rendernode accel attribute without 'vhostuser'",
            ));
        }
        if v.resolution.is_some_and(|(x, y)| x == 0 || y == 0) {
            return Err(unsupported(
                "video resolution values must be greater than 0",
            ));
        }
        if v.model != VideoModel::Qxl {
            for (name, n) in [("ram", v.ram), ("vram64", v.vram64), ("vgamem", v.vgamem)] {
                if n.is_some_and(|n| n != 0) {
                    return Err(unsupported(format!(
                        "{name} attribute only supported for video type qxl"
                    )));
                }
            }
        }
        if v.model == VideoModel::Ramfb && v.address.is_some() {
            return Err(unsupported("address not supported for video type ramfb"));
        }
        if v.model != VideoModel::Virtio {
            v.virtio.check_absent()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn video_as_virsh() {
        let out = dump(
            "<video><driver iommu='on' vgaconf='on' name='vhostuser'/><model type='virtio' vram='0' heads='0'>\
             <acceleration accel3d='yes' rendernode='/dev//dri/'/><resolution x='800' y='600'/></model></video>",
        )
        .unwrap();
        let want = "    <video>
      <driver iommu='on' vgaconf='on' name='vhostuser'/>
      <model type='virtio' primary='yes'>
        <acceleration accel3d='yes' rendernode='/dev/dri'/>
        <resolution x='800' y='600'/>
      </model>
    </video>
";
        assert!(out.contains(want), "{out}");
        let out = dump("<video><model type='qxl' ram='0' vgamem='8192'/></video>").unwrap();
        assert!(out.contains(
            "<model type='qxl' ram='65536' vram='65536' vgamem='8192' heads='1' primary='yes'/>"
        ));
        assert_errors(
            dump,
            &[
                ("<video><model type='virtio' vgamem='2'/></video>", "unsupported configuration: vgamem attribute only supported for video type qxl"),
                ("<video><model type='vga' heads='x'/></video>", "internal error: cannot parse video heads 'x'"),
                ("<video><driver iommu='on'/><model type='vga'/></video>", "unsupported configuration: iommu driver option is only supported for virtio devices"),
            ],
        );
    }

    /// (V)RAM defaults by virt type and model, rounded up to a power of
    /// two (checked against stock virsh).
    #[test]
    fn ram_defaults_and_rounding() {
        use super::super::test_support::round_trip;
        let videos = "<video><model type='vbox'/></video><video><model type='vga'/></video>\
            <video><model type='bochs'/></video><video><model type='qxl' vram='18432'/></video>\
            <video><model type='cirrus' vram='1'/></video><video><model type='vmvga' vram='2147483649'/></video>";
        let dump = |virt: &str| {
            round_trip(&format!(
                "<domain type='{virt}'><name>v</name><memory>1024</memory>\
                 <os><type>hvm</type></os><devices>{videos}</devices></domain>"
            ))
            .unwrap()
        };
        let models = |out: String| -> Vec<String> {
            out.lines()
                .filter(|l| l.contains("<model type="))
                .map(|l| l.trim().to_string())
                .collect()
        };
        assert_eq!(
            models(dump("vmware")),
            [
                "<model type='vbox' heads='1' primary='yes'/>",
                "<model type='vga' vram='4096' heads='1'/>",
                "<model type='bochs' vram='16384' heads='1'/>",
                "<model type='qxl' ram='65536' vram='32768' heads='1'/>",
                "<model type='cirrus' vram='1' heads='1'/>",
                "<model type='vmvga' heads='1'/>",
            ]
        );
        assert!(models(dump("vbox"))[1].contains("vram='8192'"));
        assert!(models(dump("test"))[1].contains("vram='16384'"));
    }

    /// A user alias and an ACPI index, in virDomainDeviceInfoFormat's
    /// order; a `none` video keeps only its alias (checked against virsh).
    #[test]
    fn alias_and_acpi_index() {
        let out = dump(
            "<video><model type='cirrus'/><acpi index='1729'/><alias name='ua-v'/>\
             <address type='pci' domain='0' bus='0' slot='2' function='0'/></video>",
        )
        .unwrap();
        let want = "      <model type='cirrus' vram='16384' heads='1' primary='yes'/>
      <alias name='ua-v'/>
      <acpi index='1729'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
";
        assert!(out.contains(want), "{out}");
        let out = dump("<video><model type='none'/><acpi index='3'/><alias name='ua-user-video-alias'/></video>")
            .unwrap();
        let want = "    <video>
      <model type='none'/>
      <alias name='ua-user-video-alias'/>
    </video>
";
        assert!(out.contains(want), "{out}");
    }
}
