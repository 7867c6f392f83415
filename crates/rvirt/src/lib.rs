//! rvirt's public API: what a program (rvirsh, rvirtd, a Rust client) calls,
//! with libvirt's shape: [`Connect::open`] by URI, [`Domain`] handles,
//! typed parameters and libvirt-numbered errors.
//!
//! Drivers live in their own crates and register themselves through
//! [`registry::register`]; this crate only defines the traits they implement
//! ([`driver::ConnectDriver`], [`driver::HypervisorConnection`]), so a driver
//! can never depend on another one.

pub mod checkpoint;
pub mod connect;
mod device_calls;
pub mod domain;
pub mod driver;
pub mod events;
pub mod events_network;
pub mod events_nodedev;
pub mod events_object;
pub mod flags;
mod forward;
mod guest_calls;
mod handle;
mod host_calls;
pub mod interface;
pub mod job;
pub mod migration;
pub mod network;
pub mod nodedev;
pub mod nwfilter_binding;
pub mod registry;
mod save_calls;
pub mod secret;
pub mod snapshot;
pub mod storage;
pub mod stream;
mod tuning;
pub mod types;

pub use checkpoint::DomainCheckpoint;
pub use connect::Connect;
pub use domain::Domain;
pub use driver::{ConnectDriver, DomainRef, HypervisorConnection, MigrationDriver, StateConfig};
pub use events::{DomainEvent, EventCallback};
pub use interface::Interface;
pub use job::JobInfo;
pub use network::{NWFilter, Network};
pub use nodedev::NodeDevice;
pub use nwfilter_binding::NWFilterBinding;
pub use rvirt_util::{
    Error, ErrorCode, ErrorDomain, ErrorLevel, Result, TypedParam, TypedParamType, TypedParamValue,
    TypedParams, Uri,
};
pub use secret::Secret;
pub use snapshot::DomainSnapshot;
pub use storage::{StoragePool, StorageVol};
pub use stream::{Stream, StreamBackend};
pub use types::{DomainInfo, DomainState, NodeInfo, SecurityLabel, SecurityModel};

/// The library version reported by `virConnectGetLibVersion`
/// (major * 1,000,000 + minor * 1,000 + release). rvirt reports the libvirt
/// release whose contract it implements, so clients' feature checks work.
pub const LIB_VERSION: u64 = 9_000_000;
