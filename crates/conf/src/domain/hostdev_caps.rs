//! `<hostdev mode='capabilities'>`: a host block device, character device
//! or network interface given to a container guest (`source.caps` of
//! `virDomainHostdevDef`), parsed as `virDomainHostdevDefParseXMLCaps` and
//! formatted as `virDomainHostdevDefFormatCaps`.

use super::interface::IpInfo;
use super::props::{vir_enum, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainHostdevCapsType`.
    pub enum HostdevCapsType { Storage = "storage", Misc = "misc", Net = "net" }
}

/// What a capabilities-mode host device hands to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapsSource {
    /// `<source><block>`: a host block device node.
    Storage { block: String },
    /// `<source><char>`: a host character device node.
    Misc { chardev: String },
    /// `<source><interface>`: a host network interface, with the `<ip>`
    /// and `<route>` children of `<hostdev>` it is given.
    Net { ifname: String, ip: IpInfo },
}

/// `virXPathString("string(./source/NAME[1])")`: the first such child's
/// text, an empty one being none.
fn source_text(s: &Element, name: &str, missing: &str) -> Result<String> {
    s.child(name)
        .map(|c| c.text())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| internal_xml(missing))
}

impl CapsSource {
    /// `<hostdev mode='capabilities'>` element `e`.
    pub(crate) fn parse(e: &Element) -> Result<CapsSource> {
        let Some(t) = e.attr("type") else {
            return Err(internal_xml("missing source address type"));
        };
        let t = HostdevCapsType::from_str_opt(t)
            .ok_or_else(|| unsupported(format!("unknown host device source address type '{t}'")))?;
        let Some(s) = e.child("source") else {
            return Err(internal_xml("Missing <source> element in hostdev device"));
        };
        Ok(match t {
            HostdevCapsType::Storage => CapsSource::Storage {
                block: source_text(
                    s,
                    "block",
                    "Missing <block> element in hostdev storage device",
                )?,
            },
            HostdevCapsType::Misc => CapsSource::Misc {
                chardev: source_text(
                    s,
                    "char",
                    "Missing <char> element in hostdev character device",
                )?,
            },
            HostdevCapsType::Net => CapsSource::Net {
                ifname: source_text(
                    s,
                    "interface",
                    "Missing <interface> element in hostdev net device",
                )?,
                ip: IpInfo::parse(e, "Domain hostdev device")?,
            },
        })
    }

    pub fn caps_type(&self) -> HostdevCapsType {
        match self {
            CapsSource::Storage { .. } => HostdevCapsType::Storage,
            CapsSource::Misc { .. } => HostdevCapsType::Misc,
            CapsSource::Net { .. } => HostdevCapsType::Net,
        }
    }

    /// `virDomainHostdevMatchCaps`: the same host node or interface.
    pub(crate) fn same_host_device(&self, other: &CapsSource) -> bool {
        use CapsSource as C;
        match (self, other) {
            (C::Storage { block: a }, C::Storage { block: b }) => a == b,
            (C::Misc { chardev: a }, C::Misc { chardev: b }) => a == b,
            (C::Net { ifname: a, .. }, C::Net { ifname: b, .. }) => a == b,
            _ => false,
        }
    }

    /// `<source>` and, for a network interface, its addresses and routes.
    pub(crate) fn format(&self, w: &mut Writer) {
        w.block("source", "", |w| match self {
            CapsSource::Storage { block } => w.text_elem("block", Some(block)),
            CapsSource::Misc { chardev } => w.text_elem("char", Some(chardev)),
            CapsSource::Net { ifname, .. } => w.text_elem("interface", Some(ifname)),
        });
        if let CapsSource::Net { ip, .. } = self {
            ip.format(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh 9.0 on test:///default.
    #[test]
    fn capabilities_hostdevs_as_virsh() {
        let doc = "<hostdev mode='capabilities' type='storage' managed='yes'><source><block>/dev/sd&amp;a</block>\
            <block>/dev/sdb</block></source><alias name='ua-st'/><boot order='1'/><address type='pci' bus='0' slot='5'/></hostdev>\
            <hostdev mode='capabilities' type='misc' sgio='filtered' rawio='yes' model='x'><source startupPolicy='optional'>\
            <char>/dev/input/event3</char></source><readonly/><shareable/><rom bar='on'/></hostdev>\
            <hostdev mode='capabilities' type='net'><source><interface>eth0</interface></source>\
            <ip address='192.168.122.2' prefix='24'/><route family='ipv4' address='0.0.0.0' gateway='192.168.122.1'/>\
            <ip address='2001:db8::2' prefix='64'/></hostdev>";
        let want = "    <hostdev mode='capabilities' type='storage'>
      <source>
        <block>/dev/sd&amp;a</block>
      </source>
      <boot order='1'/>
      <alias name='ua-st'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </hostdev>
    <hostdev mode='capabilities' type='misc'>
      <source>
        <char>/dev/input/event3</char>
      </source>
      <rom bar='on'/>
    </hostdev>
    <hostdev mode='capabilities' type='net'>
      <source>
        <interface>eth0</interface>
      </source>
      <ip address='192.168.122.2' family='ipv4' prefix='24'/>
      <ip address='2001:db8::2' family='ipv6' prefix='64'/>
      <route family='ipv4' address='0.0.0.0' gateway='192.168.122.1'/>
    </hostdev>
";
        assert_dump_holds(dump, doc, want);
        let misc =
            "<hostdev mode='capabilities' type='misc'><source><char>/a</char></source></hostdev>";
        let twice = format!("{misc}{misc}");
        let teaming = "<hostdev mode='capabilities' type='misc'><source><char>/a</char></source>\
            <teaming type='transient' persistent='ua-x'/></hostdev>";
        assert_errors(
            dump,
            &[
                ("<hostdev mode='capabilities' type='bogus'><source/></hostdev>", "unsupported configuration: unknown host device source address type 'bogus'"),
                ("<hostdev mode='capabilities'><source/></hostdev>", "XML error: missing source address type"),
                ("<hostdev mode='capabilities' type='storage'/>", "XML error: Missing <source> element in hostdev device"),
                ("<hostdev mode='capabilities' type='storage'><source/></hostdev>", "XML error: Missing <block> element in hostdev storage device"),
                ("<hostdev mode='capabilities' type='misc'><source><char></char></source></hostdev>", "XML error: Missing <char> element in hostdev character device"),
                ("<hostdev mode='capabilities' type='net'><source/></hostdev>", "XML error: Missing <interface> element in hostdev net device"),
                ("<hostdev mode='capabilities' type='net'><source><interface>e</interface></source><route address='1.2.3.0' gateway='x'/></hostdev>", "XML error: Domain hostdev device: Bad gateway address 'x' in route definition"),
                (&twice, "XML error: Hostdev already exists in the domain configuration"),
                (teaming, "unsupported configuration: teaming is only supported for pci hostdev devices"),
            ],
        );
    }
}
