//! Checks that span device kinds, from `virDomainDefParseXML` and
//! `virDomainDefValidate`, with libvirt's error texts.

use super::controller::{Controller, ControllerType};
use super::devices_more::{Input, InputBus};
use super::unsupported;
use super::video::Video;
use rvirt_util::Result;

/// `virDomainDefParseXML`: a USB input needs a USB bus, which a USB
/// controller of model `none` disables.
pub(crate) fn check_usb_inputs(controllers: &[Controller], inputs: &[Input]) -> Result<()> {
    let usb_none = controllers
        .iter()
        .any(|c| c.controller_type == ControllerType::Usb && c.is_usb_none());
    if usb_none && inputs.iter().any(|i| i.bus == InputBus::Usb) {
        return Err(unsupported(
            "Can't add USB input device. USB bus is disabled",
        ));
    }
    Ok(())
}

/// The parser puts each video marked primary first (the last one marked
/// ends up first), then `virDomainDefVideoValidate` allows one primary.
pub(crate) fn order_videos(videos: &mut Vec<Video>) -> Result<()> {
    let parsed = std::mem::take(videos);
    for v in parsed {
        if v.primary {
            videos.insert(0, v);
        } else {
            videos.push(v);
        }
    }
    if videos.first().is_some_and(|v| v.primary) && videos.iter().skip(1).any(|v| v.primary) {
        return Err(unsupported("Only one primary video device is supported"));
    }
    Ok(())
}
