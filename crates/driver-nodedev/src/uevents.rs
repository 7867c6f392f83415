//! Node device lifecycle events, as libvirt's udev backend raises them
//! (`udevHandleOneDevice`): a device added is CREATED, one added again or
//! changed is an UPDATE, one removed is DELETED, and a move is a removal
//! of the old path and an addition of the new.
//!
//! libvirt hears of devices from udevd's monitor (netlink group 2, after
//! udevd's rules ran). rvirt listens there when udevd runs, so the
//! database it reads is current, and to the kernel's own uevents (group 1)
//! otherwise: the same actions for the same devices, without udevd.
//! Each event is matched against a fresh reading of the tree, so a device
//! is described exactly as a later `nodedev-dumpxml` shows it.

use crate::HostNodeDevices;
use rvirt::events_nodedev::{nodedev_event, NodeDeviceEvent};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The kernel's multicast group for uevents, and udevd's.
const KERNEL_GROUP: u32 = 1;
const UDEV_GROUP: u32 = 2;

/// One uevent: what happened to which sysfs path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Uevent {
    pub action: String,
    /// `/sys` + DEVPATH, as a device's `<path>` shows it.
    pub path: String,
    /// A move's former path.
    pub old_path: Option<String>,
}

impl Uevent {
    /// A kernel message (`ACTION@DEVPATH\0KEY=VALUE\0...`) or udevd's
    /// (`libudev\0`, a header whose u32 at byte 16 is where the
    /// `KEY=VALUE\0` properties start); `None` for anything else.
    pub(crate) fn parse(msg: &[u8]) -> Option<Uevent> {
        let props = if msg.starts_with(b"libudev\0") {
            let at = u32::from_ne_bytes(msg.get(16..20)?.try_into().ok()?) as usize;
            msg.get(at..)?
        } else {
            let first_nul = msg.iter().position(|b| *b == 0)?;
            msg[..first_nul]
                .contains(&b'@')
                .then_some(&msg[first_nul + 1..])?
        };
        let mut found: HashMap<&str, &str> = HashMap::new();
        for field in props.split(|b| *b == 0) {
            let Ok(field) = std::str::from_utf8(field) else {
                continue;
            };
            if let Some((k, v)) = field.split_once('=') {
                found.insert(k, v);
            }
        }
        Some(Uevent {
            action: found.get("ACTION")?.to_string(),
            path: format!("/sys{}", found.get("DEVPATH")?),
            old_path: found.get("DEVPATH_OLD").map(|p| format!("/sys{p}")),
        })
    }
}

/// A netlink socket bound to `group` of NETLINK_KOBJECT_UEVENT.
fn uevent_socket(group: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain socket/bind/setsockopt calls on a descriptor we own;
    // the address is a zeroed sockaddr_nl with its family and groups set.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_KOBJECT_UEVENT,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = OwnedFd::from_raw_fd(fd);
        // Bursts (a PCI rescan) must not overflow the queue.
        let size: libc::c_int = 4 << 20;
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = group;
        let len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        if libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            len,
        ) < 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(fd)
    }
}

/// Start the watcher thread that raises `devices`' events.
pub(crate) fn watch(devices: HostNodeDevices) -> io::Result<()> {
    let udevd = devices.sysfs.path("run/udev/control").exists();
    let sock = uevent_socket(if udevd { UDEV_GROUP } else { KERNEL_GROUP })?;
    std::thread::Builder::new()
        .name("nodedev-uevents".into())
        .spawn(move || Watcher::new(devices).run(sock))?;
    Ok(())
}

/// The devices as last seen (`<path>` → name), to tell a new device from
/// a changed one and to name a removed one.
struct Watcher {
    devices: HostNodeDevices,
    known: HashMap<String, String>,
}

impl Watcher {
    fn new(devices: HostNodeDevices) -> Watcher {
        let known = devices
            .devices()
            .into_iter()
            .filter_map(|d| Some((d.sysfs_path.clone()?, d.name)))
            .collect();
        Watcher { devices, known }
    }

    fn run(mut self, sock: OwnedFd) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: recv into a buffer we own, of its length.
            let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let err = io::Error::last_os_error();
                match err.raw_os_error() {
                    // Lost events (an overflowed queue) lose only events.
                    Some(libc::EINTR) | Some(libc::ENOBUFS) => continue,
                    _ => {
                        tracing::error!("node device events stopped: {err}");
                        return;
                    }
                }
            }
            if let Some(ev) = Uevent::parse(&buf[..n as usize]) {
                tracing::debug!("udev action: '{}': {}", ev.action, ev.path);
                self.handle(ev);
            }
        }
    }

    fn handle(&mut self, ev: Uevent) {
        match ev.action.as_str() {
            "add" | "change" => self.added(&ev.path),
            "remove" => self.removed(&ev.path),
            "move" => {
                if let Some(old) = &ev.old_path {
                    self.removed(old);
                }
                self.added(&ev.path);
            }
            _ => {}
        }
    }

    /// `udevAddOneDevice`: CREATED for a device not seen before, else UPDATE.
    fn added(&mut self, path: &str) {
        let Some(def) = self
            .devices
            .devices()
            .into_iter()
            .find(|d| d.sysfs_path.as_deref() == Some(path))
        else {
            return;
        };
        let event = match self.known.insert(path.to_string(), def.name.clone()) {
            None => NodeDeviceEvent::Lifecycle {
                event: nodedev_event::CREATED,
                detail: 0,
            },
            Some(_) => NodeDeviceEvent::Update,
        };
        self.devices.events.emit(def.name.as_str(), &event);
    }

    /// `udevRemoveOneDeviceSysPath`: DELETED for a device that was listed.
    fn removed(&mut self, path: &str) {
        if let Some(name) = self.known.remove(path) {
            let event = NodeDeviceEvent::Lifecycle {
                event: nodedev_event::DELETED,
                detail: 0,
            };
            self.devices.events.emit(name.as_str(), &event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_and_udevd_messages_parse() {
        let kernel = b"add@/devices/virtual/net/dummy0\0ACTION=add\0DEVPATH=/devices/virtual/net/dummy0\0SUBSYSTEM=net\0";
        assert_eq!(
            Uevent::parse(kernel),
            Some(Uevent {
                action: "add".into(),
                path: "/sys/devices/virtual/net/dummy0".into(),
                old_path: None,
            })
        );
        let props =
            b"ACTION=move\0DEVPATH=/devices/virtual/net/b\0DEVPATH_OLD=/devices/virtual/net/a\0";
        let mut udevd = b"libudev\0".to_vec();
        udevd.extend_from_slice(&0xfeedcafeu32.to_be_bytes());
        udevd.extend_from_slice(&40u32.to_ne_bytes()); // header size
        udevd.extend_from_slice(&40u32.to_ne_bytes()); // properties offset
        udevd.extend_from_slice(&(props.len() as u32).to_ne_bytes());
        udevd.resize(40, 0);
        udevd.extend_from_slice(props);
        let ev = Uevent::parse(&udevd).unwrap();
        assert_eq!(ev.action, "move");
        assert_eq!(ev.old_path.as_deref(), Some("/sys/devices/virtual/net/a"));
        for junk in [&b""[..], b"no nul", b"libudev\0short", b"x\0ACTION=add\0"] {
            assert_eq!(Uevent::parse(junk), None, "{junk:?}");
        }
    }
}
