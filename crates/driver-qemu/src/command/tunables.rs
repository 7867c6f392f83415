//! The resource tunables as the command line sees them. libvirt applies
//! most of them outside it, through cgroup files and thread affinities
//! (`crate::cgroup::setup`), and puts only the NUMA policy of guest RAM
//! on the memory backend object; QEMU refuses `<min_guarantee>`.

use super::json::Props;
use super::unsupported;
use rvirt_conf::domain::numatune::{MemMode, Placement};
use rvirt_conf::domain::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// qemuValidateDomainDef's refusal of `min_guarantee`, on define as on
/// start.
pub(super) fn validate(def: &DomainDef) -> Result<()> {
    if def.memtune.min_guarantee.is_some() {
        return Err(unsupported(
            "Parameter 'min_guarantee' not supported by QEMU.",
        ));
    }
    Ok(())
}

/// What the command line refuses of the tunables: `min_guarantee`.
pub(super) fn refuse_unapplied(def: &DomainDef) -> Result<()> {
    validate(def)
}

/// `virDomainNumatuneMaybeGetNodeset` without numad's advice: the
/// command line of a guest with automatic placement is only built for a
/// start, which asks numad first ([`crate::numad`]) and builds from the
/// advised nodes; domxml-to-native has none.
pub(super) fn refuse_auto(def: &DomainDef) -> Result<()> {
    let auto = def
        .numatune
        .memory
        .as_ref()
        .is_some_and(|m| m.placement == Placement::Auto);
    match auto {
        true => Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::INTERNAL_ERROR,
            "Advice from numad is needed in case of automatic numa placement",
        )),
        false => Ok(()),
    }
}

/// `qemuNumaPolicyTypeToString`.
pub(super) fn policy(mode: MemMode) -> &'static str {
    match mode {
        MemMode::Strict => "bind",
        MemMode::Preferred => "preferred",
        MemMode::Interleave => "interleave",
        MemMode::Restrictive => "restrictive",
    }
}

/// `virNumaNodesetIsAvailable`.
pub(super) fn check_nodes_available(nodes: &[u32]) -> Result<()> {
    let missing = nodes
        .iter()
        .find(|n| !std::path::Path::new(&format!("/sys/devices/system/node/node{n}")).exists());
    match missing {
        Some(n) => Err(Error::new(
            ErrorDomain::NONE,
            ErrorCode::CONFIG_UNSUPPORTED,
            format!("NUMA node {n} is unavailable"),
        )),
        None => Ok(()),
    }
}

/// `qemuBuildMemoryBackendProps`'s NUMA part for the guest RAM: the
/// `<numatune><memory>` nodeset as `host-nodes` with its policy, except
/// in restrictive mode, which only the cgroup's cpuset.mems enforces.
pub(super) fn host_nodes(props: Props, def: &DomainDef) -> Result<Props> {
    refuse_auto(def)?;
    let Some(memory) = &def.numatune.memory else {
        return Ok(props);
    };
    let Placement::Static(nodes) = &memory.placement else {
        return Ok(props);
    };
    check_nodes_available(nodes)?;
    if memory.mode == MemMode::Restrictive {
        return Ok(props);
    }
    Ok(props
        .nums("host-nodes", nodes)
        .str("policy", policy(memory.mode)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(inner: &str) -> DomainDef {
        let xml = format!(
            "<domain type='qemu'><name>t</name><memory>65536</memory><vcpu>2</vcpu>\
             {inner}<os><type arch='x86_64'>hvm</type></os></domain>"
        );
        DomainDef::parse(&xml).expect("parses")
    }

    fn refusal(inner: &str) -> Option<String> {
        refuse_unapplied(&parse(inner)).err().map(|e| e.message)
    }

    #[test]
    fn applied_tunables_pass_and_the_rest_is_refused_by_name() {
        for inner in [
            "",
            "<cputune><shares>2048</shares><period>100000</period><quota>50000</quota>\
             <vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='0'/>\
             <global_period>100000</global_period><global_quota>-1</global_quota>\
             <emulator_period>10000</emulator_period></cputune>",
            "<memtune><hard_limit>1048576</hard_limit><soft_limit>524288</soft_limit>\
             <swap_hard_limit>2097152</swap_hard_limit></memtune>",
            "<blkiotune><weight>500</weight></blkiotune>",
            "<numatune><memory mode='interleave' nodeset='0'/></numatune>",
            "<iothreads>1</iothreads><cputune><iothreadpin iothread='1' cpuset='0'/>\
             <iothread_period>10000</iothread_period></cputune>",
        ] {
            assert_eq!(refusal(inner), None, "{inner}");
        }
        assert_eq!(
            refusal("<memtune><min_guarantee>1024</min_guarantee></memtune>").as_deref(),
            Some("unsupported configuration: Parameter 'min_guarantee' not supported by QEMU.")
        );
    }

    #[test]
    fn guest_ram_gets_the_numatune_policy() {
        let props = || Props::new().str("id", "pc.ram");
        let def = parse("<numatune><memory mode='strict' nodeset='0'/></numatune>");
        assert_eq!(
            host_nodes(props(), &def).unwrap().finish(),
            r#"{"id":"pc.ram","host-nodes":[0],"policy":"bind"}"#
        );
        let def = parse("<numatune><memory mode='restrictive' nodeset='0'/></numatune>");
        assert_eq!(
            host_nodes(props(), &def).unwrap().finish(),
            r#"{"id":"pc.ram"}"#
        );
        let def = parse("<numatune><memory mode='preferred' nodeset='4000'/></numatune>");
        let err = host_nodes(props(), &def).err().expect("node 4000 refused");
        assert_eq!(
            err.message,
            "unsupported configuration: NUMA node 4000 is unavailable"
        );
    }
}
