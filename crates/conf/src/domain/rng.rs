//! `<rng>`: a random number generator (`virDomainRNGDef`), parsed as
//! `virDomainRNGDefParseXML`, defaulted as `virDomainRNGDefPostParse`,
//! checked as `virDomainRNGDefValidate`, formatted as
//! `virDomainRNGDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::chardev::{ChrSource, ChrType};
use super::props::{self, vir_enum, VirEnum};
use super::virtio::VirtioOptions;
use super::{esc, internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainRNGModel`.
    pub enum RngModel {
        Virtio = "virtio", VirtioTransitional = "virtio-transitional",
        VirtioNonTransitional = "virtio-non-transitional",
    }
}

/// `virDomainRNGBackend` with its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RngBackend {
    /// A host file, `/dev/random` unless given.
    Random(String),
    /// An EGD daemon behind a character device.
    Egd(Box<ChrSource>),
    Builtin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    pub model: RngModel,
    /// `<rate bytes=>`; 0 is unset.
    pub rate_bytes: u32,
    /// `<rate period=>`, read only with a rate; 0 is unset.
    pub rate_period: u32,
    pub backend: RngBackend,
    pub driver: VirtioOptions,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

/// `virXPathUInt` of `./rate/@NAME`: absent is 0.
fn rate(e: &Element, name: &str) -> Result<u32> {
    match e
        .child("rate")
        .and_then(|r| r.attr(name))
        .filter(|v| !v.is_empty())
    {
        None => Ok(0),
        Some(v) => v
            .trim_start()
            .parse()
            .map_err(|_| internal_xml(format!("invalid RNG rate {name} value"))),
    }
}

fn parse_backend(e: &Element) -> Result<RngBackend> {
    let backends: Vec<&Element> = e.children_named("backend").collect();
    let [b] = backends[..] else {
        return Err(internal_xml("only one RNG backend is supported"));
    };
    let Some(model) = b.attr("model") else {
        return Err(internal_xml("missing RNG device backend model"));
    };
    match model {
        // virXPathString gives NULL for empty text: the default path.
        "random" => Ok(RngBackend::Random(
            Some(b.text())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "/dev/random".into()),
        )),
        "egd" => {
            let Some(t) = b.attr("type") else {
                return Err(internal_xml("missing EGD backend type"));
            };
            let chr_type = ChrType::from_str_opt(t)
                .ok_or_else(|| unsupported(format!("unknown backend type '{t}' for egd")))?;
            Ok(RngBackend::Egd(Box::new(ChrSource::parse(b, chr_type)?)))
        }
        "builtin" => Ok(RngBackend::Builtin),
        _ => Err(unsupported(format!("unknown RNG backend model '{model}'"))),
    }
}

impl Rng {
    pub(crate) fn parse(e: &Element) -> Result<Rng> {
        let missing = internal_xml("missing RNG device model");
        let model: RngModel = props::named_value(e, "model", missing, "unknown RNG model")?;
        let rate_bytes = rate(e, "bytes")?;
        let rate_period = if rate_bytes > 0 {
            rate(e, "period")?
        } else {
            0
        };
        let backend = parse_backend(e)?;
        let rng = Rng {
            model,
            rate_bytes,
            rate_period,
            backend,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
            driver: VirtioOptions::parse(e.child("driver"))?,
        };
        if let RngBackend::Egd(src) = &rng.backend {
            src.validate(false)?;
        }
        Ok(rng)
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        w.line(&format!("<rng model='{}'>", self.model.as_str()));
        w.indent();
        if self.rate_bytes > 0 {
            let period = match self.rate_period {
                0 => String::new(),
                p => format!(" period='{p}'"),
            };
            w.line(&format!("<rate bytes='{}'{period}/>", self.rate_bytes));
        }
        match &self.backend {
            RngBackend::Random(path) => {
                w.line(&format!("<backend model='random'>{}</backend>", esc(path)))
            }
            RngBackend::Egd(src) => {
                w.line(&format!("<backend model='egd'{}>", src.type_attr()));
                w.indent();
                src.format(w);
                w.dedent();
                w.line("</backend>");
            }
            RngBackend::Builtin => w.line("<backend model='builtin'/>"),
        }
        self.driver.format_driver(w);
        format_info_addr(&self.info, &self.address, w);
        w.dedent();
        w.line("</rng>");
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn rng_as_virsh() {
        let out = dump(
            "<rng model='virtio'><rate bytes='1234' period='2000'/><backend model='random'/>\
             <driver iommu='on' ats='off'/></rng>\
             <rng model='virtio-transitional'><rate period='5'/><backend model='egd' type='tcp'>\
             <source mode='connect' host='1.2.3.4' service='1234'/><protocol type='telnet'/></backend></rng>",
        ).unwrap();
        let want = "    <rng model='virtio'>
      <rate bytes='1234' period='2000'/>
      <backend model='random'>/dev/random</backend>
      <driver iommu='on' ats='off'/>
    </rng>
    <rng model='virtio-transitional'>
      <backend model='egd' type='tcp'>
        <source mode='connect' host='1.2.3.4' service='1234'/>
        <protocol type='telnet'/>
      </backend>
    </rng>
";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump,
            &[
                (
                    "<rng model='virtio'><rate bytes='x'/><backend model='random'/></rng>",
                    "XML error: invalid RNG rate bytes value",
                ),
                (
                    "<rng model='virtio'><backend model='random'/><backend model='random'/></rng>",
                    "XML error: only one RNG backend is supported",
                ),
                (
                    "<rng model='virtio'><backend model='egd' type='unix'/></rng>",
                    "internal error: Missing source path attribute for char device",
                ),
            ],
        );
    }
}
