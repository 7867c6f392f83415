//! rvirt's test kit (dev-only): what the process-level tests of every crate
//! share, so no test file starts daemons or runs tools its own way.
//!
//! - [`ports`]: free TCP ports; [`dirs`]: temporary directories removed on drop.
//! - [`bins`]: the workspace's own binaries (rvirtd, rvirsh) for any crate's tests.
//! - [`corpus`]: libvirt 9.0.0's test documents, fetched through apt at test time.
//! - [`process`]: a daemon process the kit started: PID, log, stopped by PID on drop.
//! - [`daemon`]: rvirtd and a stock libvirtd with a config, stopped by PID on drop.
//! - [`hosts`]: rvirtd "hosts" in their own UTS (and, on request, network)
//!   namespaces, for migration tests.
//! - [`tools`]: stock virsh, virt-admin, rvirsh and python3-libvirt; named output
//!   normalisations and a readable comparison.
//! - [`libvirt_python`]: libvirt-python 9.0.0's own test suite, fetched from PyPI at test time.
//! - [`held`]: a python3-libvirt client holding a connection, probed on demand.
//! - [`nodedev_cases`]: node device, interface and secret cases (issue 18).
//! - [`spine`]: the spine's virsh comparison cases and their XML fixtures.
//! - [`rpc`]: raw RPC clients for tests that misbehave on the wire.
//! - [`guest`]: the QEMU test guest (Debian cloud kernel + busybox initramfs).
//! - [`pki`]: a CA, server and client certificates (and refused ones) made with certtool.
//! - [`qemu_dirs`]: rvirtd's QEMU driver directories for a test, guests killed on drop.
//! - [`qemu_hosts`]: two rvirtd hosts in namespaces and the test guest QEMU migration moves.
//! - [`libvirtd_host`]: a stock libvirtd host in namespaces, beside or instead of rvirtd hosts.
//! - [`migration_host`]: what the migration helpers need of either kind of host.
//! - [`qemu_events`]: QEMU's own timings of a migration, from a second QMP monitor.
//! - [`wait`]: polling with a deadline, failing with the state seen last.

pub mod bins;
pub mod cgroups;
pub mod corpus;
pub mod daemon;
pub mod dirs;
pub mod guest;
pub mod held;
pub mod hosts;
pub mod libvirt_python;
pub mod libvirtd_host;
pub mod libvirtd_qemu;
pub mod live_tls;
pub mod migration_host;
pub mod network_dirs;
pub mod nodedev_cases;
pub mod normalise;
pub mod pki;
pub mod ports;
pub mod process;
pub mod qemu_dirs;
pub mod qemu_events;
pub mod qemu_hosts;
pub mod qemu_postcopy;
pub mod qemu_storage;
pub mod rpc;
pub mod sasl;
pub mod schema;
pub mod snapshot_cases;
pub mod spine;
pub mod tools;
pub mod wait;
