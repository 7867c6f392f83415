//! `<sound>`: an emulated sound card (`virDomainSoundDef`), parsed as
//! `virDomainSoundDefParseXML`, checked as `virDomainSoundDefValidate`,
//! formatted as `virDomainSoundDefFormat`.

use super::address::{format_info_addr, parse_addr, Address, DeviceInfo};
use super::audio::Audio;
use super::props::{self, vir_enum, VirEnum};
use super::{internal_xml, unsupported};
use crate::xml::{Element, Writer};
use rvirt_util::Result;

vir_enum! {
    /// `virDomainSoundModel`.
    pub enum SoundModel {
        Sb16 = "sb16", Es1370 = "es1370", Pcspk = "pcspk", Ac97 = "ac97",
        Ich6 = "ich6", Ich9 = "ich9", Usb = "usb", Ich7 = "ich7",
    }

    /// `virDomainSoundCodec`.
    pub enum SoundCodec { Duplex = "duplex", Micro = "micro", Output = "output" }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sound {
    pub model: SoundModel,
    /// Only the Intel HDA models (ich6, ich7, ich9) keep codecs.
    pub codecs: Vec<SoundCodec>,
    /// `<audio id>`: the backend it plays through; 0 is unset.
    pub audio_id: u32,
    /// User alias and ACPI index.
    pub info: DeviceInfo,
    pub address: Option<Address>,
}

impl Sound {
    pub(crate) fn parse(e: &Element) -> Result<Sound> {
        let model: SoundModel = props::enumeration(e, "model", true)?.unwrap_or(SoundModel::Sb16);
        let mut codecs = Vec::new();
        if matches!(
            model,
            SoundModel::Ich6 | SoundModel::Ich7 | SoundModel::Ich9
        ) {
            for c in e.children_named("codec") {
                let t = c.attr("type");
                let codec = t.and_then(SoundCodec::from_str_opt).ok_or_else(|| {
                    unsupported(format!("unknown codec type '{}'", t.unwrap_or("(null)")))
                })?;
                codecs.push(codec);
            }
        }
        let audio_id = match e.child("audio") {
            Some(a) => props::uint(a, "id", true, true)?.unwrap_or(0),
            None => 0,
        };
        Ok(Sound {
            model,
            codecs,
            audio_id,
            info: DeviceInfo::parse(e)?,
            address: parse_addr(e)?,
        })
    }

    /// `virDomainEnsureAudioID`: the audio backend must exist.
    pub(crate) fn validate(&self, audios: &[Audio]) -> Result<()> {
        if self.audio_id != 0 && !audios.iter().any(|a| a.id == self.audio_id) {
            return Err(internal_xml(format!(
                "no audio device with ID {}",
                self.audio_id
            )));
        }
        Ok(())
    }

    pub(crate) fn format(&self, w: &mut Writer) {
        let attrs = format!(" model='{}'", self.model.as_str());
        w.elem_with("sound", &attrs, |w| {
            for c in &self.codecs {
                w.line(&format!("<codec type='{}'/>", c.as_str()));
            }
            if self.audio_id > 0 {
                w.line(&format!("<audio id='{}'/>", self.audio_id));
            }
            format_info_addr(&self.info, &self.address, w);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_errors, dump_devices as dump};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn sounds_as_virsh() {
        let out = dump(
            "<sound model='ich6'><codec type='duplex'/><audio id='1'/></sound>\
             <sound model='sb16'><codec type='duplex'/></sound><audio id='1' type='none'/>",
        )
        .unwrap();
        let want = "    <sound model='ich6'>
      <codec type='duplex'/>
      <audio id='1'/>
    </sound>
    <sound model='sb16'/>
    <audio id='1' type='none'/>
";
        assert!(out.contains(want), "{out}");
        assert_errors(
            dump,
            &[
                (
                    "<sound model='ich6'><codec/></sound>",
                    "unsupported configuration: unknown codec type '(null)'",
                ),
                (
                    "<sound model='ac97'><audio id='2'/></sound>",
                    "XML error: no audio device with ID 2",
                ),
                (
                    "<sound/>",
                    "XML error: Missing required attribute 'model' in element 'sound'",
                ),
            ],
        );
    }
}
