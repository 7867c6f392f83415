//! `virDomainDefCheckABIStability`: may `dst` replace `src` under a
//! running guest (migration, restore)?

use super::props::VirEnum;
use super::{unsupported, DomainDef};
use rvirt_util::Result;

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

pub(crate) fn check(src: &DomainDef, dst: &DomainDef) -> Result<()> {
    let fail = |m: String| Err(unsupported(m));
    if src.virt_type != dst.virt_type {
        return fail(format!(
            "Target domain virt type {} does not match source {}",
            dst.virt_type, src.virt_type
        ));
    }
    if src.uuid != dst.uuid {
        return fail(format!(
            "Target domain uuid {} does not match source {}",
            dst.uuid.hyphenated(),
            src.uuid.hyphenated()
        ));
    }
    if src.name != dst.name {
        return fail(format!(
            "Target domain name '{}' does not match source '{}'",
            dst.name, src.name
        ));
    }
    if src.memory_kib != dst.memory_kib {
        return fail(format!(
            "Target domain max memory {} does not match source {}",
            dst.memory_kib, src.memory_kib
        ));
    }
    let (smax, sslots) = src.max_memory.unwrap_or((0, 0));
    let (dmax, dslots) = dst.max_memory.unwrap_or((0, 0));
    if sslots != dslots {
        return fail(format!(
            "Target domain memory slots count '{dslots}' doesn't match source '{sslots}'"
        ));
    }
    if smax != dmax {
        return fail(format!(
            "Target maximum memory size '{dmax}' doesn't match source '{smax}'"
        ));
    }
    if src.vcpus != dst.vcpus {
        return fail(format!(
            "Target domain vCPU max {} does not match source {}",
            dst.vcpus, src.vcpus
        ));
    }
    if src.os.os_type != dst.os.os_type {
        return fail(format!(
            "Target domain OS type {} does not match source {}",
            dst.os.os_type, src.os.os_type
        ));
    }
    if src.os.arch != dst.os.arch {
        return fail(format!(
            "Target domain architecture {} does not match source {}",
            opt(&dst.os.arch),
            opt(&src.os.arch)
        ));
    }
    if src.os.machine != dst.os.machine {
        return fail(format!(
            "Target domain machine type {} does not match source {}",
            opt(&dst.os.machine),
            opt(&src.os.machine)
        ));
    }
    let (s, d) = (&src.devices, &dst.devices);
    if s.disks.len() != d.disks.len() {
        return fail(format!(
            "Target domain disk count {} does not match source {}",
            d.disks.len(),
            s.disks.len()
        ));
    }
    for (a, b) in s.disks.iter().zip(&d.disks) {
        if a.device != b.device {
            return fail(format!(
                "Target disk device {} does not match source {}",
                b.device, a.device
            ));
        }
        if a.bus != b.bus {
            return fail(format!(
                "Target disk bus {} does not match source {}",
                b.bus, a.bus
            ));
        }
        if a.target_dev != b.target_dev {
            return fail(format!(
                "Target disk {} does not match source {}",
                b.target_dev, a.target_dev
            ));
        }
        if a.address != b.address {
            return fail("Target device address type does not match source".into());
        }
    }
    if s.controllers.len() != d.controllers.len() {
        return fail(format!(
            "Target domain controller count {} does not match source {}",
            d.controllers.len(),
            s.controllers.len()
        ));
    }
    for (a, b) in s.controllers.iter().zip(&d.controllers) {
        if a.controller_type != b.controller_type {
            return fail(format!(
                "Target controller type {} does not match source {}",
                b.controller_type, a.controller_type
            ));
        }
        if a.index != b.index {
            return fail(format!(
                "Target controller index {} does not match source {}",
                b.index, a.index
            ));
        }
        if a.model != b.model {
            return fail(format!(
                "Target controller model {} does not match source {}",
                opt(&b.model),
                opt(&a.model)
            ));
        }
    }
    if s.interfaces.len() != d.interfaces.len() {
        return fail(format!(
            "Target domain net card count {} does not match source {}",
            d.interfaces.len(),
            s.interfaces.len()
        ));
    }
    for (a, b) in s.interfaces.iter().zip(&d.interfaces) {
        if a.mac != b.mac {
            return fail(format!(
                "Target network card mac {} does not match source {}",
                opt(&b.mac),
                opt(&a.mac)
            ));
        }
        if a.model != b.model {
            return fail(format!(
                "Target network card model {} does not match source {}",
                opt(&b.model),
                opt(&a.model)
            ));
        }
        if a.address != b.address {
            return fail("Target device address type does not match source".into());
        }
    }
    let counts = [
        ("input device", s.inputs.len(), d.inputs.len()),
        ("graphics", s.graphics.len(), d.graphics.len()),
        ("video", s.videos.len(), d.videos.len()),
        ("serial port", s.serials.len(), d.serials.len()),
        ("console", s.consoles.len(), d.consoles.len()),
    ];
    for (what, a, b) in counts {
        if a != b {
            return fail(format!(
                "Target domain {what} count {b} does not match source {a}"
            ));
        }
    }
    for (a, b) in s.inputs.iter().zip(&d.inputs) {
        if a.input_type != b.input_type {
            return fail(format!(
                "Target input device type {} does not match source {}",
                b.input_type, a.input_type
            ));
        }
        if a.bus != b.bus {
            return fail(format!(
                "Target input device bus {} does not match source {}",
                b.bus, a.bus
            ));
        }
    }
    for (a, b) in s.videos.iter().zip(&d.videos) {
        if a.model != b.model {
            return fail(format!(
                "Target video card model {} does not match source {}",
                b.model, a.model
            ));
        }
    }
    let sb = s.memballoon.as_ref().map(|m| m.model.as_str());
    let db = d.memballoon.as_ref().map(|m| m.model.as_str());
    if sb.is_some() != db.is_some() {
        return fail("Target domain memballoon device presence does not match source".into());
    }
    if sb != db {
        return fail(format!(
            "Target balloon model {} does not match source {}",
            db.unwrap_or(""),
            sb.unwrap_or("")
        ));
    }
    if s.smartcards.len() != d.smartcards.len() {
        return fail(format!(
            "Target domain smartcard count {} does not match source {}",
            d.smartcards.len(),
            s.smartcards.len()
        ));
    }
    if s.sounds.len() != d.sounds.len() {
        return fail(format!(
            "Target domain sound card count {} does not match source {}",
            d.sounds.len(),
            s.sounds.len()
        ));
    }
    for (a, b) in s.sounds.iter().zip(&d.sounds) {
        if a.model != b.model {
            return fail(format!(
                "Target sound card model {} does not match source {}",
                b.model.as_str(),
                a.model.as_str()
            ));
        }
    }
    if s.redirdevs.len() != d.redirdevs.len() {
        return fail(format!(
            "Target domain redirected devices count {} does not match source {}",
            d.redirdevs.len(),
            s.redirdevs.len()
        ));
    }
    if s.hubs.len() != d.hubs.len() {
        return fail(format!(
            "Target domain hub device count {} does not match source {}",
            d.hubs.len(),
            s.hubs.len()
        ));
    }
    if s.rngs.len() != d.rngs.len() {
        return fail(format!(
            "Target domain RNG device count {} does not match source {}",
            d.rngs.len(),
            s.rngs.len()
        ));
    }
    for (a, b) in s.rngs.iter().zip(&d.rngs) {
        if a.model != b.model {
            return fail(format!(
                "Target RNG model '{}' does not match source '{}'",
                b.model.as_str(),
                a.model.as_str()
            ));
        }
    }
    if s.panics.len() != d.panics.len() {
        return fail(format!(
            "Target domain panic device count {} does not match source {}",
            d.panics.len(),
            s.panics.len()
        ));
    }
    for (a, b) in s.panics.iter().zip(&d.panics) {
        if a.model != b.model {
            return fail(format!(
                "Target panic model '{}' does not match source '{}'",
                b.model.as_str(),
                a.model.as_str()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::DomainDef;

    const X: &str = "<domain type='test'><name>x</name><uuid>11111111-2222-3333-4444-555555555555</uuid><memory>1024</memory><os><type>hvm</type></os></domain>";

    #[test]
    fn abi() {
        let a = DomainDef::parse(X).unwrap();
        assert!(a.check_abi_stability(&a.clone()).is_ok());
        let mut b = a.clone();
        b.name = "y".into();
        assert_eq!(
            a.check_abi_stability(&b).unwrap_err().message,
            "unsupported configuration: Target domain name 'y' does not match source 'x'"
        );
        let mut b = a.clone();
        b.vcpus = 4;
        assert!(a.check_abi_stability(&b).is_err());
    }
}
