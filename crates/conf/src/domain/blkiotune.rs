//! `<blkiotune>`: block I/O weights and throttles (`virBlkioDevice` and
//! the domain weight), parsed as in `virDomainDefTunablesParse`, checked as
//! `virDomainDefTunablesValidate` and formatted as
//! `virDomainDefFormatBlkiotune`.

use super::unsupported;
use crate::xml::{escape, Element, Writer};
use rvirt_util::Result;

const U32_MAX: u64 = u32::MAX as u64;

/// One `<device>`; 0 is unset for every limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlkioDevice {
    pub path: String,
    pub weight: u32,
    pub read_iops_sec: u32,
    pub write_iops_sec: u32,
    pub read_bytes_sec: u64,
    pub write_bytes_sec: u64,
}

/// `<blkiotune>`; a weight of 0 is unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blkiotune {
    pub weight: u32,
    pub devices: Vec<BlkioDevice>,
}

/// `virStrToLong_ui`/`_ull` of the text of `<name>` (0 when absent):
/// like `strtoul`, a negated value wraps around. `what` names it in
/// libvirt's message.
fn number<T: TryFrom<u64> + Default>(d: &Element, name: &str, what: &str, max: u64) -> Result<T> {
    let Some(t) = d.child(name).map(Element::text).filter(|t| !t.is_empty()) else {
        return Ok(T::default());
    };
    let v = t.trim_start();
    let n = match v.strip_prefix('-') {
        Some(neg) => neg
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= max)
            .map(|n| (max - n).wrapping_add(1) & max),
        None => v
            .strip_prefix('+')
            .unwrap_or(v)
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= max),
    };
    n.and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| unsupported(format!("could not parse {what} {t}")))
}

impl BlkioDevice {
    /// libvirt writes only the devices that set something.
    fn has_limits(&self) -> bool {
        self.weight != 0
            || self.read_iops_sec != 0
            || self.write_iops_sec != 0
            || self.read_bytes_sec != 0
            || self.write_bytes_sec != 0
    }
}

fn parse_device(d: &Element) -> Result<BlkioDevice> {
    let Some(path) = d.child("path").map(Element::text).filter(|p| !p.is_empty()) else {
        return Err(unsupported("missing per-device path"));
    };
    Ok(BlkioDevice {
        path,
        weight: number(d, "weight", "weight", U32_MAX)?,
        read_bytes_sec: number(d, "read_bytes_sec", "read bytes sec", u64::MAX)?,
        write_bytes_sec: number(d, "write_bytes_sec", "write bytes sec", u64::MAX)?,
        read_iops_sec: number(d, "read_iops_sec", "read iops sec", U32_MAX)?,
        write_iops_sec: number(d, "write_iops_sec", "write iops sec", U32_MAX)?,
    })
}

impl Blkiotune {
    pub(crate) fn parse(root: &Element) -> Result<Blkiotune> {
        let Some(b) = root.child("blkiotune") else {
            return Ok(Blkiotune::default());
        };
        // An unreadable weight is no weight, as in libvirt.
        let weight = b.child("weight").and_then(|w| w.text().trim().parse().ok());
        let devices = b.children_named("device").map(parse_device);
        Ok(Blkiotune {
            weight: weight.unwrap_or(0),
            devices: devices.collect::<Result<_>>()?,
        })
    }

    /// `virDomainDefTunablesValidate`: each path once.
    pub(crate) fn validate(&self) -> Result<()> {
        for (i, d) in self.devices.iter().enumerate() {
            if self.devices[..i].iter().any(|o| o.path == d.path) {
                return Err(unsupported(format!(
                    "duplicate blkio device path '{}'",
                    d.path
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let devices: Vec<&BlkioDevice> = self.devices.iter().filter(|d| d.has_limits()).collect();
        if self.weight == 0 && devices.is_empty() {
            return;
        }
        w.elem_with("blkiotune", "", |w| {
            if self.weight != 0 {
                w.line(&format!("<weight>{}</weight>", self.weight));
            }
            for d in devices {
                w.block("device", "", |w| {
                    w.line(&format!("<path>{}</path>", escape(&d.path)));
                    let values = [
                        ("weight", u64::from(d.weight)),
                        ("read_iops_sec", u64::from(d.read_iops_sec)),
                        ("write_iops_sec", u64::from(d.write_iops_sec)),
                        ("read_bytes_sec", d.read_bytes_sec),
                        ("write_bytes_sec", d.write_bytes_sec),
                    ];
                    for (name, v) in values.into_iter().filter(|(_, v)| *v != 0) {
                        w.line(&format!("<{name}>{v}</{name}>"));
                    }
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_before_os};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn blkiotune_as_virsh() {
        assert_dump_holds(
            dump_before_os,
            "<blkiotune><weight>800</weight><device><path>/a</path><write_bytes_sec>5</write_bytes_sec>\
             <weight>7</weight></device><device><path>/b</path></device></blkiotune>",
            "  <blkiotune>\n    <weight>800</weight>\n    <device>\n      <path>/a</path>\n      <weight>7</weight>\n      <write_bytes_sec>5</write_bytes_sec>\n    </device>\n  </blkiotune>\n",
        );
        assert_errors(
            dump_before_os,
            &[
                ("<blkiotune><device/></blkiotune>", "unsupported configuration: missing per-device path"),
                ("<blkiotune><device><path>/a</path><read_iops_sec>x</read_iops_sec></device></blkiotune>", "unsupported configuration: could not parse read iops sec x"),
                ("<blkiotune><device><path>/a</path></device><device><path>/a</path></device></blkiotune>", "unsupported configuration: duplicate blkio device path '/a'"),
            ],
        );
    }
}
