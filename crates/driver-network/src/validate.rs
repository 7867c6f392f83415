//! The checks of libvirt's `networkValidate` that need no host device
//! (src/network/bridge_driver.c): what a network of each forward mode
//! may carry, one DHCP section per address family, unique and single
//! default portgroups. (Bridge naming and the MAC are `HostNetworks`'.)

use rvirt_conf::domain::props::VirEnum;
use rvirt_conf::network::{ForwardMode, NetworkDef};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

fn unsupported(msg: String) -> Error {
    Error::new(ErrorDomain::NETWORK, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

pub fn check(def: &NetworkDef) -> Result<()> {
    if def.name.contains('\n') {
        return Err(Error::new(
            ErrorDomain::NETWORK,
            ErrorCode::XML_DETAIL,
            "invalid char in name: \n",
        ));
    }
    let (name, mode) = (&def.name, def.forward.mode.as_str());
    let bridged = def.forward.mode.has_bridge();
    if !bridged {
        let dns = &def.dns;
        let present = [
            ("<mac>", def.mac.is_some()),
            ("<ip>", !def.ips.is_empty()),
            (
                "<dns>",
                !(dns.txts.is_empty() && dns.hosts.is_empty() && dns.srvs.is_empty()),
            ),
            ("<domain>", def.domain.is_some()),
        ];
        if let Some((what, _)) = present.iter().find(|(_, there)| *there) {
            return Err(unsupported(format!(
                "Unsupported {what} element in network {name} with forward mode='{mode}'"
            )));
        }
    }
    let bandwidth_allowed =
        bridged || (def.forward.mode == ForwardMode::Bridge && def.bridge.is_some());
    if def.bandwidth.is_some() && !bandwidth_allowed {
        return Err(unsupported(format!(
            "Unsupported network-wide <bandwidth> element in network {name} with forward mode='{mode}'"
        )));
    }
    for (v4, family) in [(true, "IPv4"), (false, "IPv6")] {
        let with_dhcp = def
            .ips
            .iter()
            .filter(|ip| ip.is_v4() == v4)
            .filter(|ip| !(ip.ranges.is_empty() && ip.hosts.is_empty()));
        if with_dhcp.count() > 1 {
            return Err(unsupported(format!(
                "Multiple {family} dhcp sections found -- dhcp is supported only for a single {family} address on each network"
            )));
        }
    }
    portgroups(def, bandwidth_allowed)
}

fn portgroups(def: &NetworkDef, bandwidth_allowed: bool) -> Result<()> {
    let (name, mode) = (&def.name, def.forward.mode.as_str());
    let mut default: Option<&str> = None;
    for (i, pg) in def.portgroups.iter().enumerate() {
        if pg.is_default {
            if let Some(first) = default {
                return Err(unsupported(format!(
                    "network '{name}' has multiple default <portgroup> elements ({first} and {}), but only one default is allowed",
                    pg.name
                )));
            }
            default = Some(&pg.name);
        }
        if def.portgroups[i + 1..].iter().any(|o| o.name == pg.name) {
            return Err(unsupported(format!(
                "multiple <portgroup> elements with the same name ({}) in network '{name}'",
                pg.name
            )));
        }
        if pg.bandwidth.is_some() && !bandwidth_allowed {
            return Err(unsupported(format!(
                "Unsupported <bandwidth> element in network '{name}' in portgroup '{}' with forward mode='{mode}'",
                pg.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(xml: &str) -> String {
        check(&NetworkDef::parse(xml).unwrap()).unwrap_err().message
    }

    #[test]
    fn elements_a_mode_cannot_carry() {
        assert_eq!(
            err("<network><name>b</name><forward mode='bridge'/><bridge name='br0'/>\
                 <ip address='10.0.0.1' prefix='24'/></network>"),
            "unsupported configuration: Unsupported <ip> element in network b with forward mode='bridge'"
        );
        assert_eq!(
            err("<network><name>d</name><forward mode='bridge'/><bridge name='br0'/>\
                 <domain name='x'/></network>"),
            "unsupported configuration: Unsupported <domain> element in network d with forward mode='bridge'"
        );
        assert_eq!(
            err("<network><name>two</name>\
                 <ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.3'/></dhcp></ip>\
                 <ip address='10.0.1.1' prefix='24'><dhcp><range start='10.0.1.2' end='10.0.1.3'/></dhcp></ip>\
                 </network>"),
            "unsupported configuration: Multiple IPv4 dhcp sections found -- dhcp is supported only for a single IPv4 address on each network"
        );
        let ok = NetworkDef::parse(
            "<network><name>ok</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'/></network>",
        )
        .unwrap();
        assert!(check(&ok).is_ok());
    }
}
