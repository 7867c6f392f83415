//! rvirtd: rvirt's daemon, wire-compatible with libvirtd 9.0 so stock
//! `virsh` and python3-libvirt drive it unchanged.
//!
//! Shaped like tokio's mini-redis: [`server`] owns the listeners, bounds the
//! number of clients and shuts down on a signal; [`session`] runs one client
//! (framing in [`framing`], keepalive, an ordered call queue, a writer);
//! [`dispatch`] turns one message into its reply through a declarative
//! procedure table; [`config`] reads libvirtd.conf.

pub mod admin;
pub mod auth;
pub mod clients;
pub mod config;
pub mod dispatch;
pub mod framing;
pub mod outbox;
pub mod pool;
pub mod server;
pub mod session;
pub mod tls;

pub use config::Config;
