//! The links of `/sys/class/net` as libudev shows them to libvirt's udev
//! interface backend: attributes without their trailing newline, devices
//! in syspath order, `DEVTYPE` from `uevent`.

use rvirt::interface::ERROR_DOMAIN;
use rvirt_conf::host_iface::{Body, HostInterfaceDef, IfaceType};
use rvirt_util::{Error, ErrorCode, Result};
use std::path::PathBuf;

pub struct Links {
    class_net: PathBuf,
    vlan_dir: PathBuf,
}

fn internal(msg: String) -> Error {
    Error::internal(ERROR_DOMAIN, msg)
}

/// `virNetDevIfState` names, from the kernel's operstate words.
fn link_state(operstate: &str) -> Option<&'static str> {
    Some(match operstate {
        "unknown" => "unknown",
        "notpresent" => "notpresent",
        "down" => "down",
        "lower-layer-down" => "lower-layer-down",
        "testing" => "testing",
        "dormant" => "dormant",
        "up" => "up",
        _ => return None,
    })
}

impl Links {
    pub fn new(class_net: PathBuf, vlan_dir: PathBuf) -> Links {
        Links {
            class_net,
            vlan_dir,
        }
    }

    pub fn exists(&self, name: &str) -> bool {
        !name.contains('/') && !name.is_empty() && self.class_net.join(name).exists()
    }

    /// `udev_device_get_sysattr_value`: the file's text without its
    /// trailing newline.
    pub fn attr(&self, name: &str, attr: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.class_net.join(name).join(attr)).ok()?;
        Some(text.strip_suffix('\n').unwrap_or(&text).to_string())
    }

    pub fn operstate(&self, name: &str) -> Option<String> {
        self.attr(name, "operstate")
    }

    fn has(&self, name: &str, attr: &str) -> bool {
        self.class_net.join(name).join(attr).exists()
    }

    /// `udev_device_get_devtype`: `DEVTYPE=` of the device's uevent.
    fn devtype(&self, name: &str) -> Option<String> {
        let uevent = self.attr(name, "uevent")?;
        uevent
            .lines()
            .find_map(|l| l.strip_prefix("DEVTYPE="))
            .map(str::to_string)
    }

    /// `udevGetDevices(ALL)`: every net device but bridge ports and
    /// taps, in syspath order.
    pub fn listed(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.class_net) else {
            return Vec::new();
        };
        let mut links: Vec<(PathBuf, String)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let syspath = std::fs::canonicalize(e.path()).ok()?;
                Some((syspath, name))
            })
            .filter(|(_, name)| !self.has(name, "brport") && !self.has(name, "tun_flags"))
            .collect();
        links.sort();
        links.into_iter().map(|(_, name)| name).collect()
    }

    /// `virNetDevGetLinkInfo`: the state, and the speed of a link that
    /// is up (0 where the device reports none).
    fn link_info(&self, name: &str) -> Result<(Option<String>, u32)> {
        let Some(operstate) = self.operstate(name) else {
            return Ok((None, 0));
        };
        let state = link_state(&operstate)
            .ok_or_else(|| internal(format!("Unable to parse: {operstate}")))?;
        if state != "up" {
            return Ok((Some(state.to_string()), 0));
        }
        let speed = match std::fs::read_to_string(self.class_net.join(name).join("speed")) {
            Ok(text) => text
                .strip_suffix('\n')
                .and_then(|t| t.parse::<i64>().ok())
                .map(|n| n as u32)
                .ok_or_else(|| internal(format!("Unable to parse: {text}")))?,
            Err(e) if e.raw_os_error() == Some(libc_einval()) => 0,
            Err(e) => {
                return Err(Error::system(
                    ERROR_DOMAIN,
                    format!("cannot read '{}/{name}/speed'", self.class_net.display()),
                    &e,
                ))
            }
        };
        Ok((Some(state.to_string()), speed))
    }

    /// `udevGetIfaceDef`.
    pub fn describe(&self, name: &str) -> Result<HostInterfaceDef> {
        if !self.exists(name) {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::NO_INTERFACE,
                format!("couldn't find interface named '{name}'"),
            ));
        }
        let (link_state, link_speed) = self.link_info(name)?;
        let mtu_text = self.attr(name, "mtu");
        let mtu = mtu_text
            .as_deref()
            .and_then(|m| m.parse::<u32>().ok())
            .ok_or_else(|| {
                internal(format!(
                    "Could not parse MTU value '{}'",
                    mtu_text.as_deref().unwrap_or("<null>")
                ))
            })?;
        let kind = match self.devtype(name).as_deref() {
            Some("vlan") => IfaceType::Vlan,
            Some("bridge") => IfaceType::Bridge,
            Some("bond") => IfaceType::Bond,
            _ if name.contains('.') => IfaceType::Vlan,
            _ if self.has(name, "bonding") => IfaceType::Bond,
            _ if self.has(name, "bridge") => IfaceType::Bridge,
            _ => IfaceType::Ethernet,
        };
        let body = match kind {
            IfaceType::Ethernet => Body::Ethernet,
            IfaceType::Bridge => self.bridge(name)?,
            IfaceType::Vlan => self.vlan(name)?,
            IfaceType::Bond => {
                return Err(Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::CONFIG_UNSUPPORTED,
                    format!("bond interface '{name}' is not described by rvirt yet"),
                ))
            }
        };
        Ok(HostInterfaceDef {
            kind,
            name: name.to_string(),
            start_mode: None,
            mtu,
            protocols: Vec::new(),
            link_speed,
            link_state,
            mac: self.attr(name, "address"),
            body,
        })
    }

    /// `udevGetIfaceDefBridge`: STP, forward delay (as the kernel
    /// gives it) and the ports but guests' `vnetN` taps, by name.
    fn bridge(&self, name: &str) -> Result<Body> {
        let delay = self.attr(name, "bridge/forward_delay").ok_or_else(|| {
            internal(format!(
                "Could not retrieve 'bridge/forward_delay' for '{name}'"
            ))
        })?;
        let stp_text = self.attr(name, "bridge/stp_state").ok_or_else(|| {
            internal(format!(
                "Could not retrieve 'bridge/stp_state' for '{name}'"
            ))
        })?;
        let stp = match stp_text.parse::<i32>() {
            Ok(-1) => None,
            Ok(0) => Some(false),
            Ok(1) => Some(true),
            Ok(n) => {
                return Err(internal(format!(
                    "Invalid STP state value {n} received for '{name}'. Must be -1, 0, or 1."
                )))
            }
            Err(_) => {
                return Err(internal(format!(
                    "Could not parse 'bridge/stp_state' '{stp_text}' for '{name}'"
                )))
            }
        };
        let brif = self.class_net.join(name).join("brif");
        let mut ports: Vec<String> = std::fs::read_dir(&brif)
            .map_err(|e| {
                Error::system(
                    ERROR_DOMAIN,
                    format!("Could not get members of bridge '{name}'"),
                    &e,
                )
            })?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|p| !is_guest_tap(p))
            .collect();
        ports.sort();
        let members = ports
            .iter()
            .map(|p| {
                self.describe(p).map_err(|_| {
                    internal(format!(
                        "Could not get interface information for '{p}', which is a member of bridge '{name}'"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Body::Bridge {
            stp,
            delay: Some(delay),
            members,
        })
    }

    /// `udevGetIfaceDefVlan`: tag and device from /proc/net/vlan/NAME.
    fn vlan(&self, name: &str) -> Result<Body> {
        let path = self.vlan_dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::system(
                ERROR_DOMAIN,
                format!("Failed to open file '{}'", path.display()),
                &e,
            )
        })?;
        let no_vid = || {
            internal(format!(
                "failed to find the VID for the VLAN device '{name}'"
            ))
        };
        let after_vid = text.split_once("VID: ").ok_or_else(no_vid)?.1;
        let digits = after_vid.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || !after_vid[digits..].starts_with(|c: char| c.is_ascii_whitespace()) {
            return Err(no_vid());
        }
        let no_dev = || {
            internal(format!(
                "failed to find the real device for the VLAN device '{name}'"
            ))
        };
        let device = after_vid[digits..]
            .split_once("\nDevice: ")
            .ok_or_else(no_dev)?
            .1
            .lines()
            .next()
            .filter(|d| !d.is_empty())
            .ok_or_else(no_dev)?;
        Ok(Body::Vlan {
            tag: after_vid[..digits].to_string(),
            device: device.to_string(),
        })
    }
}

/// `udevBridgeScanDirFilter`: a guest's tap (`vnet` and a digit).
fn is_guest_tap(name: &str) -> bool {
    name.len() >= 5 && name.starts_with("vnet") && name.as_bytes()[4].is_ascii_digit()
}

/// EINVAL, which a device without a speed answers.
fn libc_einval() -> i32 {
    22
}
