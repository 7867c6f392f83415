//! The resource tunables libvirt applies outside the command line (cgroup
//! files, thread affinities, NUMA memory policy: `<cputune>` bandwidth and
//! pinning, `<memtune>`, `<blkiotune>`, `<numatune>`). rvirt places QEMU
//! in its cgroups but does not set these yet, so a guest asking for them
//! is refused by name rather than started without them.

use super::unsupported;
use rvirt_conf::domain::cputune::Bandwidth;
use rvirt_conf::domain::DomainDef;
use rvirt_util::Result;

/// The first tunable of `def` rvirt would leave unapplied, by element.
fn unapplied(def: &DomainDef) -> Option<&'static str> {
    let t = &def.cputune;
    let none = Bandwidth::default();
    let cputune = [
        ("cputune/shares", t.shares.is_some()),
        ("cputune/period", t.vcpus != none),
        ("cputune/global_period", t.global != none),
        ("cputune/emulator_period", t.emulator != none),
        ("cputune/iothread_period", t.iothread != none),
        ("cputune/vcpupin", !t.vcpupins.is_empty()),
        ("cputune/emulatorpin", t.emulatorpin.is_some()),
        ("cputune/iothreadpin", !t.iothreadpins.is_empty()),
    ];
    let m = &def.memtune;
    let others = [
        (
            "memtune",
            m.hard_limit.is_some()
                || m.soft_limit.is_some()
                || m.min_guarantee.is_some()
                || m.swap_hard_limit.is_some(),
        ),
        (
            "blkiotune",
            def.blkiotune.weight != 0 || !def.blkiotune.devices.is_empty(),
        ),
        (
            "numatune",
            def.numatune.memory.is_some() || !def.numatune.memnodes.is_empty(),
        ),
    ];
    cputune
        .into_iter()
        .chain(others)
        .find_map(|(element, given)| given.then_some(element))
}

/// libvirt's `VIR_ERR_CONFIG_UNSUPPORTED` for the first tunable rvirt
/// does not apply.
pub(super) fn refuse_unapplied(def: &DomainDef) -> Result<()> {
    match unapplied(def) {
        Some(element) => Err(unsupported(format!(
            "element <{element}> is not supported by rvirt's QEMU driver yet"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(inner: &str) -> Option<String> {
        let xml = format!(
            "<domain type='qemu'><name>t</name><memory>65536</memory><vcpu>2</vcpu>\
             {inner}<os><type arch='x86_64'>hvm</type></os></domain>"
        );
        let def = DomainDef::parse(&xml).expect("parses");
        refuse_unapplied(&def).err().map(|e| e.message)
    }

    #[test]
    fn each_unapplied_tunable_is_refused_by_name() {
        assert_eq!(refusal(""), None);
        for (inner, element) in [
            ("<cputune><shares>2048</shares></cputune>", "cputune/shares"),
            (
                "<cputune><period>100000</period><quota>50000</quota></cputune>",
                "cputune/period",
            ),
            (
                "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>",
                "cputune/vcpupin",
            ),
            (
                "<cputune><emulatorpin cpuset='0'/></cputune>",
                "cputune/emulatorpin",
            ),
            (
                "<memtune><hard_limit>1048576</hard_limit></memtune>",
                "memtune",
            ),
            ("<blkiotune><weight>500</weight></blkiotune>", "blkiotune"),
            (
                "<numatune><memory mode='strict' nodeset='0'/></numatune>",
                "numatune",
            ),
        ] {
            assert_eq!(
                refusal(inner).as_deref(),
                Some(
                    format!(
                        "unsupported configuration: element <{element}> is not supported by \
                         rvirt's QEMU driver yet"
                    )
                    .as_str()
                ),
                "{inner}"
            );
        }
    }
}
