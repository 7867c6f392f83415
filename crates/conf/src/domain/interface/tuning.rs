//! The small settings `virDomainNetDefParseXML` reads with XPath strings:
//! `<guest dev actual>`, `<tune><sndbuf>`, `<link state>`, `<mtu size>`
//! and `<coalesce><rx><frames max>`, and how `virDomainNetDefFormat`
//! writes them.

use super::super::props::{vir_enum, VirEnum};
use super::super::{internal_xml, unsupported};
use crate::xml::{Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

vir_enum! {
    /// `virDomainNetInterfaceLinkState` without its `default`.
    pub enum LinkState { Up = "up", Down = "down" }
}

/// `virXPathString("string(./CHILD/@ATTR)")`: the attribute of the first
/// `CHILD` that has it, `None` when empty.
pub(super) fn xpath_attr(e: &Element, child: &str, attr: &str) -> Option<String> {
    e.children_named(child)
        .find_map(|c| c.attr(attr))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `<guest dev= actual=>`: the guest's own name for the NIC, and the one
/// it really has (runtime, yet kept as written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestIfname {
    pub dev: Option<String>,
    pub actual: Option<String>,
}

impl GuestIfname {
    pub(super) fn parse(e: &Element) -> GuestIfname {
        GuestIfname {
            dev: xpath_attr(e, "guest", "dev"),
            actual: xpath_attr(e, "guest", "actual"),
        }
    }

    pub(super) fn format(&self, w: &mut Writer) {
        if self.dev.is_none() && self.actual.is_none() {
            return;
        }
        let mut a = Attrs::new();
        a.opt("dev", self.dev.as_deref());
        a.opt("actual", self.actual.as_deref());
        w.line(&format!("<guest{}/>", a.as_str()));
    }
}

/// `virStrToLong_ullp` of a whole string: leading blanks, no sign.
fn ullp(v: &str) -> Option<u64> {
    let s = v.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// `<tune><sndbuf>`: the tap's send buffer, in bytes.
pub(super) fn parse_sndbuf(e: &Element) -> Result<Option<u64>> {
    let text = e
        .children_named("tune")
        .find_map(|t| t.child("sndbuf"))
        .map(Element::text)
        .filter(|t| !t.is_empty());
    let Some(text) = text else { return Ok(None) };
    ullp(&text)
        .map(Some)
        .ok_or_else(|| internal_xml("sndbuf must be a positive integer"))
}

/// `<link state=>`: `default` is refused like any unknown state.
pub(super) fn parse_link(e: &Element) -> Result<Option<LinkState>> {
    let Some(s) = xpath_attr(e, "link", "state") else {
        return Ok(None);
    };
    LinkState::from_str_opt(&s)
        .map(Some)
        .ok_or_else(|| unsupported(format!("unknown interface link state '{s}'")))
}

/// `<mtu size=>`: 0 is kept as unset.
pub(super) fn parse_mtu(e: &Element) -> Result<Option<u32>> {
    let Some(s) = xpath_attr(e, "mtu", "size") else {
        return Ok(None);
    };
    let n = ullp(&s)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| internal_xml("malformed mtu size"))?;
    Ok((n != 0).then_some(n))
}

/// `<coalesce><rx><frames max=>`: 0 is kept as unset.
pub(super) fn parse_coalesce(e: &Element) -> Result<Option<u32>> {
    let max = e
        .children_named("coalesce")
        .next()
        .into_iter()
        .flat_map(|c| c.children_named("rx"))
        .flat_map(|rx| rx.children_named("frames"))
        .find_map(|f| f.attr("max"))
        .filter(|m| !m.is_empty());
    let Some(max) = max else { return Ok(None) };
    let n = ullp(max).ok_or_else(|| {
        Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::XML_DETAIL,
            format!("cannot parse value '{max}' for coalesce parameter"),
        )
    })?;
    let n = u32::try_from(n).map_err(|_| {
        Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::OVERFLOW,
            format!("value '{n}' is too big for coalesce parameter, maximum is '4294967295'"),
        )
    })?;
    Ok((n != 0).then_some(n))
}

pub(super) fn format_sndbuf(w: &mut Writer, sndbuf: Option<u64>) {
    if let Some(s) = sndbuf {
        w.block("tune", "", |w| w.line(&format!("<sndbuf>{s}</sndbuf>")));
    }
}

pub(super) fn format_link_mtu_coalesce(
    w: &mut Writer,
    link: Option<LinkState>,
    mtu: Option<u32>,
    coalesce: Option<u32>,
) {
    if let Some(l) = link {
        w.line(&format!("<link state='{}'/>", l.as_str()));
    }
    if let Some(m) = mtu {
        w.line(&format!("<mtu size='{m}'/>"));
    }
    if let Some(c) = coalesce {
        w.block("coalesce", "", |w| {
            w.block("rx", "", |w| w.line(&format!("<frames max='{c}'/>")))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::{assert_errors, dump_devices};

    fn net(body: &str) -> String {
        format!(
            "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/>{body}</interface>"
        )
    }

    /// In libvirt's order (after `<target>`: `<guest>`; after `<model>`:
    /// `<tune>`, `<teaming>`, `<link>`, `<mtu>`, `<coalesce>`), zeros
    /// dropped, as stock virsh writes them.
    #[test]
    fn formatted_as_virsh() {
        let out = dump_devices(&net(
            "<coalesce><rx><frames max='7'/></rx></coalesce><mtu size='9000'/><link state='down'/>\
             <tune><sndbuf> 1600</sndbuf></tune><model type='virtio'/><guest dev='eth0' actual='ens3'/>",
        ))
        .unwrap();
        let want = "\
      <guest dev='eth0' actual='ens3'/>
      <model type='virtio'/>
      <tune>
        <sndbuf>1600</sndbuf>
      </tune>
      <link state='down'/>
      <mtu size='9000'/>
      <coalesce>
        <rx>
          <frames max='7'/>
        </rx>
      </coalesce>";
        assert!(out.contains(want), "{out}");
        let out = dump_devices(&net(
            "<mtu size='0'/><coalesce><rx><frames max='0'/></rx></coalesce><tune><sndbuf>0</sndbuf></tune><guest dev=''/>",
        ))
        .unwrap();
        assert!(!out.contains("<mtu") && !out.contains("<coalesce") && !out.contains("<guest"));
        assert!(out.contains("<sndbuf>0</sndbuf>"), "{out}");
    }

    #[test]
    fn refused_as_virsh() {
        let cases = [
            (net("<link state='default'/>"), "unsupported configuration: unknown interface link state 'default'"),
            (net("<mtu size='-1'/>"), "XML error: malformed mtu size"),
            (net("<tune><sndbuf>-1</sndbuf></tune>"), "XML error: sndbuf must be a positive integer"),
            (net("<coalesce><rx><frames max='x'/></rx></coalesce>"), "cannot parse value 'x' for coalesce parameter"),
            (net("<coalesce><rx><frames max='4294967296'/></rx></coalesce>"),
             "numerical overflow: value '4294967296' is too big for coalesce parameter, maximum is '4294967295'"),
        ];
        let cases: Vec<(&str, &str)> = cases.iter().map(|(d, m)| (d.as_str(), *m)).collect();
        assert_errors(dump_devices, &cases);
    }
}
