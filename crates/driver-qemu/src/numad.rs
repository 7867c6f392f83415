//! Automatic NUMA placement (`<vcpu placement='auto'>`,
//! `<numatune><memory placement='auto'>`), as Debian's libvirt 9.0 does
//! it (built with numad, `NUMAD=/usr/bin/numad`):
//! `qemuProcessPrepareDomainNUMAPlacement` asks `numad -w VCPUS:MiB` for
//! an advisory nodeset before the start; the nodes' CPUs become the
//! guest's automatic cpuset and the nodes with memory its automatic
//! nodeset. Without numad the start fails with libvirt's error.
//!
//! libvirt keeps `placement='auto'` in the live XML and the advice
//! beside it (`priv->autoNodeset`, `autoCpuset`), reading it where a
//! static nodeset or `<vcpu cpuset>` would be read. rvirt builds and sets
//! up the process from an effective definition that has the advice in
//! those places ([`Advice::apply`]) and keeps the definition as given.

use crate::cgroup::files::parse_cpus;
use rvirt_conf::domain::numatune::{MemMode, MemoryTune, Placement};
use rvirt_conf::domain::{CpuPlacement, DomainDef};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::path::Path;

/// Where Debian's build looks for numad.
pub const NUMAD: &str = "/usr/bin/numad";

const NODES: &str = "/sys/devices/system/node";

/// numad's answer in the terms the start uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    /// The advised nodes that have memory (`autoNodeset`).
    pub nodeset: Vec<u32>,
    /// Every CPU of the advised nodes (`autoCpuset`).
    pub cpuset: Vec<u32>,
}

/// `virDomainDefNeedsPlacementAdvice`.
pub fn needs_advice(def: &DomainDef) -> bool {
    let memory_auto = def
        .numatune
        .memory
        .as_ref()
        .is_some_and(|m| m.placement == Placement::Auto);
    memory_auto || def.vcpu_placement == CpuPlacement::Auto
}

fn query_failed() -> Error {
    Error::new(
        ErrorDomain::NONE,
        ErrorCode::OPERATION_FAILED,
        "Failed to query numad for the advisory nodeset",
    )
}

/// The advice for `def` from the numad at `numad`, None when the guest
/// needs none.
pub fn query(def: &DomainDef, numad: &Path) -> Result<Option<Advice>> {
    if !needs_advice(def) {
        return Ok(None);
    }
    let vcpus = def.current_vcpus.unwrap_or(def.vcpus);
    let mib = def.memory_kib.div_ceil(1024);
    let out = std::process::Command::new(numad)
        .arg("-w")
        .arg(format!("{vcpus}:{mib}"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|_| query_failed())?;
    if !out.status.success() {
        return Err(query_failed());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    advice_from(text.trim(), Path::new(NODES)).map(Some)
}

/// The nodeset numad printed, made an [`Advice`] from the host's nodes
/// under `nodes` (sysfs).
fn advice_from(text: &str, nodes: &Path) -> Result<Advice> {
    let valid = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '-');
    if !valid {
        return Err(Error::new(
            ErrorDomain::NONE,
            ErrorCode::INVALID_ARG,
            format!("Failed to parse bitmap '{text}'"),
        ));
    }
    let advised = parse_cpus(text);
    let mut cpuset: Vec<u32> = advised
        .iter()
        .filter_map(|n| std::fs::read_to_string(nodes.join(format!("node{n}/cpulist"))).ok())
        .flat_map(|list| parse_cpus(&list))
        .collect();
    cpuset.sort_unstable();
    cpuset.dedup();
    // virNumaGetHostMemoryNodeset: the nodes the host has (with memory).
    let nodeset = advised
        .into_iter()
        .filter(|n| nodes.join(format!("node{n}/meminfo")).exists())
        .collect();
    Ok(Advice { nodeset, cpuset })
}

impl Advice {
    /// The definition the process is built and set up from: the advised
    /// nodes where `<numatune><memory>` is automatic, the advised CPUs
    /// as the guest's cpuset where `<vcpu>` is.
    pub fn apply(&self, def: &mut DomainDef) {
        if let Some(m) = def.numatune.memory.as_mut() {
            if m.placement == Placement::Auto {
                m.placement = Placement::Static(self.nodeset.clone());
            }
        } else if def.vcpu_placement == CpuPlacement::Auto {
            // The parser gives an automatic <vcpu> an automatic
            // <numatune>; a definition made otherwise gets one here.
            def.numatune.memory = Some(MemoryTune {
                mode: MemMode::Strict,
                placement: Placement::Static(self.nodeset.clone()),
            });
        }
        if def.vcpu_placement == CpuPlacement::Auto {
            def.cpuset = Some(self.cpuset.clone());
        }
    }

    /// The placement of `given` back on the running guest's definition.
    pub fn restore(live: &mut DomainDef, given: &DomainDef) {
        live.numatune.memory = given.numatune.memory.clone();
        live.cpuset = given.cpuset.clone();
        live.vcpu_placement = given.vcpu_placement;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn def(inner: &str) -> DomainDef {
        DomainDef::parse(&format!(
            "<domain type='qemu'><name>t</name><memory>1048577</memory>{inner}\
             <os><type arch='x86_64'>hvm</type></os></domain>"
        ))
        .unwrap()
    }

    /// A numad stand-in that records its arguments and prints `answer`.
    fn fake_numad(dir: &Path, answer: &str, status: i32) -> std::path::PathBuf {
        let path = dir.join("numad");
        let script = format!(
            "#!/bin/sh\necho \"$@\" > {}/args\necho '{answer}'\nexit {status}\n",
            dir.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn numad_is_asked_only_for_automatic_placement() {
        let dir = std::env::temp_dir().join(format!("rvirt-numad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let numad = fake_numad(&dir, "0", 0);
        let fixed = def("<vcpu>2</vcpu>");
        assert_eq!(query(&fixed, &numad).unwrap(), None);
        let auto = def("<vcpu placement='auto' current='1'>2</vcpu>");
        assert!(needs_advice(&auto));
        let advice = query(&auto, &numad).unwrap().expect("advice");
        assert_eq!(
            std::fs::read_to_string(dir.join("args")).unwrap(),
            "-w 1:1025\n"
        );
        assert_eq!(advice.nodeset, [0]);
        let mut effective = auto.clone();
        advice.apply(&mut effective);
        assert_eq!(effective.cpuset.as_deref(), Some(&advice.cpuset[..]));
        let memory = effective.numatune.memory.as_ref().unwrap();
        assert_eq!(memory.placement, Placement::Static(vec![0]));
        Advice::restore(&mut effective, &auto);
        assert_eq!(effective, auto);

        let failing = fake_numad(&dir, "", 1);
        let err = query(&auto, &failing).unwrap_err();
        assert_eq!(
            err.message,
            "operation failed: Failed to query numad for the advisory nodeset"
        );
        let missing = dir.join("absent");
        assert_eq!(query(&auto, &missing).unwrap_err().message, err.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn advice_keeps_the_nodes_with_memory() {
        let dir = std::env::temp_dir().join(format!("rvirt-numad-sys-{}", std::process::id()));
        for (node, cpus) in [(0, "0-1\n"), (1, "2,3\n")] {
            let n = dir.join(format!("node{node}"));
            std::fs::create_dir_all(&n).unwrap();
            std::fs::write(n.join("cpulist"), cpus).unwrap();
        }
        std::fs::write(dir.join("node0/meminfo"), "").unwrap();
        let advice = advice_from("0-1", &dir).unwrap();
        assert_eq!(advice.nodeset, [0]);
        assert_eq!(advice.cpuset, [0, 1, 2, 3]);
        assert!(advice_from("x", &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
