//! The NUMA memory policy QEMU starts with (`virNumaSetupMemoryPolicy`,
//! from `qemuProcessHook` between fork and exec): `<numatune><memory>`
//! in interleave or preferred mode, or strict without a cpuset cgroup to
//! enforce it, becomes the process's `set_mempolicy(2)`, which QEMU's
//! threads inherit. Strict and restrictive modes with cpuset leave it to
//! the cgroup's cpuset.mems; restrictive never sets one.

use rvirt_conf::domain::numatune::{MemMode, Placement};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `<linux/mempolicy.h>` modes.
const MPOL_BIND: i32 = 2;
const MPOL_INTERLEAVE: i32 = 3;
/// libnuma's numa_set_preferred_many uses it where the kernel has it
/// (5.15+), for one node too.
const MPOL_PREFERRED_MANY: i32 = 5;
/// libnuma's mask size: 1024 nodes.
const WORDS: usize = 16;
const BITS: usize = WORDS * libc::c_ulong::BITS as usize;

/// A mode and node mask ready for `set_mempolicy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemPolicy {
    mode: i32,
    mask: [libc::c_ulong; WORDS],
}

/// The highest NUMA node of the host (`numa_max_node`).
fn max_node() -> usize {
    std::fs::read_to_string("/sys/devices/system/node/possible")
        .map(|t| crate::cgroup::files::parse_cpus(&t))
        .ok()
        .and_then(|nodes| nodes.into_iter().max())
        .unwrap_or(0) as usize
}

impl MemPolicy {
    /// The policy for `def`; `cpuset_binds`: the cpuset controller is
    /// wanted and available, so strict mode is left to the cgroup.
    pub fn for_guest(def: &DomainDef, cpuset_binds: bool) -> Result<Option<MemPolicy>> {
        let Some(memory) = &def.numatune.memory else {
            return Ok(None);
        };
        let Placement::Static(nodes) = &memory.placement else {
            return Ok(None);
        };
        let mode = match memory.mode {
            MemMode::Strict | MemMode::Restrictive if cpuset_binds => return Ok(None),
            MemMode::Restrictive => return Ok(None),
            MemMode::Strict => MPOL_BIND,
            MemMode::Interleave => MPOL_INTERLEAVE,
            MemMode::Preferred => MPOL_PREFERRED_MANY,
        };
        Self::with_nodes(mode, nodes, max_node()).map(Some)
    }

    fn with_nodes(mode: i32, nodes: &[u32], max_node: usize) -> Result<MemPolicy> {
        let mut mask = [0; WORDS];
        let word = libc::c_ulong::BITS as usize;
        for node in nodes.iter().map(|n| *n as usize) {
            if node > max_node.min(BITS - 1) {
                return Err(Error::new(
                    ErrorDomain::NONE,
                    ErrorCode::INTERNAL_ERROR,
                    format!("NUMA node {node} is out of range"),
                ));
            }
            mask[node / word] |= 1 << (node % word);
        }
        Ok(MemPolicy { mode, mask })
    }

    /// Set it for the calling thread (and what it forks and execs). Only
    /// a system call: safe in a child before exec.
    pub fn apply(&self) -> std::io::Result<()> {
        // SAFETY: with maxnode BITS + 1 the kernel reads BITS bits, the
        // size of `mask`.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_set_mempolicy,
                self.mode,
                self.mask.as_ptr(),
                (BITS + 1) as libc::c_ulong,
            )
        };
        match rc {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(numatune: &str) -> DomainDef {
        DomainDef::parse(&format!(
            "<domain type='qemu'><name>t</name><memory>1024</memory>{numatune}\
             <os><type arch='x86_64'>hvm</type></os></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn which_modes_get_a_policy() {
        let tune = |mode: &str| format!("<numatune><memory mode='{mode}' nodeset='0'/></numatune>");
        let mode_of = |mode: &str, cpuset| {
            MemPolicy::for_guest(&def(&tune(mode)), cpuset)
                .unwrap()
                .map(|p| p.mode)
        };
        assert_eq!(mode_of("strict", true), None);
        assert_eq!(mode_of("strict", false), Some(MPOL_BIND));
        assert_eq!(mode_of("restrictive", false), None);
        assert_eq!(mode_of("interleave", true), Some(MPOL_INTERLEAVE));
        assert_eq!(mode_of("preferred", true), Some(MPOL_PREFERRED_MANY));
        assert_eq!(MemPolicy::for_guest(&def(""), false).unwrap(), None);
        let p = MemPolicy::with_nodes(MPOL_BIND, &[0, 65], 70).unwrap();
        assert_eq!((p.mask[0], p.mask[1]), (1, 2));
        let err = MemPolicy::with_nodes(MPOL_BIND, &[3], 0).unwrap_err();
        assert_eq!(err.message, "internal error: NUMA node 3 is out of range");
        // The current thread may take a policy on node 0 (every host has it).
        MemPolicy::with_nodes(MPOL_INTERLEAVE, &[0], 0)
            .unwrap()
            .apply()
            .unwrap();
    }
}
