//! `virNetworkGetDHCPLeases` from dnsmasq's own lease file (libvirt reads
//! the JSON status file its leaseshelper keeps; dnsmasq's file holds the
//! same IPv4 facts: `EXPIRY MAC IP HOSTNAME CLIENT-ID`, `*` for none).
//! IPv6 lines carry no MAC, which libvirt's helper requires, so they are
//! not reported.

use rvirt::driver::DhcpLease;
use rvirt_conf::network::NetworkDef;

/// The unexpired leases in `text` for `def`'s bridge, those of `mac`
/// (compared without case) only when given; `now` in seconds.
pub fn parse(text: &str, def: &NetworkDef, mac: Option<&str>, now: i64) -> Vec<DhcpLease> {
    let prefix = def
        .ips
        .iter()
        .find(|ip| ip.is_v4())
        .map_or(0, |ip| ip.prefix().max(0) as u32);
    let named = |s: &str| (s != "*").then(|| s.to_string());
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 5 || f[0] == "duid" || f[2].contains(':') {
                return None;
            }
            let expiry: i64 = f[0].parse().ok()?;
            if expiry > 0 && expiry < now {
                return None;
            }
            if mac.is_some_and(|m| !m.eq_ignore_ascii_case(f[1])) {
                return None;
            }
            Some(DhcpLease {
                iface: def.bridge.clone().unwrap_or_default(),
                expiry_time: expiry,
                ip_type: 0,
                mac: Some(f[1].to_string()),
                iaid: None,
                ipaddr: f[2].to_string(),
                prefix,
                hostname: named(f[3]),
                clientid: named(f[4]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_of_dnsmasq_file() {
        let def = NetworkDef::parse(
            "<network><name>n</name><bridge name='virbr3'/>\
             <ip address='192.168.100.1' netmask='255.255.255.0'/></network>",
        )
        .unwrap();
        let text = "1700000100 52:54:00:aa:bb:cc 192.168.100.5 guest1 01:52:54:00:aa:bb:cc\n\
                    1600000000 52:54:00:00:00:01 192.168.100.6 * *\n\
                    0 52:54:00:00:00:02 192.168.100.7 * *\n\
                    duid 00:01:00:01:aa\n\
                    1700000100 1234 2001:db8::5 * 00:01:00:01:bb\n";
        let all = parse(text, &def, None, 1_700_000_000);
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0].iface, "virbr3");
        assert_eq!(all[0].prefix, 24);
        assert_eq!(all[0].hostname.as_deref(), Some("guest1"));
        assert_eq!(all[0].clientid.as_deref(), Some("01:52:54:00:aa:bb:cc"));
        assert_eq!(all[1].hostname, None);
        let one = parse(text, &def, Some("52:54:00:AA:BB:CC"), 1_700_000_000);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].ipaddr, "192.168.100.5");
    }
}
