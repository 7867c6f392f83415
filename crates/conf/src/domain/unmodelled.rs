//! What libvirt 9.0 keeps but rvirt cannot model yet: refused with
//! VIR_ERR_CONFIG_UNSUPPORTED naming the element, so a definition is never
//! accepted with a line silently lost. Elements libvirt itself ignores
//! (unknown names, foreign namespaces) stay ignored, as in libvirt.
//! Each entry leaves this list when its model lands.

use super::unsupported;
use crate::xml::Element;
use rvirt_util::Result;

/// Children of `<domain>` that `virDomainDefParseXML` parses.
const DOMAIN: &[&str] = &[];

/// Children of `<devices>` (`virDomainDeviceType`). (`<crypto>` came
/// with libvirt 9.1: 9.0 ignores it as an unknown element, and so does
/// rvirt.)
const DEVICES: &[&str] = &[];

/// Refuse the first element of `root` libvirt would keep and rvirt drops.
pub(crate) fn refuse(root: &Element) -> Result<()> {
    let refuse = |path: &str| {
        Err(unsupported(format!(
            "element <{path}> is not supported by rvirt yet"
        )))
    };
    for c in root.elements() {
        if DOMAIN.contains(&c.name.as_str()) {
            return refuse(&c.name);
        }
    }
    if let Some(devices) = root.child("devices") {
        for c in devices.elements() {
            if DEVICES.contains(&c.name.as_str()) {
                return refuse(&format!("devices/{}", c.name));
            }
        }
    }
    Ok(())
}
