//! `<interface type='direct'>`: a macvtap link on the source device
//! (libvirt 9.0's `qemuInterfaceDirectConnect` and
//! `virNetDevMacVLanCreateWithVPortProfile`). The link is made with the
//! guest's MAC in the interface's mode (vepa, bridge, private,
//! passthrough), down until the guest's CPUs run ([`set_online`]), its
//! character device /dev/tapIFINDEX
//! opened (with `IFF_VNET_HDR` for the models that use it) and the
//! descriptor handed to QEMU as `-netdev tap,fd=N`, with a vhost-net
//! descriptor beside it for a virtio NIC of a KVM guest when
//! /dev/vhost-net opens. The link is deleted when the guest stops.
//!
//! Passthrough mode gives the source device the guest's MAC, as libvirt
//! does; its own MAC is kept in the driver's state directory
//! (`SOURCE.macvtap-mac`) and put back when the guest stops.

use crate::command::TapFds;
use rvirt_conf::domain::interface::{MacAddr, MacvlanMode, NetModel, NetModelType, NetSource};
use rvirt_conf::domain::{DomainDef, Interface, VirtType};
use rvirt_util::{Error, ErrorDomain, Result};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// The descriptors opened for a guest's direct interfaces: what the
/// command line names (by interface position) and what keeps them open
/// until QEMU has them.
#[derive(Default)]
pub struct Opened {
    pub by_position: BTreeMap<usize, TapFds>,
    pub owned: Vec<OwnedFd>,
    /// Links made so far (deleted again when the start fails).
    pub links: Vec<String>,
}

impl Opened {
    /// The raw descriptors QEMU inherits.
    pub fn raw(&self) -> Vec<i32> {
        self.owned.iter().map(AsRawFd::as_raw_fd).collect()
    }
}

fn net_error(msg: String) -> Error {
    Error::internal(ErrorDomain::NONE, msg)
}

/// libvirt's kernel words for the modes (`passthrough` is `passthru`).
fn kernel_mode(mode: MacvlanMode) -> &'static str {
    match mode {
        MacvlanMode::Vepa => "vepa",
        MacvlanMode::Private => "private",
        MacvlanMode::Bridge => "bridge",
        MacvlanMode::Passthrough => "passthru",
    }
}

/// `qemuInterfaceIsVnetCompatModel`.
fn vnet_compat(net: &Interface) -> bool {
    matches!(
        &net.model,
        Some(NetModel::Known(
            NetModelType::Virtio
                | NetModelType::VirtioTransitional
                | NetModelType::VirtioNonTransitional
                | NetModelType::E1000e
                | NetModelType::Vmxnet3
        ))
    )
}

fn is_virtio(net: &Interface) -> bool {
    matches!(
        &net.model,
        Some(NetModel::Known(
            NetModelType::Virtio
                | NetModelType::VirtioTransitional
                | NetModelType::VirtioNonTransitional
        ))
    )
}

/// libvirt's `macvtap%d`: the first index no link (nor one of `taken`) has.
fn free_name(taken: &[String]) -> String {
    (0..)
        .map(|i| format!("macvtap{i}"))
        .find(|n| !taken.contains(n) && !Path::new("/sys/class/net").join(n).exists())
        .unwrap_or_default()
}

/// Make the macvtap links of `def`'s direct interfaces and open their
/// taps; on failure what was made is gone again.
pub fn connect_all(def: &mut DomainDef, state_dir: &Path) -> Result<Opened> {
    let mut opened = Opened::default();
    let kvm = def.virt_type == VirtType::Kvm;
    let result = (|| -> Result<()> {
        for (i, net) in def.devices.interfaces.iter_mut().enumerate() {
            let NetSource::Direct { dev, mode } = &net.source else {
                continue;
            };
            let (dev, mode) = (dev.clone(), *mode);
            let name = match net.target_dev.clone().filter(|t| !t.starts_with("macvtap")) {
                Some(t) => t,
                None => free_name(&opened.links),
            };
            if mode == MacvlanMode::Passthrough {
                save_and_set_mac(&dev, net.mac, state_dir)?;
            }
            create_link(&name, &dev, net.mac, mode)?;
            opened.links.push(name.clone());
            set_noqueue(&name);
            let tap = open_tap(&name)?;
            setup_tap(&tap, vnet_compat(net))?;
            let vhost = (kvm && is_virtio(net)).then(open_vhost).flatten();
            opened.by_position.insert(
                i,
                TapFds {
                    tap: tap.as_raw_fd(),
                    vhost: vhost.as_ref().map(AsRawFd::as_raw_fd),
                },
            );
            opened.owned.push(tap);
            opened.owned.extend(vhost);
            net.target_dev = Some(name);
        }
        Ok(())
    })();
    if let Err(e) = result {
        release_links(def, &opened.links, state_dir);
        return Err(e);
    }
    Ok(opened)
}

/// `virNetDevMacVLanCreate`.
fn create_link(name: &str, dev: &str, mac: MacAddr, mode: MacvlanMode) -> Result<()> {
    let mac = mac.to_string();
    crate::network_iface::ip(&[
        "link",
        "add",
        "link",
        dev,
        "name",
        name,
        "address",
        &mac,
        "type",
        "macvtap",
        "mode",
        kernel_mode(mode),
    ])
    .map_err(|e| {
        net_error(format!(
            "error creating macvtap interface {name}@{dev} ({mac}): {}",
            e.message
        ))
    })
}

/// `qemuDomainInterfaceSetDefaultQDisc`: the lockless `noqueue` root
/// qdisc through tc, as libvirt sets it on every tap and macvtap it
/// makes (a failure is not an error).
pub fn set_noqueue(name: &str) {
    let _ = std::process::Command::new("tc")
        .args([
            "qdisc", "add", "dev", name, "root", "handle", "0:", "noqueue",
        ])
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// `virNetDevMacVLanTapOpen`: /dev/tapIFINDEX, waited for a little (the
/// node appears with the link).
fn open_tap(name: &str) -> Result<OwnedFd> {
    let index = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex")).map_err(|e| {
        Error::system(
            ErrorDomain::NONE,
            format!("Unable to get index for interface {name}"),
            &e,
        )
    })?;
    let path = format!("/dev/tap{}", index.trim());
    let mut last = None;
    for _ in 0..=10 {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        {
            Ok(f) => return Ok(OwnedFd::from(f)),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Err(Error::system(
        ErrorDomain::NONE,
        format!("cannot open macvtap tap device {path}"),
        &last.unwrap_or_else(|| std::io::Error::other("no tap")),
    ))
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNGETFEATURES: libc::c_ulong = 0x8004_54cf;
const TUNGETIFF: libc::c_ulong = 0x8004_54d2;
const IFF_VNET_HDR: libc::c_short = 0x4000;
const IFF_MULTI_QUEUE: libc::c_short = 0x0100;

#[repr(C)]
struct IfReqFlags {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// `virNetDevMacVLanTapSetup` for one queue: `IFF_VNET_HDR` on when asked
/// and offered, off otherwise; no multiqueue.
fn setup_tap(tap: &OwnedFd, vnet_hdr: bool) -> Result<()> {
    let fd = tap.as_raw_fd();
    let mut req = IfReqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    let sys = |what: &str| Error::system(ErrorDomain::NONE, what, &std::io::Error::last_os_error());
    // SAFETY: TUNGETIFF fills the ifreq `req` points at.
    if unsafe { libc::ioctl(fd, TUNGETIFF as _, &mut req) } < 0 {
        return Err(sys("cannot get interface flags on macvtap tap"));
    }
    let mut flags = req.flags;
    if vnet_hdr {
        let mut features: libc::c_uint = 0;
        // SAFETY: TUNGETFEATURES writes one unsigned int.
        if unsafe { libc::ioctl(fd, TUNGETFEATURES as _, &mut features) } < 0 {
            return Err(sys("cannot get feature flags on macvtap tap"));
        }
        if features & IFF_VNET_HDR as libc::c_uint != 0 {
            flags |= IFF_VNET_HDR;
        }
    } else {
        flags &= !IFF_VNET_HDR;
    }
    flags &= !IFF_MULTI_QUEUE;
    if flags != req.flags {
        req.flags = flags;
        // SAFETY: TUNSETIFF reads the ifreq `req` points at.
        if unsafe { libc::ioctl(fd, TUNSETIFF as _, &mut req) } < 0 {
            return Err(sys("unable to set vnet or multiqueue flags on macvtap"));
        }
    }
    Ok(())
}

/// `qemuInterfaceOpenVhostNet` when vhost is not demanded: the device if
/// it opens, else none.
fn open_vhost() -> Option<OwnedFd> {
    let path = c"/dev/vhost-net";
    // SAFETY: open(2) of a constant path; the descriptor is owned below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn saved_mac_file(state_dir: &Path, dev: &str) -> std::path::PathBuf {
    state_dir.join(format!("{dev}.macvtap-mac"))
}

/// Passthrough: the source device's MAC is kept, then set to the guest's.
fn save_and_set_mac(dev: &str, mac: MacAddr, state_dir: &Path) -> Result<()> {
    let own = std::fs::read_to_string(format!("/sys/class/net/{dev}/address")).map_err(|e| {
        Error::system(
            ErrorDomain::NONE,
            format!("Unable to read MAC address of {dev}"),
            &e,
        )
    })?;
    let file = saved_mac_file(state_dir, dev);
    if !file.exists() {
        crate::files::write_atomic(&file, own.trim().as_bytes())?;
    }
    crate::network_iface::ip(&["link", "set", "dev", dev, "address", &mac.to_string()])
}

/// Delete `links` and give passthrough sources their MAC back.
fn release_links(def: &DomainDef, links: &[String], state_dir: &Path) {
    for link in links {
        let _ = crate::network_iface::ip(&["link", "del", "dev", link]);
    }
    for net in &def.devices.interfaces {
        if let NetSource::Direct {
            dev,
            mode: MacvlanMode::Passthrough,
        } = &net.source
        {
            let file = saved_mac_file(state_dir, dev);
            if let Ok(mac) = std::fs::read_to_string(&file) {
                let _ =
                    crate::network_iface::ip(&["link", "set", "dev", dev, "address", mac.trim()]);
                let _ = std::fs::remove_file(file);
            }
        }
    }
}

/// Delete the macvtap links of the stopped guest's direct interfaces. A
/// definition read back after a daemon restart may have forgotten the
/// generated names; the link is then found by the guest's MAC on the
/// source device.
pub fn release(def: &DomainDef, state_dir: &Path) {
    let links: Vec<String> = def
        .devices
        .interfaces
        .iter()
        .filter_map(|net| match &net.source {
            NetSource::Direct { dev, .. } => {
                net.target_dev.clone().or_else(|| link_of(dev, net.mac))
            }
            _ => None,
        })
        .collect();
    release_links(def, &links, state_dir);
}

/// The macvtap link on `dev` whose address is `mac`.
pub fn link_of(dev: &str, mac: MacAddr) -> Option<String> {
    let want = mac.to_string();
    let uppers = std::fs::read_dir(format!("/sys/class/net/{dev}")).ok()?;
    uppers.flatten().find_map(|e| {
        let name = e.file_name().into_string().ok()?;
        let link = name.strip_prefix("upper_")?.to_string();
        let addr = std::fs::read_to_string(format!("/sys/class/net/{link}/address")).ok()?;
        let is_macvtap = Path::new(&format!("/sys/class/net/{link}/macvtap")).exists();
        (is_macvtap && addr.trim().eq_ignore_ascii_case(&want)).then_some(link)
    })
}

/// After a daemon restart: the macvtap link of each direct interface
/// whose generated name the status read back has forgotten.
pub fn restore_links(def: &mut DomainDef) {
    for net in def.devices.interfaces.iter_mut() {
        if let NetSource::Direct { dev, .. } = &net.source {
            if net.target_dev.is_none() {
                net.target_dev = link_of(dev, net.mac);
            }
        }
    }
}

/// `qemuInterfaceStartDevices` / `StopDevices` for direct interfaces:
/// the macvtap links go up just before the guest's CPUs run (a link up
/// earlier would announce the guest's MAC from a guest not running yet,
/// e.g. a migration's destination) and down when they stop; a source
/// device that is down is brought up first, and a passthrough source,
/// which carries the guest's MAC, goes down with its link.
pub fn set_online(def: &DomainDef, up: bool) -> Result<()> {
    for net in &def.devices.interfaces {
        let (NetSource::Direct { dev, mode }, Some(link)) = (&net.source, &net.target_dev) else {
            continue;
        };
        if !up {
            crate::network_iface::ip(&["link", "set", "dev", link, "down"])?;
            if *mode == MacvlanMode::Passthrough {
                crate::network_iface::ip(&["link", "set", "dev", dev, "down"])?;
            }
            continue;
        }
        let flags = std::fs::read_to_string(format!("/sys/class/net/{dev}/flags"))
            .ok()
            .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok());
        if flags.is_some_and(|f| f & 1 == 0) {
            crate::network_iface::ip(&["link", "set", "dev", dev, "up"])?;
        }
        crate::network_iface::ip(&["link", "set", "dev", link, "up"])?;
    }
    Ok(())
}

/// [`set_online`] for a guest known by its handle (its live definition).
pub fn set_online_for(
    driver: &crate::driver::Driver,
    dom: &rvirt::driver::DomainRef,
    up: bool,
) -> Result<()> {
    let def = driver.domains.lock().get(dom)?.def.clone();
    set_online(&def, up)
}
