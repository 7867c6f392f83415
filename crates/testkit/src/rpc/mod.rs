//! Raw RPC for tests that must do what no well-behaved client does:
//! [`rpc_client`] encodes with rvirt-rpc's own types, [`wire`] builds
//! packets byte by byte.

pub mod rpc_client;
pub mod wire;
