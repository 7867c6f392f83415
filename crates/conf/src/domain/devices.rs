//! `<devices>`: the container, addresses, disks, controllers, interfaces.

pub use super::address::Address;
use super::audio::Audio;
use super::boot::DeviceBoot;
use super::channel::{self, Channel};
use super::controller;
pub use super::controller::Controller;
use super::controller::ControllerType;
use super::devices_more::{Input, Memballoon};
pub use super::devices_more::{InputBus, InputType, MemballoonModel};
use super::disk::{self, DiskBus};
use super::filesystem::Filesystem;
use super::graphics::{self, Graphics};
use super::hostdev::{self, Hostdev};
use super::hub::Hub;
use super::iommu::Iommu;
use super::lease::Lease;
use super::memory::MemoryDevice;
use super::os::{Arch, OsDef, OsType};
use super::panic::Panic;
use super::redirdev::Redirdev;
use super::redirfilter::RedirFilter;
use super::rng::Rng;
use super::serial::{self, Chr};
use super::shmem::Shmem;
use super::smartcard::{self, Smartcard};
use super::sound::Sound;
use super::spapr_nvram::NvramDevice;
use super::tpm::{self, Tpm};
use super::video::{Video, VideoModel};
use super::vsock::Vsock;
use super::watchdog::Watchdog;
use super::{internal_xml, FormatOptions};
use crate::xml::{Element, Writer};
use rvirt_util::{Error, Result};

pub use super::disk::{disk_name_to_index, Disk, DiskDriver};
pub use super::interface::{generate_mac, parse_mac, Interface};

/// Everything under `<devices>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Devices {
    pub emulator: Option<String>,
    pub disks: Vec<Disk>,
    pub controllers: Vec<Controller>,
    pub leases: Vec<Lease>,
    pub filesystems: Vec<Filesystem>,
    pub interfaces: Vec<Interface>,
    pub smartcards: Vec<Smartcard>,
    pub serials: Vec<Chr>,
    pub parallels: Vec<Chr>,
    pub consoles: Vec<Chr>,
    pub channels: Vec<Channel>,
    pub inputs: Vec<Input>,
    pub tpms: Vec<Tpm>,
    pub graphics: Vec<Graphics>,
    pub sounds: Vec<Sound>,
    pub audios: Vec<Audio>,
    pub videos: Vec<Video>,
    pub hostdevs: Vec<Hostdev>,
    pub redirdevs: Vec<Redirdev>,
    pub redirfilter: Option<RedirFilter>,
    pub hubs: Vec<Hub>,
    pub watchdog: Option<Watchdog>,
    pub memballoon: Option<Memballoon>,
    pub rngs: Vec<Rng>,
    pub nvram: Option<NvramDevice>,
    pub panics: Vec<Panic>,
    pub shmems: Vec<Shmem>,
    pub memories: Vec<MemoryDevice>,
    pub iommu: Option<Iommu>,
    pub vsock: Option<Vsock>,
    /// Runtime state a hypervisor driver assigns on start.
    pub aliases: DeviceAliases,
}

/// The devices' runtime aliases (libvirt's `info.alias`, as
/// qemuAssignDeviceAliases names them on start): the i-th entry of a list
/// names the i-th device of that kind, an empty one none. Written only in
/// the live definition, never parsed (user `ua-` aliases are the devices'
/// own fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceAliases {
    pub disks: Vec<String>,
    pub controllers: Vec<String>,
    pub filesystems: Vec<String>,
    pub interfaces: Vec<String>,
    pub smartcards: Vec<String>,
    pub serials: Vec<String>,
    pub parallels: Vec<String>,
    pub consoles: Vec<String>,
    pub channels: Vec<String>,
    pub inputs: Vec<String>,
    pub tpms: Vec<String>,
    pub sounds: Vec<String>,
    pub videos: Vec<String>,
    pub hostdevs: Vec<String>,
    pub redirdevs: Vec<String>,
    pub hubs: Vec<String>,
    pub watchdog: Vec<String>,
    pub memballoon: Vec<String>,
    pub rngs: Vec<String>,
    pub shmems: Vec<String>,
    pub memories: Vec<String>,
    pub iommu: Vec<String>,
    pub vsock: Vec<String>,
}

impl Devices {
    /// Every device's user alias in `virDomainDeviceInfoIterateFlags`'s
    /// order (`virDomainDefValidateAliases`). When the first console
    /// stands for serial port 0, neither that port (libvirt's "crazy
    /// backcompat for consoles") nor the console, which is written as and
    /// with the alias of that port, is checked. (libvirt still checks such
    /// a console's own alias, which it keeps unwritten; rvirt does not
    /// keep it.)
    fn user_aliases(&self) -> Vec<&str> {
        fn of<'a, T: 'a>(
            list: impl IntoIterator<Item = &'a T>,
            info: impl Fn(&'a T) -> &'a Option<String>,
        ) -> Vec<&'a str> {
            list.into_iter()
                .filter_map(|d| info(d).as_deref())
                .collect()
        }
        let serial_console = Some(super::serial::ConsoleTarget::Serial);
        let backcompat = !self.serials.is_empty()
            && self
                .consoles
                .first()
                .is_some_and(|c| c.console_target() == serial_console);
        let skip = usize::from(backcompat);
        [
            of(&self.disks, |d| &d.info.alias),
            of(&self.interfaces, |i| &i.info.alias),
            of(&self.sounds, |s| &s.info.alias),
            of(&self.hostdevs, |h| &h.info.alias),
            of(&self.videos, |v| &v.info.alias),
            of(&self.controllers, |c| &c.info.alias),
            of(&self.smartcards, |c| &c.info.alias),
            of(self.serials.iter().skip(skip), |c| &c.info.alias),
            of(&self.parallels, |c| &c.info.alias),
            of(&self.channels, |c| &c.info.alias),
            of(self.consoles.iter().skip(skip), |c| &c.info.alias),
            of(&self.inputs, |i| &i.info.alias),
            of(&self.filesystems, |f| &f.info.alias),
            of(self.watchdog.as_slice(), |w| &w.info.alias),
            of(self.memballoon.as_slice(), |m| &m.info.alias),
            of(&self.rngs, |r| &r.info.alias),
            of(self.nvram.as_slice(), |n| &n.info.alias),
            of(&self.hubs, |h| &h.info.alias),
            of(&self.shmems, |s| &s.info.alias),
            of(&self.tpms, |t| &t.info.alias),
            of(&self.panics, |p| &p.info.alias),
            of(&self.memories, |m| &m.info.alias),
            of(&self.redirdevs, |r| &r.info.alias),
            of(self.iommu.as_slice(), |i| &i.info.alias),
            of(self.vsock.as_slice(), |v| &v.info.alias),
        ]
        .concat()
    }

    pub(crate) fn parse(e: Option<&Element>, os: &OsDef) -> Result<Devices> {
        let mut d = Devices::default();
        let Some(e) = e else {
            return Ok(d);
        };
        d.emulator = e.child_text("emulator");
        for x in e.children_named("disk") {
            disk::insert_disk(&mut d.disks, Disk::parse(x)?);
        }
        let controllers = e.children_named("controller").map(Controller::parse);
        let controllers: Vec<Controller> = controllers.collect::<Result<_>>()?;
        controller::check_usb(&controllers)?;
        for c in controllers {
            controller::insert(&mut d.controllers, c);
        }
        d.leases = parse_each(e, "lease", Lease::parse)?;
        d.filesystems = parse_each(e, "filesystem", Filesystem::parse)?;
        d.interfaces = parse_each(e, "interface", Interface::parse)?;
        d.smartcards = parse_each(e, "smartcard", Smartcard::parse)?;
        d.parallels = parse_each(e, "parallel", |x| Chr::parse(x, "parallel"))?;
        d.serials = parse_each(e, "serial", |x| Chr::parse(x, "serial"))?;
        d.consoles = parse_each(e, "console", |x| Chr::parse(x, "console"))?;
        d.channels = parse_each(e, "channel", Channel::parse)?;
        d.inputs = parse_each(e, "input", |x| Input::parse(x, os))?;
        super::validate::check_usb_inputs(&d.controllers, &d.inputs)?;
        d.tpms = tpm::parse_all(e)?;
        d.graphics = parse_each(e, "graphics", Graphics::parse)?;
        d.sounds = parse_each(e, "sound", Sound::parse)?;
        d.audios = parse_each(e, "audio", Audio::parse)?;
        Audio::validate_all(&d.audios)?;
        d.videos = parse_each(e, "video", |x| Video::parse(x, os))?;
        super::validate::order_videos(&mut d.videos)?;
        d.hostdevs = parse_each(e, "hostdev", Hostdev::parse)?;
        let usb_none = d
            .controllers
            .iter()
            .any(|c| c.controller_type == ControllerType::Usb && c.is_usb_none());
        d.redirdevs = parse_each(e, "redirdev", Redirdev::parse)?;
        let only_filter = super::internal("only one set of redirection filter rule is supported");
        d.redirfilter = parse_single(e, "redirfilter", only_filter, RedirFilter::parse)?;
        for x in e.children_named("hub") {
            d.hubs.push(Hub::parse(x)?);
            if usb_none {
                return Err(super::unsupported(
                    "Can't add USB hub: USB is disabled for this domain",
                ));
            }
        }
        let only_watchdog = super::internal("only a single watchdog device is supported");
        d.watchdog = parse_single(e, "watchdog", only_watchdog, Watchdog::parse)?;
        d.memballoon = e.child("memballoon").map(Memballoon::parse).transpose()?;
        d.rngs = parse_each(e, "rng", Rng::parse)?;
        let only_nvram = super::internal("only a single nvram device is supported");
        d.nvram = parse_single(e, "nvram", only_nvram, NvramDevice::parse)?;
        d.panics = parse_each(e, "panic", Panic::parse)?;
        Panic::reject_duplicates(&d.panics)?;
        d.shmems = parse_each(e, "shmem", Shmem::parse)?;
        let ppc64 = os.arch.is_some_and(Arch::is_ppc64);
        d.memories = parse_each(e, "memory", |x| MemoryDevice::parse(x, ppc64))?;
        let only = |name| internal_xml(format!("only a single {name} device is supported"));
        d.iommu = parse_single(e, "iommu", only("IOMMU"), Iommu::parse)?;
        d.vsock = parse_single(e, "vsock", only("vsock"), Vsock::parse)?;
        Ok(d)
    }

    /// Generic post-parse: disk buses and drive addresses, controller
    /// indexes and implicit controllers, MACs, console targets, videos.
    pub(crate) fn post_parse(&mut self, os: &OsDef, virt_type: super::VirtType) -> Result<()> {
        let scsi_hostdevs: Vec<Address> = self
            .hostdevs
            .iter()
            .filter(|h| h.hostdev_type() == Some(hostdev::HostdevType::Scsi))
            .filter_map(|h| h.address.clone())
            .collect();
        for disk in self.disks.iter_mut() {
            disk.post_parse(os.os_type == OsType::Hvm, &scsi_hostdevs)?;
        }
        disk::Iotune::expand_groups(&mut self.disks);
        hostdev::post_parse_scsi(&mut self.hostdevs, &self.controllers, &self.disks)?;
        controller::assign_indexes(&mut self.controllers);
        controller::reject_duplicates(&self.controllers)?;
        for (ctype, bus) in [
            (ControllerType::Scsi, DiskBus::Scsi),
            (ControllerType::Fdc, DiskBus::Fdc),
            (ControllerType::Ide, DiskBus::Ide),
            (ControllerType::Sata, DiskBus::Sata),
        ] {
            let max = self
                .disks
                .iter()
                .filter(|d| d.bus() == bus)
                .filter_map(|d| match d.address {
                    Some(Address::Drive { controller, .. }) => Some(controller as i32),
                    _ => None,
                })
                .max();
            let Some(max) = max else { continue };
            for idx in 0..=max {
                if !self
                    .controllers
                    .iter()
                    .any(|c| c.controller_type == ctype && c.index == idx)
                {
                    self.controllers.push(Controller::new(ctype, idx));
                }
            }
        }
        serial::post_parse(
            &mut self.serials,
            &mut self.consoles,
            os.os_type == OsType::Hvm,
        )?;
        serial::post_parse_parallels(&mut self.parallels);
        channel::add_virtio_serial_controllers(self);
        smartcard::add_ccid_controllers(&mut self.smartcards, &mut self.controllers);
        hostdev::add_scsi_controllers(&self.hostdevs, &mut self.controllers);
        for c in &self.controllers {
            c.validate()?;
        }
        graphics::add_implicit_video(&self.graphics, &mut self.videos, os)?;
        if let Some(v) = self.videos.first_mut() {
            // virDomainDefPostParseVideo: a `none` video keeps nothing else.
            if v.model == VideoModel::None {
                v.clear_to_none();
            } else {
                v.primary = true;
            }
        }
        for v in self
            .videos
            .iter_mut()
            .filter(|v| v.model != VideoModel::None)
        {
            v.post_parse(virt_type);
        }
        super::video::validate_all(&self.videos)?;
        graphics::validate_all(&self.graphics, &self.audios)?;
        for s in &self.sounds {
            s.validate(&self.audios)?;
        }
        for f in &self.filesystems {
            f.validate()?;
        }
        for s in &self.shmems {
            s.validate()?;
        }
        for t in &self.tpms {
            t.validate()?;
        }
        for d in &self.disks {
            d.validate()?;
        }
        disk::unique_targets(&self.disks)?;
        disk::unique_aliases(self.user_aliases().into_iter())?;
        for h in &self.hostdevs {
            h.validate()?;
        }
        hostdev::validate_all(&self.hostdevs)?;
        disk::unique_drive_addresses(&self.disks)?;
        super::hostdev_scsi::unique_drive_addresses(&self.hostdevs, &self.disks)?;
        if let Some(i) = &self.iommu {
            i.validate()?;
        }
        if let Some(v) = &self.vsock {
            v.validate()?;
        }
        // virDomainDefHasUSB: a USB controller of a model other than none.
        let has_usb = self
            .controllers
            .iter()
            .any(|c| c.controller_type == ControllerType::Usb && !c.is_usb_none());
        for r in &self.redirdevs {
            r.validate(has_usb)?;
        }
        Ok(())
    }

    /// The per-device `<boot order>`s, for `boot::post_parse`.
    pub(crate) fn boot_orders(&self) -> impl Iterator<Item = &DeviceBoot> {
        let disks = self.disks.iter().filter_map(|d| d.boot.as_ref());
        let nets = self.interfaces.iter().filter_map(|n| n.boot.as_ref());
        let hostdevs = self.hostdevs.iter().filter_map(|h| h.boot.as_ref());
        let redirdevs = self.redirdevs.iter().filter_map(|r| r.boot.as_ref());
        let filesystems = self.filesystems.iter().filter_map(|f| f.boot.as_ref());
        let all = disks.chain(nets).chain(hostdevs).chain(redirdevs);
        all.chain(filesystems)
    }

    pub(crate) fn format(&self, w: &mut Writer, opts: &FormatOptions) {
        w.block("devices", "", |w| {
            w.text_elem("emulator", self.emulator.as_deref());
            // libvirt formats a domain that is not running as inactive.
            let inactive = opts.inactive || opts.id.is_none();
            let serials = Chrs("serial", &self.serials, inactive);
            let consoles = Chrs("console", &self.consoles, inactive);
            let parallels = Chrs("parallel", &self.parallels, inactive);
            let channels = Channels(&self.channels, inactive);
            let memories = MemoryDevices(&self.memories, opts.inactive);
            let graphics = GraphicsList(&self.graphics, opts);
            // virDomainDefFormatInternal's order of device kinds.
            let disks = Disks(&self.disks, opts);
            let none = DeviceAliases::default();
            let a = if opts.inactive { &none } else { &self.aliases };
            let kinds: [(&dyn FormatList, &[String]); 29] = [
                (&disks, &a.disks),
                (&self.controllers, &a.controllers),
                (&self.leases, &[]),
                (&self.filesystems, &a.filesystems),
                (&self.interfaces, &a.interfaces),
                (&self.smartcards, &a.smartcards),
                (&serials, &a.serials),
                (&parallels, &a.parallels),
                (&consoles, &a.consoles),
                (&channels, &a.channels),
                (&self.inputs, &a.inputs),
                (&self.tpms, &a.tpms),
                (&graphics, &[]),
                (&self.sounds, &a.sounds),
                (&self.audios, &[]),
                (&self.videos, &a.videos),
                (&self.hostdevs, &a.hostdevs),
                (&self.redirdevs, &a.redirdevs),
                (&self.redirfilter, &[]),
                (&self.hubs, &a.hubs),
                (&self.watchdog, &a.watchdog),
                (&self.memballoon, &a.memballoon),
                (&self.rngs, &a.rngs),
                (&self.nvram, &[]),
                (&self.panics, &[]),
                (&self.shmems, &a.shmems),
                (&memories, &a.memories),
                (&self.iommu, &a.iommu),
                (&self.vsock, &a.vsock),
            ];
            for (kind, aliases) in kinds {
                kind.format_list(w, aliases);
            }
        });
    }
}

/// Every `<devices>` child named `name`, parsed in document order.
fn parse_each<T>(e: &Element, name: &str, parse: impl Fn(&Element) -> Result<T>) -> Result<Vec<T>> {
    e.children_named(name).map(parse).collect()
}

/// The one `<devices>` child named `name`; a second is `too_many`.
fn parse_single<T>(
    e: &Element,
    name: &str,
    too_many: Error,
    parse: impl Fn(&Element) -> Result<T>,
) -> Result<Option<T>> {
    let mut nodes = e.children_named(name);
    let first = nodes.next();
    if nodes.next().is_some() {
        return Err(too_many);
    }
    first.map(parse).transpose()
}

/// A device that writes its own XML element.
trait FormatXml {
    fn format_xml(&self, w: &mut Writer);
}

/// The devices of one kind, the i-th written with runtime alias
/// `aliases[i]`, so `<devices>` formats every kind the same way.
trait FormatList {
    fn format_list(&self, w: &mut Writer, aliases: &[String]);
}

/// `write` each of `items` with its alias pending in `w`.
fn each<'a, T: 'a>(
    w: &mut Writer,
    aliases: &[String],
    items: impl IntoIterator<Item = &'a T>,
    mut write: impl FnMut(&T, &mut Writer),
) {
    for (i, item) in items.into_iter().enumerate() {
        w.set_device_alias(aliases.get(i).filter(|a| !a.is_empty()).cloned());
        write(item, w);
        w.set_device_alias(None);
    }
}

impl<T: FormatXml> FormatList for Vec<T> {
    fn format_list(&self, w: &mut Writer, aliases: &[String]) {
        each(w, aliases, self, T::format_xml);
    }
}

impl<T: FormatXml> FormatList for Option<T> {
    fn format_list(&self, w: &mut Writer, aliases: &[String]) {
        each(w, aliases, self, T::format_xml);
    }
}

/// The devices whose own `format(w)` writes their whole element.
macro_rules! format_xml_by_format {
    ($($t:ty),+) => {
        $(impl FormatXml for $t {
            fn format_xml(&self, w: &mut Writer) {
                self.format(w)
            }
        })+
    };
}

format_xml_by_format!(
    Controller,
    Lease,
    Filesystem,
    Interface,
    Smartcard,
    Input,
    Tpm,
    Sound,
    Audio,
    Video,
    Hostdev,
    Redirdev,
    RedirFilter,
    Hub,
    Memballoon,
    Rng,
    NvramDevice,
    Panic,
    Shmem,
    Iommu,
    Watchdog,
    Vsock
);

/// Disks, written as the options say (secrets, inactive labels).
struct Disks<'a>(&'a [Disk], &'a FormatOptions);

impl FormatList for Disks<'_> {
    fn format_list(&self, w: &mut Writer, aliases: &[String]) {
        each(w, aliases, self.0, |d, w| d.format(w, self.1));
    }
}

/// Memory devices, written with or without their runtime state.
struct MemoryDevices<'a>(&'a [MemoryDevice], bool);

impl FormatList for MemoryDevices<'_> {
    fn format_list(&self, w: &mut Writer, aliases: &[String]) {
        each(w, aliases, self.0, |m, w| m.format(w, self.1));
    }
}

/// Displays, written as the options ask (passwords, runtime ports).
struct GraphicsList<'a>(&'a [Graphics], &'a FormatOptions);

impl FormatList for GraphicsList<'_> {
    fn format_list(&self, w: &mut Writer, aliases: &[String]) {
        each(w, aliases, self.0, |g, w| g.format(w, self.1));
    }
}

/// Serial ports or consoles: one `Chr` type, written under either name.
/// (The flag: formatting the inactive definition.)
struct Chrs<'a>(&'static str, &'a [Chr], bool);

impl FormatList for Chrs<'_> {
    fn format_list(&self, w: &mut Writer, aliases: &[String]) {
        each(w, aliases, self.1, |c, w| c.format(w, self.0, self.2));
    }
}

/// Channels, with the same flag.
struct Channels<'a>(&'a [Channel], bool);

impl FormatList for Channels<'_> {
    fn format_list(&self, w: &mut Writer, aliases: &[String]) {
        each(w, aliases, self.0, |c, w| c.format(w, self.1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_index() {
        assert_eq!(disk_name_to_index("hda"), Some(0));
        assert_eq!(disk_name_to_index("sdh"), Some(7));
        assert_eq!(disk_name_to_index("vdaa"), Some(26));
        assert_eq!(disk_name_to_index("xvdb1"), Some(1));
        assert_eq!(disk_name_to_index("foo"), None);
    }

    /// The finding's order is libvirt's: `define` then `dumpxml` through
    /// stock virsh 9.0 lists these targets, and a second round is stable.
    #[test]
    fn disk_order_is_libvirts_and_settles() {
        let doc = include_str!("../../../fuzz/findings/xml-disk-order.xml");
        let opts = FormatOptions::default();
        let round = |x: &str| super::super::DomainDef::parse(x).unwrap().format(&opts);
        let first = round(doc);
        let targets: Vec<String> = super::super::DomainDef::parse(doc)
            .unwrap()
            .devices
            .disks
            .iter()
            .map(|d| d.target.dev.clone())
            .collect();
        assert_eq!(
            targets,
            ["fda", "vda", "hdb", "vdb", "hdc", "hdd", "sdh", "sdb"]
        );
        let second = round(&first);
        assert_ne!(first, second, "libvirt reorders on the second round");
        assert_eq!(round(&second), second);
    }

    #[test]
    fn mac() {
        assert_eq!(parse_mac("AA:b:cc:dd:ee:ff").unwrap(), "aa:0b:cc:dd:ee:ff");
        assert!(parse_mac("zz").is_none());
        assert!(generate_mac().starts_with("52:54:00:"));
    }
}
