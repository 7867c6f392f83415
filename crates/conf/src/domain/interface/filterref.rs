//! `<filterref filter=>` and its `<parameter name= value=>`s: the network
//! filter of an interface (`virNWFilterParseParamAttributes` /
//! `virNWFilterFormatParamAttributes`).

use crate::xml::{Attrs, Element, Writer};
use std::collections::BTreeMap;

/// Characters of a parameter name (`VALID_VARNAME`).
fn valid_name(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Characters of a parameter value (`VALID_VARVALUE`), never empty.
fn valid_value(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterRef {
    pub filter: String,
    /// Each name's values in document order; names sorted as libvirt's
    /// hash table writes them. Invalid parameters are dropped, as libvirt
    /// drops them.
    pub params: BTreeMap<String, Vec<String>>,
}

impl FilterRef {
    /// `None` without a `filter=` (libvirt then keeps nothing).
    pub(crate) fn parse(e: &Element) -> Option<FilterRef> {
        let filter = e.attr_string("filter")?;
        let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in e.elements().filter(|p| p.name == "parameter") {
            let (Some(name), Some(value)) = (p.attr("name"), p.attr("value")) else {
                continue;
            };
            if valid_name(name) && valid_value(value) {
                params
                    .entry(name.to_string())
                    .or_default()
                    .push(value.to_string());
            }
        }
        Some(FilterRef { filter, params })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        // libvirt writes the filter name unescaped; names and values
        // cannot need escaping.
        let mut a = Attrs::new();
        a.raw("filter", &self.filter);
        if self.params.is_empty() {
            w.line(&format!("<filterref{}/>", a.as_str()));
            return;
        }
        w.block("filterref", a.as_str(), |w| {
            for (name, values) in &self.params {
                for v in values {
                    w.line(&format!("<parameter name='{name}' value='{v}'/>"));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::dump_devices;

    /// As stock virsh writes it: parameters grouped by name in name order,
    /// invalid ones dropped, no `<filterref>` without a filter, none on a
    /// type that does not read it.
    #[test]
    fn formatted_as_virsh() {
        let out = dump_devices(
            "<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/>\
             <filterref filter='clean-traffic'><parameter name='IP' value='10.0.0.1'/>\
             <parameter name='CTRL_IP_LEARNING' value='dhcp'/><parameter name='IP' value='10.0.0.2'/>\
             <parameter name='bad-name' value='x'/><parameter name='E' value=''/><parameter name='V' value='a b'/></filterref></interface>\
             <interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/><filterref><parameter name='IP' value='1'/></filterref></interface>\
             <interface type='direct'><mac address='52:54:00:00:00:03'/><source dev='eth0'/><filterref filter='f'/></interface>\
             <interface type='ethernet'><mac address='52:54:00:00:00:04'/><filterref filter='f'/></interface>",
        )
        .unwrap();
        let want = "\
      <filterref filter='clean-traffic'>
        <parameter name='CTRL_IP_LEARNING' value='dhcp'/>
        <parameter name='IP' value='10.0.0.1'/>
        <parameter name='IP' value='10.0.0.2'/>
      </filterref>";
        assert!(out.contains(want), "{out}");
        assert_eq!(out.matches("<filterref").count(), 2, "{out}");
    }
}
