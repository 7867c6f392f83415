//! rvirt's test kit (dev-only): what the process-level tests of every crate
//! share, so no test file starts daemons or runs tools its own way.
//!
//! - [`ports`]: free TCP ports; [`dirs`]: temporary directories removed on drop.
//! - [`bins`]: the workspace's own binaries (rvirtd, rvirsh) for any crate's tests.
//! - [`corpus`]: libvirt 9.0.0's test documents, fetched through apt at test time.
//! - [`daemon`]: rvirtd and a stock libvirtd with a config, stopped by PID on drop.
//! - [`hosts`]: rvirtd "hosts" in their own UTS (and, on request, network)
//!   namespaces, for migration tests.
//! - [`tools`]: stock virsh, virt-admin, rvirsh and python3-libvirt; named output
//!   normalisations and a readable comparison.
//! - [`held`]: a python3-libvirt client holding a connection, probed on demand.
//! - [`spine`]: the spine's virsh comparison cases and their XML fixtures.
//! - [`rpc`]: raw RPC clients for tests that misbehave on the wire.
//! - [`guest`]: the QEMU test guest (Debian cloud kernel + busybox initramfs).

pub mod bins;
pub mod corpus;
pub mod daemon;
pub mod dirs;
pub mod guest;
pub mod held;
pub mod hosts;
pub mod libvirtd_qemu;
pub mod ports;
pub mod rpc;
pub mod spine;
pub mod tools;
