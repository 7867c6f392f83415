//! `<memtune>`: the guest's memory limits (`virDomainMemtune`), parsed as
//! in `virDomainDefTunablesParse` and formatted as `virDomainMemtuneFormat`.

use super::props;
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED` in KiB: a limit at or over it is
/// "no limit", which libvirt does not format.
pub const UNLIMITED_KIB: u64 = 9007199254740991;

/// Limits in KiB; `None` is unlimited (or, for `min_guarantee`, unset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memtune {
    pub hard_limit: Option<u64>,
    pub soft_limit: Option<u64>,
    pub min_guarantee: Option<u64>,
    pub swap_hard_limit: Option<u64>,
}

/// The first `<memtune><name>` of the domain, its text and unit.
fn limit_node<'a>(root: &'a Element, name: &'a str) -> Option<&'a Element> {
    root.grandchildren("memtune", name).next()
}

/// `virDomainParseMemoryLimit`: KiB (rounded up), capped at unlimited.
fn limit(root: &Element, name: &str) -> Result<Option<u64>> {
    let xpath = format!("./memtune/{name}[1]");
    let bytes = props::scaled_value(limit_node(root, name), &xpath, 1024, UNLIMITED_KIB << 10)?;
    Ok(bytes
        .map(|b| b.div_ceil(1024))
        .filter(|kib| *kib < UNLIMITED_KIB))
}

impl Memtune {
    pub(crate) fn parse(root: &Element) -> Result<Memtune> {
        let guarantee = limit_node(root, "min_guarantee");
        let min_guarantee = props::memory_kib(
            guarantee.map(Element::text).as_deref(),
            guarantee.and_then(|g| g.attr("unit")),
            "./memtune/min_guarantee[1]",
            false,
        )?;
        Ok(Memtune {
            hard_limit: limit(root, "hard_limit")?,
            soft_limit: limit(root, "soft_limit")?,
            min_guarantee: min_guarantee.filter(|g| *g != 0),
            swap_hard_limit: limit(root, "swap_hard_limit")?,
        })
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        if *self == Memtune::default() {
            return;
        }
        w.elem_with("memtune", "", |w| {
            let limits = [
                ("hard_limit", self.hard_limit),
                ("soft_limit", self.soft_limit),
                ("min_guarantee", self.min_guarantee),
                ("swap_hard_limit", self.swap_hard_limit),
            ];
            for (name, kib) in limits {
                if let Some(kib) = kib {
                    w.line(&format!("<{name} unit='KiB'>{kib}</{name}>"));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_before_os};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn memtune_as_virsh() {
        assert_dump_holds(
            dump_before_os,
            "<memtune><swap_hard_limit unit='G'>2</swap_hard_limit><hard_limit>1025</hard_limit>\
             <soft_limit unit='bytes'>9007199254740991</soft_limit><min_guarantee unit='M'>1</min_guarantee></memtune>",
            "  <memtune>\n    <hard_limit unit='KiB'>1025</hard_limit>\n    <soft_limit unit='KiB'>8796093022208</soft_limit>\n    <min_guarantee unit='KiB'>1024</min_guarantee>\n    <swap_hard_limit unit='KiB'>2097152</swap_hard_limit>\n  </memtune>\n",
        );
        let unlimited =
            dump_before_os("<memtune><hard_limit>9007199254740991</hard_limit></memtune>");
        assert!(!unlimited.unwrap().contains("memtune"));
        assert_errors(
            dump_before_os,
            &[(
                "<memtune><hard_limit>x</hard_limit></memtune>",
                "XML error: Invalid value 'x' for element or attribute './memtune/hard_limit[1]'",
            )],
        );
    }
}
