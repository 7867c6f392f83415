//! `conf`: libvirt's XML documents (domain definitions, capabilities),
//! parsed and formatted byte-for-byte as libvirt does.

pub mod capabilities;
pub mod checkpoint;
pub mod domain;
pub mod host_iface;
pub mod migration_cookie;
pub mod network;
pub mod nodedev;
pub mod nwfilter;
pub mod qemu_cookie;
pub mod secret;
pub mod snapshot;
pub mod storage;
pub mod xml;

pub use capabilities::Capabilities;
pub use domain::{DomainDef, FormatOptions};
pub use migration_cookie::MigrationCookie;
pub use qemu_cookie::QemuMigrationCookie;
pub use snapshot::SnapshotDef;
