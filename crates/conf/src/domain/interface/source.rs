//! `<interface><source>`: what `virDomainNetDefParseXML` keeps of it per
//! interface type in `virDomainNetDef.data`, and how
//! `virDomainNetDefFormat` writes it back.

use super::super::chardev::Reconnect;
use super::super::props::{self, vir_enum, VirEnum};
use super::super::{internal_xml, unsupported};
use super::{parse_hostdev, IpInfo, NetHostdev, NetType};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{uuid, Result};

vir_enum! {
    /// `virNetDevMacVLanMode`: how a macvtap shares its host device.
    pub enum MacvlanMode {
        Vepa = "vepa", Private = "private", Bridge = "bridge", Passthrough = "passthrough",
    }

    /// `virDomainNetVhostuserMode` without its empty `none`.
    pub enum VhostUserMode { Client = "client", Server = "server" }
}

/// `data.socket` of a server, client, mcast or udp interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketSource {
    /// Required except for `server`.
    pub address: Option<String>,
    pub port: i32,
    /// `<local address= port=>`: required for udp, absent otherwise.
    pub local: Option<(String, i32)>,
}

/// `data.vds`: a VMware distributed switch port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VdsSource {
    pub switch_id: uuid::Uuid,
    pub port_id: i64,
    pub portgroup_id: String,
    pub connection_id: i64,
}

/// The typed `<source>`, one variant per family of interface types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetSource {
    /// user, ethernet, null: libvirt keeps no source attribute (a user
    /// interface's `dev=` only counts with the passt backend 9.0 refuses).
    None,
    /// `portid=` is runtime state: an inactive parse does not read it.
    Network {
        network: String,
        portgroup: Option<String>,
        /// The bridge a running guest's port is on (libvirt's actual
        /// network data, written in the live XML only): set by the driver
        /// at start, never parsed.
        bridge: Option<String>,
    },
    Bridge {
        bridge: String,
    },
    Direct {
        dev: String,
        mode: MacvlanMode,
    },
    /// `type='unix'` is the only source type libvirt accepts.
    VhostUser {
        path: String,
        mode: VhostUserMode,
        reconnect: Reconnect,
    },
    Socket(SocketSource),
    Internal {
        name: String,
    },
    Vdpa {
        dev: String,
    },
    Vds(VdsSource),
    Hostdev(NetHostdev),
}

/// `virDomainNetDefParseXMLRequireSource`.
fn require(t: NetType, s: Option<&Element>) -> Result<&Element> {
    s.ok_or_else(|| {
        internal_xml(format!(
            "interface type='{}' requires a 'source' element",
            t.as_str()
        ))
    })
}

/// `virXMLPropStringRequired`.
fn required(s: &Element, name: &str) -> Result<String> {
    s.attr_string(name).ok_or_else(|| props::missing(s, name))
}

/// `virXMLPropInt` with `VIR_XML_PROP_REQUIRED` (base 10).
fn required_int(e: &Element, name: &str) -> Result<i32> {
    props::int(e, name)?.ok_or_else(|| props::missing(e, name))
}

/// `virXMLPropLongLong` with base 0 and `VIR_XML_PROP_REQUIRED`.
fn required_long_long(s: &Element, name: &str) -> Result<i64> {
    let v = s.attr(name).ok_or_else(|| props::missing(s, name))?;
    props::base0_signed(v)
        .and_then(|n| i64::try_from(n).ok())
        .ok_or_else(|| {
            internal_xml(format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected long long integer value",
                s.name
            ))
        })
}

/// `virXMLPropUUID` with `VIR_XML_PROP_REQUIRED`.
fn required_uuid(s: &Element, name: &str) -> Result<uuid::Uuid> {
    let v = s.attr(name).ok_or_else(|| props::missing(s, name))?;
    uuid::parse(v).ok_or_else(|| {
        internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected UUID",
            s.name
        ))
    })
}

/// The `<local>` a udp socket interface requires.
fn parse_udp_local(s: &Element) -> Result<(String, i32)> {
    let Some(local) = s.child("local") else {
        return Err(internal_xml(
            "'<local>' element missing for 'udp' socket interface",
        ));
    };
    Ok((required(local, "address")?, required_int(local, "port")?))
}

fn parse_socket(t: NetType, s: &Element) -> Result<SocketSource> {
    let address = match t {
        NetType::Server => s.attr_string("address"),
        _ => Some(required(s, "address")?),
    };
    let port = required_int(s, "port")?;
    let local = (t == NetType::Udp)
        .then(|| parse_udp_local(s))
        .transpose()?;
    Ok(SocketSource {
        address,
        port,
        local,
    })
}

fn parse_vhostuser(s: &Element) -> Result<NetSource> {
    let source_type = required(s, "type")?;
    if source_type != "unix" {
        return Err(unsupported(format!(
            "Type='{source_type}' unsupported for <interface type='vhostuser'>"
        )));
    }
    let path = required(s, "path")?;
    let mode = props::enumeration(s, "mode", true)?.unwrap_or(VhostUserMode::Client);
    Ok(NetSource::VhostUser {
        path,
        mode,
        reconnect: Reconnect::parse(s)?,
    })
}

fn parse_vds(s: &Element) -> Result<VdsSource> {
    Ok(VdsSource {
        switch_id: required_uuid(s, "switchid")?,
        port_id: required_long_long(s, "portid")?,
        portgroup_id: required(s, "portgroupid")?,
        connection_id: required_long_long(s, "connectionid")?,
    })
}

impl NetSource {
    /// The type switch of `virDomainNetDefParseXML`.
    pub(crate) fn parse(t: NetType, e: &Element) -> Result<NetSource> {
        let s = e.child("source");
        Ok(match t {
            NetType::User | NetType::Ethernet | NetType::Null => NetSource::None,
            NetType::Hostdev => NetSource::Hostdev(parse_hostdev(e)?),
            NetType::Network => {
                let s = require(t, s)?;
                NetSource::Network {
                    network: required(s, "network")?,
                    portgroup: s.attr_string("portgroup"),
                    bridge: None,
                }
            }
            NetType::Vds => NetSource::Vds(parse_vds(require(t, s)?)?),
            NetType::Internal => NetSource::Internal {
                name: required(require(t, s)?, "name")?,
            },
            NetType::Bridge => NetSource::Bridge {
                bridge: required(require(t, s)?, "bridge")?,
            },
            NetType::Direct => {
                let s = require(t, s)?;
                NetSource::Direct {
                    dev: required(s, "dev")?,
                    mode: props::enumeration(s, "mode", false)?.unwrap_or(MacvlanMode::Vepa),
                }
            }
            NetType::VhostUser => parse_vhostuser(require(t, s)?)?,
            NetType::Vdpa => NetSource::Vdpa {
                dev: required(require(t, s)?, "dev")?,
            },
            NetType::Server | NetType::Client | NetType::Mcast | NetType::Udp => {
                NetSource::Socket(parse_socket(t, require(t, s)?)?)
            }
        })
    }

    /// The `<source>` attributes `virDomainNetDefFormat` writes, in its
    /// order (`None` when it writes no `<source>`).
    fn attrs(&self) -> Option<Attrs> {
        let mut a = Attrs::new();
        match self {
            NetSource::None | NetSource::Hostdev(_) => return None,
            NetSource::Network {
                network,
                portgroup,
                bridge,
            } => {
                a.add("network", network)
                    .opt("portgroup", portgroup.as_ref())
                    .opt("bridge", bridge.as_ref());
            }
            NetSource::Bridge { bridge } => {
                a.add("bridge", bridge);
            }
            NetSource::Direct { dev, mode } => {
                a.add("dev", dev).add("mode", mode.as_str());
            }
            NetSource::VhostUser { path, mode, .. } => {
                a.add("type", "unix")
                    .add("path", path)
                    .add("mode", mode.as_str());
            }
            NetSource::Socket(s) => {
                // libvirt writes the socket address unescaped.
                if let Some(addr) = &s.address {
                    a.raw("address", addr);
                }
                a.add("port", s.port);
            }
            NetSource::Internal { name } => {
                a.add("name", name);
            }
            NetSource::Vdpa { dev } => {
                a.add("dev", dev);
            }
            NetSource::Vds(v) => {
                a.add("switchid", v.switch_id.hyphenated())
                    .add("portid", v.port_id)
                    .add("portgroupid", &v.portgroup_id)
                    .add("connectionid", v.connection_id);
            }
        }
        Some(a)
    }

    /// `<source>` with the host-side addresses of an ethernet interface
    /// (libvirt writes a bare `<source>` for them when the type has none).
    pub(crate) fn format(&self, w: &mut Writer, host_ip: &IpInfo) {
        if let NetSource::Hostdev(h) = self {
            h.source.format(w, true);
            return;
        }
        let attrs = self.attrs();
        if attrs.is_none() && host_ip.is_empty() {
            return;
        }
        let a = attrs.unwrap_or_default();
        w.elem_with("source", a.as_str(), |w| {
            match self {
                NetSource::Socket(SocketSource {
                    local: Some((address, port)),
                    ..
                }) => {
                    let mut l = Attrs::new();
                    l.raw("address", address).add("port", port);
                    w.line(&format!("<local{}/>", l.as_str()));
                }
                NetSource::VhostUser { reconnect, .. } => reconnect.format(w),
                _ => {}
            }
            host_ip.format(w);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::{assert_errors, dump_devices};

    /// Checked against stock virsh on test:///default (define + dumpxml):
    /// attributes the type does not read are dropped, modes default, and
    /// numbers are written as parsed.
    #[test]
    fn sources_formatted_as_virsh() {
        let out = dump_devices(
            "<interface type='bridge'><source bridge='br0' foo='x' mode='vepa'/></interface>\
             <interface type='udp'><source address='1.2.3.4' port='70000'><local address='1.1.1.1' port='-5'/></source></interface>\
             <interface type='network'><source network='default' portgroup='pg' portid='bad' bridge='x'/></interface>\
             <interface type='direct'><source dev='eth0'/></interface>\
             <interface type='user'><source dev='eth0'/></interface>\
             <interface type='vhostuser'><source mode='client' path='/s' type='unix'><reconnect enabled='yes' timeout='3'/></source><model type='virtio'/></interface>\
             <interface type='vds'><source switchid='12345678123412341234123456789abc' portid='0x10' portgroupid='pg' connectionid='-010'/></interface>",
        )
        .unwrap();
        for want in [
            "<source bridge='br0'/>",
            "<source address='1.2.3.4' port='70000'>\n        <local address='1.1.1.1' port='-5'/>\n      </source>",
            "<source network='default' portgroup='pg'/>",
            "<source dev='eth0' mode='vepa'/>",
            "<source type='unix' path='/s' mode='client'>\n        <reconnect enabled='yes' timeout='3'/>\n      </source>",
            "<source switchid='12345678-1234-1234-1234-123456789abc' portid='16' portgroupid='pg' connectionid='-8'/>",
        ] {
            assert!(out.contains(want), "{want} missing from {out}");
        }
        assert_eq!(out.matches("<source").count(), 6, "{out}");
    }

    /// libvirt's messages for the same documents, from stock virsh.
    #[test]
    fn bad_sources_refused_as_virsh() {
        assert_errors(
            dump_devices,
            &[
                ("<interface type='bridge'><source foo='x'/></interface>",
                 "XML error: Missing required attribute 'bridge' in element 'source'"),
                ("<interface type='direct'><source dev='eth0' mode='bogus'/></interface>",
                 "XML error: Invalid value for attribute 'mode' in element 'source': 'bogus'."),
                ("<interface type='server'><source port='99999999999'/></interface>",
                 "XML error: Invalid value for attribute 'port' in element 'source': '99999999999'. Expected integer value"),
                ("<interface type='bridge'/>",
                 "XML error: interface type='bridge' requires a 'source' element"),
                ("<interface type='vhostuser'><source type='tcp' path='/x' mode='client'/><model type='virtio'/></interface>",
                 "unsupported configuration: Type='tcp' unsupported for <interface type='vhostuser'>"),
                ("<interface type='vhostuser'><source type='unix' path='/x' mode=''/><model type='virtio'/></interface>",
                 "XML error: Invalid value for attribute 'mode' in element 'source': ''."),
                ("<interface type='mcast'><source port='5'/></interface>",
                 "XML error: Missing required attribute 'address' in element 'source'"),
                ("<interface type='udp'><source address='a' port='1'/></interface>",
                 "XML error: '<local>' element missing for 'udp' socket interface"),
            ],
        );
    }
}
