//! Live migration of QEMU guests (libvirt's `qemu_migration.c`), managed
//! mode: the client runs libvirt's V3 protocol (begin, prepare, perform,
//! finish, confirm, and their `_params` forms) and each phase here does the
//! QEMU part of it.
//!
//! - [`request`]: flags and typed parameters, refused by name where QEMU
//!   cannot honour them;
//! - [`qmp`]: the QEMU 7.2 migration commands and the request → capability
//!   and parameter mapping (`qemu_migration_params.c`);
//! - [`incoming`]: the destination (QEMU with `-incoming defer`, a port of
//!   the range, `migrate-incoming`; finish resumes or discards it);
//! - [`outgoing`]: the source (begin's XML and cookie, `migrate` followed to
//!   its end, confirm ends or resumes the source QEMU);
//! - [`job`] and [`control`]: the jobs, their statistics, abort and tunables.
//!
//! The phases take what the shared engine's backend trait will ask of a
//! hypervisor (start the destination, start/stop the transfer, stats,
//! cancel, switch-over), so peer-to-peer can drive the same functions.

mod control;
mod incoming;
mod job;
mod mirror;
mod outgoing;
mod ports;
mod qmp;
mod request;
mod storage;
mod tls;
mod tunnel;

use crate::connection::QemuConnection;
use crate::driver::Driver;
use incoming::Destination;
use job::Incoming;
use outgoing::Source;
use parking_lot::Mutex;
use ports::Ports;
use request::SUPPORT;
use rvirt::driver::{
    Begin3Args, Cookie, DomainRef, FinishArgs, MigrationDriver, ParamsArgs, PerformArgs,
    PrepareArgs, StateConfig,
};
use rvirt::job::{operation, JobInfo};
use rvirt::migration::flags;
use rvirt::types::reason;
use rvirt::Stream;
use rvirt_hypervisor::incoming as incoming_engine;
use rvirt_hypervisor::source::{self as engine, Perform};
use rvirt_hypervisor::{destination, IncomingChannel};
use rvirt_hypervisor::{p2p, Jobs, Request, Target};
use rvirt_util::{Error, ErrorDomain, Result, TypedParams};
use std::collections::HashMap;
use std::sync::Arc;

/// Daemon keys (libvirt's qemu.conf names): the port range QEMU listens
/// on for incoming migrations, the address it listens on, and the host
/// name the destination gives the source.
pub const PORT_MIN_KEY: &str = "migration_port_min";
pub const PORT_MAX_KEY: &str = "migration_port_max";
pub const ADDRESS_KEY: &str = "migration_address";
pub const HOST_KEY: &str = "migration_host";
/// How a peer-to-peer source watches the destination daemon (libvirt's
/// qemu.conf keys of the same names, 5 and 5 by default).
pub const KEEPALIVE_INTERVAL_KEY: &str = "keepalive_interval";
pub const KEEPALIVE_COUNT_KEY: &str = "keepalive_count";

/// The driver's migration state.
pub struct Registry {
    /// The shared engine's job slots and outgoing migrations.
    pub jobs: Jobs,
    /// The incoming migrations prepared here, until finish.
    incoming: incoming_engine::Registry<Incoming>,
    /// Woken by QEMU's MIGRATION events, per domain, so whoever follows a
    /// migration sees a change at once.
    wakers: Mutex<HashMap<[u8; 16], Arc<tokio::sync::Notify>>>,
    ports: Ports,
    /// `migration_address`: where incoming QEMUs listen (default any).
    address: Option<String>,
    /// `migration_host`: the name the destination's URI carries.
    host: Option<String>,
    /// `keepalive_interval` and `keepalive_count` for peer-to-peer.
    keepalive: (i32, u32),
    /// The `migrate_tls_*` settings.
    tls: tls::TlsConfig,
}

fn number_setting<T: std::str::FromStr>(
    config: &StateConfig,
    key: &str,
    default: T,
    what: &str,
) -> Result<T> {
    config.setting(key).map_or(Ok(default), |v| {
        v.parse().map_err(|_| {
            Error::invalid_arg(
                ErrorDomain::QEMU,
                format!("{key} must be {what}, not '{v}'"),
            )
        })
    })
}

fn port_setting(config: &StateConfig, key: &str, default: u16) -> Result<u16> {
    number_setting(config, key, default, "a port number")
}

impl Registry {
    pub fn new(config: &StateConfig) -> Result<Registry> {
        let min = port_setting(config, PORT_MIN_KEY, ports::DEFAULT_MIN)?;
        let max = port_setting(config, PORT_MAX_KEY, ports::DEFAULT_MAX)?;
        Ok(Registry {
            jobs: Jobs::default(),
            incoming: incoming_engine::Registry::default(),
            wakers: Mutex::default(),
            ports: Ports::new(min, max)?,
            address: config.setting(ADDRESS_KEY).map(str::to_string),
            host: config.setting(HOST_KEY).map(str::to_string),
            keepalive: (
                number_setting(config, KEEPALIVE_INTERVAL_KEY, 5, "a number")?,
                number_setting(config, KEEPALIVE_COUNT_KEY, 5, "a number")?,
            ),
            tls: tls::TlsConfig::new(config)?,
        })
    }

    fn waker(&self, uuid: &[u8; 16]) -> Arc<tokio::sync::Notify> {
        self.wakers.lock().entry(*uuid).or_default().clone()
    }
}

/// `virConnectSupportsFeature` for the migration features: V3 with and
/// without params, peer-to-peer, and change protection (the client then
/// asks begin to keep its job until confirm).
pub fn supports_feature(feature: i32) -> bool {
    use rvirt::flags::feature::*;
    matches!(
        feature,
        MIGRATION_V3 | MIGRATION_PARAMS | MIGRATION_P2P | MIGRATE_CHANGE_PROTECTION
    )
}

/// QEMU said the migration changed state: wake whoever follows it.
pub fn on_migration_event(driver: &Driver, uuid: &[u8; 16]) {
    driver.migrations.waker(uuid).notify_waiters();
}

/// Why QEMU stopped the vCPUs of `uuid`, when an outgoing migration did
/// it: the pause reason and the SUSPENDED detail (`qemuProcessHandleStop`).
pub fn pause_cause(driver: &Driver, uuid: &[u8; 16]) -> Option<(i32, i32)> {
    let job = driver.migrations.jobs.slot(uuid).current()?;
    (job.operation == operation::MIGRATION_OUT).then_some((
        reason::PAUSED_MIGRATION,
        rvirt::events::lifecycle::SUSPENDED_MIGRATED,
    ))
}

/// Whether a migration job (either way) holds guest `dom` now.
pub fn migrating(driver: &Driver, dom: &DomainRef) -> bool {
    driver.migrations.jobs.slot(&dom.uuid).current().is_some()
}

/// The incoming migrations one connection prepared (libvirt ties each to
/// its preparing connection and discards it when that one closes first).
pub type Prepared = incoming_engine::PreparedBy<Incoming>;

/// The connection closes: what it prepared and nobody finished goes.
pub fn discard_prepared(driver: &Arc<Driver>, prepared: &Prepared) {
    let dest = Destination { driver };
    for inc in prepared.take_pending() {
        destination::discard_unfinished(&dest, &inc);
    }
}

fn no_xml() -> Error {
    Error::invalid_arg(ErrorDomain::QEMU, "no domain XML passed")
}

impl QemuConnection {
    fn source(&self) -> Source<'_> {
        Source {
            driver: &self.driver,
        }
    }

    fn prepare(
        &self,
        cookie_in: &[u8],
        xml: &str,
        req: &Request,
        flags: u32,
    ) -> Result<(Cookie, Option<String>)> {
        self.prepare_via(cookie_in, xml, (req, flags), None)
    }

    /// Prepare, the memory arriving over TCP or (`tunnel`) in a stream.
    fn prepare_via(
        &self,
        cookie_in: &[u8],
        xml: &str,
        (req, flags): (&Request, u32),
        tunnel: Option<&Stream>,
    ) -> Result<(Cookie, Option<String>)> {
        let dest = Destination {
            driver: &self.driver,
        };
        let channel = match tunnel {
            Some(st) => IncomingChannel::Stream(st),
            None => IncomingChannel::Tcp {
                uri_in: req.uri.as_deref(),
            },
        };
        let (cookie, uri, inc) =
            destination::prepare(&dest, cookie_in, Some(xml), req, flags, channel)?;
        self.prepared.track(inc);
        Ok((cookie, uri))
    }

    /// Finish: the engine finds the migration by name, after the ones
    /// whose QEMU died are ended.
    fn finish(
        &self,
        dname: &str,
        cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        incoming::reap_gone(&self.driver);
        let dest = Destination {
            driver: &self.driver,
        };
        destination::finish(&dest, dname, cookie_in, flags, cancelled)
    }

    /// Perform, managed (to the URI the destination prepared) or
    /// peer-to-peer (the engine drives the destination daemon).
    fn perform_to(
        &self,
        dom: &DomainRef,
        (req, flags): (&Request, u32),
        cookie_in: &[u8],
        peer: Option<&str>,
    ) -> Result<Cookie> {
        let src = self.source();
        let invalid = |text| Err(Error::invalid_arg(ErrorDomain::QEMU, text));
        match (flags & flags::PEER2PEER != 0, peer, req.uri.clone()) {
            (true, Some(peer), _) => p2p::perform(&src, dom, peer, req, flags).map(|()| Vec::new()),
            (true, None, _) => invalid("peer-to-peer migration needs a destination URI"),
            (false, ..) if flags & flags::TUNNELLED != 0 => {
                invalid("cannot perform tunnelled migration without using peer2peer flag")
            }
            (false, _, None) => invalid("migration URI is required"),
            (false, _, Some(uri)) => {
                let to = Perform::new(cookie_in, flags, req, Target::Uri(uri));
                engine::perform(&src, dom, to)
            }
        }
    }
}

/// A positional phase's request, checked.
fn legacy(
    flags: u32,
    dname: Option<&str>,
    bandwidth: u64,
    dxml: Option<&str>,
    uri: Option<&str>,
) -> Result<Request> {
    let req = Request::legacy(dname, bandwidth, dxml, uri);
    SUPPORT.check_request(flags, &req)?;
    Ok(req)
}

impl MigrationDriver for QemuConnection {
    fn domain_migrate_begin3(&self, dom: &DomainRef, a: &Begin3Args) -> Result<(Cookie, String)> {
        let req = legacy(a.flags, a.dname, a.bandwidth, a.xmlin, None)?;
        engine::begin_api(&self.source(), dom, &req, a.flags)
    }
    fn domain_migrate_prepare3(&self, a: &PrepareArgs) -> Result<(Cookie, Option<String>)> {
        let req = Request::legacy(a.dname, a.bandwidth, None, a.uri_in);
        SUPPORT.check_incoming(a.flags, &req.to_params())?;
        self.prepare(a.cookie_in, a.dom_xml, &req, a.flags)
    }
    fn domain_migrate_prepare_tunnel3(&self, st: &Stream, a: &PrepareArgs) -> Result<Cookie> {
        let req = Request::legacy(a.dname, a.bandwidth, None, None);
        SUPPORT.check_incoming(a.flags, &req.to_params())?;
        let prepared = self.prepare_via(a.cookie_in, a.dom_xml, (&req, a.flags), Some(st))?;
        Ok(prepared.0)
    }
    fn domain_migrate_perform3(&self, dom: &DomainRef, a: &PerformArgs) -> Result<Cookie> {
        let req = legacy(a.flags, a.dname, a.bandwidth, a.xmlin, a.uri)?;
        self.perform_to(dom, (&req, a.flags), a.cookie_in, a.dconnuri)
    }
    fn domain_migrate_finish3(
        &self,
        a: &FinishArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        self.finish(a.dname, a.cookie_in, a.flags, cancelled)
    }
    fn domain_migrate_confirm3(
        &self,
        dom: &DomainRef,
        _cookie_in: &[u8],
        flags: u32,
        cancelled: bool,
    ) -> Result<()> {
        engine::confirm(&self.source(), dom, flags, cancelled)
    }

    fn domain_migrate_begin3_params(
        &self,
        dom: &DomainRef,
        params: &TypedParams,
        flags: u32,
    ) -> Result<(Cookie, String)> {
        let req = SUPPORT.check(flags, params)?;
        engine::begin_api(&self.source(), dom, &req, flags)
    }
    fn domain_migrate_prepare3_params(&self, a: &ParamsArgs) -> Result<(Cookie, Option<String>)> {
        let req = SUPPORT.check_incoming(a.flags, a.params)?;
        let xml = req.dxml.clone().ok_or_else(no_xml)?;
        self.prepare(a.cookie_in, &xml, &req, a.flags)
    }
    fn domain_migrate_prepare_tunnel3_params(&self, st: &Stream, a: &ParamsArgs) -> Result<Cookie> {
        let req = SUPPORT.check_incoming(a.flags, a.params)?;
        let xml = req.dxml.clone().ok_or_else(no_xml)?;
        let prepared = self.prepare_via(a.cookie_in, &xml, (&req, a.flags), Some(st))?;
        Ok(prepared.0)
    }
    fn domain_migrate_perform3_params(
        &self,
        dom: &DomainRef,
        dconnuri: Option<&str>,
        a: &ParamsArgs,
    ) -> Result<Cookie> {
        let req = SUPPORT.check(a.flags, a.params)?;
        self.perform_to(dom, (&req, a.flags), a.cookie_in, dconnuri)
    }
    fn domain_migrate_finish3_params(
        &self,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<(DomainRef, Cookie)> {
        let dname = a
            .params
            .get_string(rvirt::migration::params::DEST_NAME)
            .ok_or_else(|| Error::invalid_arg(ErrorDomain::QEMU, "missing destination name"))?;
        self.finish(dname, a.cookie_in, a.flags, cancelled)
    }
    fn domain_migrate_confirm3_params(
        &self,
        dom: &DomainRef,
        a: &ParamsArgs,
        cancelled: bool,
    ) -> Result<()> {
        engine::confirm(&self.source(), dom, a.flags, cancelled)
    }
    fn domain_get_job_info(&self, dom: &DomainRef) -> Result<JobInfo> {
        Ok(SUPPORT.job_info(&*control::slot(&self.driver, dom)?))
    }
    fn domain_get_job_stats(&self, dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        control::job_stats(&self.driver, dom, flags)
    }
    fn domain_abort_job(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        SUPPORT.abort_job(&*control::slot(&self.driver, dom)?, flags)
    }
    fn domain_migrate_set_max_speed(
        &self,
        dom: &DomainRef,
        bandwidth: u64,
        flags: u32,
    ) -> Result<()> {
        control::set_max_speed(&self.driver, dom, bandwidth, flags)
    }
    fn domain_migrate_get_max_speed(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        SUPPORT.get_max_speed(&*control::slot(&self.driver, dom)?, flags)
    }
    fn domain_migrate_set_max_downtime(&self, dom: &DomainRef, ms: u64, flags: u32) -> Result<()> {
        control::set_max_downtime(&self.driver, dom, ms, flags)
    }
    fn domain_migrate_get_max_downtime(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        control::get_max_downtime(&self.driver, dom, flags)
    }
    fn domain_migrate_start_post_copy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        control::start_post_copy(&self.driver, dom, flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn config(pairs: &[(&str, &str)]) -> StateConfig {
        StateConfig {
            host_uuid: None,
            settings: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_port_range_and_address_come_from_the_configuration() {
        let reg = Registry::new(&config(&[
            (PORT_MIN_KEY, "49250"),
            (PORT_MAX_KEY, "49251"),
            (ADDRESS_KEY, "10.1.2.3"),
        ]))
        .unwrap();
        let port = reg.ports.acquire().unwrap();
        assert!((49250..=49251).contains(&port));
        assert_eq!(reg.address.as_deref(), Some("10.1.2.3"));
        let e = Registry::new(&config(&[(PORT_MIN_KEY, "lots")]))
            .err()
            .unwrap();
        assert!(e.message.contains("migration_port_min"), "{}", e.message);
        assert!(supports_feature(rvirt::flags::feature::MIGRATION_P2P));
        assert!(!supports_feature(rvirt::flags::feature::MIGRATION_V2));
    }
}
