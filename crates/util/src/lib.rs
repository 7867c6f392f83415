//! `util`: what every other rvirt crate shares, as libvirt's `src/util/` does.
//!
//! Nothing here knows about drivers or XML documents; it is the vocabulary
//! (errors with libvirt's numbers, URIs, UUIDs, units, typed parameters) that
//! the public API, `conf`, the drivers and the RPC layer all speak.

pub mod base64;
pub mod c_enum;
pub mod error;
pub mod host;
pub mod log_line;
pub mod logging;
pub mod names;
pub mod object_files;
pub mod splice;
pub mod typed_param;
pub mod units;
pub mod uri;
pub mod uuid;

pub use error::{Error, ErrorCode, ErrorDomain, ErrorLevel, Result};
pub use typed_param::{TypedParam, TypedParamType, TypedParamValue, TypedParams};
pub use uri::Uri;
