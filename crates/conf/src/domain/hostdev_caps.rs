//! `<hostdev mode='capabilities'>` (libvirt's container host devices):
//! parsed as `virDomainHostdevDefParseXMLCaps`, formatted as
//! `virDomainHostdevDefFormatCaps`.

use super::interface::IpInfo;
use super::props::{vir_enum, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainHostdevCapsType`.
    pub enum CapsType { Storage = "storage", Misc = "misc", Net = "net" }
}

/// What a capabilities host device hands to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapsSource {
    /// `<source><block>`: a host block device.
    Storage { block: String },
    /// `<source><char>`: a host character device.
    Misc { chardev: String },
    /// `<source><interface>`: a host network interface, with its guest-side
    /// `<ip>`s and `<route>`s.
    Net { ifname: String, ip: IpInfo },
}

/// `virXPathString("string(./source/NAME[1])")`: none when empty.
fn source_text(e: &Element, name: &str) -> Option<String> {
    let s = e.child("source")?;
    s.child_text(name).filter(|t| !t.is_empty())
}

impl CapsSource {
    /// The source of hostdev element `e` of type `t` (the `type=` value).
    pub(crate) fn parse(e: &Element, t: Option<&str>) -> Result<CapsSource> {
        let Some(t) = t else {
            return Err(internal_xml("missing source address type"));
        };
        let t = CapsType::from_str_opt(t)
            .ok_or_else(|| unsupported(format!("unknown host device source address type '{t}'")))?;
        if e.child("source").is_none() {
            return Err(internal_xml("Missing <source> element in hostdev device"));
        }
        let missing = |what: &str| {
            internal_xml(format!(
                "Missing <{what}> element in hostdev {}",
                match t {
                    CapsType::Storage => "storage device",
                    CapsType::Misc => "character device",
                    CapsType::Net => "net device",
                }
            ))
        };
        Ok(match t {
            CapsType::Storage => CapsSource::Storage {
                block: source_text(e, "block").ok_or_else(|| missing("block"))?,
            },
            CapsType::Misc => CapsSource::Misc {
                chardev: source_text(e, "char").ok_or_else(|| missing("char"))?,
            },
            CapsType::Net => CapsSource::Net {
                ifname: source_text(e, "interface").ok_or_else(|| missing("interface"))?,
                ip: IpInfo::parse(e, "Domain hostdev device")?,
            },
        })
    }

    pub fn caps_type(&self) -> CapsType {
        match self {
            CapsSource::Storage { .. } => CapsType::Storage,
            CapsSource::Misc { .. } => CapsType::Misc,
            CapsSource::Net { .. } => CapsType::Net,
        }
    }

    /// `<source>` and, for a net device, its `<ip>`s and `<route>`s.
    pub(crate) fn format(&self, w: &mut Writer) {
        w.elem_with("source", "", |w| match self {
            CapsSource::Storage { block } => w.text_elem("block", Some(block)),
            CapsSource::Misc { chardev } => w.text_elem("char", Some(chardev)),
            CapsSource::Net { ifname, .. } => w.text_elem("interface", Some(ifname)),
        });
        if let CapsSource::Net { ip, .. } = self {
            ip.format(w);
        }
    }

    /// `virDomainHostdevMatchCaps`: the same host block, character or
    /// network device.
    pub(crate) fn same_device(&self, other: &CapsSource) -> bool {
        use CapsSource as C;
        match (self, other) {
            (C::Storage { block: a }, C::Storage { block: b }) => a == b,
            (C::Misc { chardev: a }, C::Misc { chardev: b }) => a == b,
            (C::Net { ifname: a, .. }, C::Net { ifname: b, .. }) => a == b,
            _ => false,
        }
    }

    /// The `type=` attribute.
    pub fn type_name(&self) -> &'static str {
        self.caps_type().as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices};

    /// libvirt's lxc-hostdev.xml, as stock virsh dumps it on
    /// test:///default; and the parse errors' texts.
    #[test]
    fn capabilities_hostdevs_as_virsh() {
        let out = dump_devices(
            "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>\
             <hostdev mode='capabilities' type='misc'><source><char>/dev/tty0</char></source><alias name='ua-c'/></hostdev>\
             <hostdev mode='capabilities' type='net'><source><interface>eth0</interface></source>\
             <ip address='192.168.122.2' family='ipv4'/>\
             <route family='ipv4' address='0.0.0.0' gateway='192.168.122.1'/></hostdev>",
        )
        .unwrap();
        let want = "    <hostdev mode='capabilities' type='storage'>
      <source>
        <block>/dev/sdf1</block>
      </source>
    </hostdev>
    <hostdev mode='capabilities' type='misc'>
      <source>
        <char>/dev/tty0</char>
      </source>
      <alias name='ua-c'/>
    </hostdev>
    <hostdev mode='capabilities' type='net'>
      <source>
        <interface>eth0</interface>
      </source>
      <ip address='192.168.122.2' family='ipv4'/>
      <route family='ipv4' address='0.0.0.0' gateway='192.168.122.1'/>
    </hostdev>
";
        assert!(out.contains(want), "{out}");
        let caps =
            |inner: &str| dump_devices(&format!("<hostdev mode='capabilities' {inner}</hostdev>"));
        assert_errors(
            caps,
            &[
                (">", "XML error: missing source address type"),
                (
                    "type='pci'>",
                    "unsupported configuration: unknown host device source address type 'pci'",
                ),
                (
                    "type='misc'>",
                    "XML error: Missing <source> element in hostdev device",
                ),
                (
                    "type='storage'><source/>",
                    "XML error: Missing <block> element in hostdev storage device",
                ),
                (
                    "type='net'><source><interface/></source>",
                    "XML error: Missing <interface> element in hostdev net device",
                ),
            ],
        );
        let block = "<hostdev mode='capabilities' type='storage'><source><block>/dev/b</block></source></hostdev>";
        assert_eq!(
            dump_devices(&format!("{block}{block}")).unwrap_err(),
            "XML error: Hostdev already exists in the domain configuration"
        );
    }
}
