//! `virCgroupV2DevicesAvailable`: whether the kernel lets this daemon
//! query (and so attach) device programs on a cgroup2 hierarchy. Where it
//! does, libvirt gives the devices controller to cgroup2 and never uses
//! the v1 devices hierarchy.

use std::os::fd::AsRawFd;
use std::path::Path;

const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_CGROUP_DEVICE: u32 = 6;

/// The `query` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
    prog_attach_flags: u64,
}

/// `BPF_PROG_QUERY` for device programs on the group at `dir` succeeds.
pub fn devices_available(dir: &Path) -> bool {
    let Ok(group) = std::fs::File::open(dir) else {
        return false;
    };
    let mut attr = QueryAttr {
        target_fd: group.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..QueryAttr::default()
    };
    // SAFETY: bpf(2) reads and writes `attr`, a live, properly sized
    // bpf_attr prefix; the kernel zero-extends the rest of the union.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_QUERY,
            &mut attr as *mut QueryAttr,
            std::mem::size_of::<QueryAttr>(),
        )
    };
    if rc < 0 {
        tracing::debug!(
            "failed to query cgroup progs: {}",
            std::io::Error::last_os_error()
        );
    }
    rc == 0
}
