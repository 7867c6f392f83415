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
//! - [`postcopy_in`]: the destination during post-copy (its end, or a
//!   failure that keeps the guest);
//! - [`outgoing`]: the source (begin's XML and cookie, `migrate` followed to
//!   its end, confirm ends or resumes the source QEMU);
//! - [`resume`]: QEMU's part of recovering a failed post-copy migration;
//! - [`job`] and [`control`]: the jobs, their statistics, abort and tunables.
//!
//! The phases take what the shared engine's backend trait will ask of a
//! hypervisor (start the destination, start/stop the transfer, stats,
//! cancel, switch-over), so peer-to-peer can drive the same functions.

mod bitmap_merge;
mod bitmaps;
mod control;
mod incoming;
mod job;
mod mirror;
mod outgoing;
mod ports;
mod postcopy_in;
mod qmp;
mod request;
mod resume;
pub(crate) mod storage;
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
use rvirt::driver::{Cookie, DomainRef, FinishArgs, MigrationDriver, StateConfig};
use rvirt::job::operation;
use rvirt::migration::flags;
use rvirt::types::{reason, DomainState};
use rvirt_hypervisor::calls::JobCalls;
use rvirt_hypervisor::incoming as incoming_engine;
use rvirt_hypervisor::job::DomainJob;
use rvirt_hypervisor::phases::{self, Checked, V3Phases};
use rvirt_hypervisor::source::{self as engine, Perform};
use rvirt_hypervisor::MigrationSupport;
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
    /// Why an incoming migration's QEMU went away, by guest name, until
    /// its finish reports it (libvirt's `migrationErrors`).
    errors: Mutex<HashMap<String, Error>>,
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
            errors: Mutex::default(),
        })
    }

    /// Keep why the incoming migration of `name` ended (the last error
    /// wins, as `qemuMigrationDstErrorSave`).
    pub fn save_error(&self, name: &str, err: Error) {
        self.errors.lock().insert(name.to_string(), err);
    }

    pub fn take_error(&self, name: &str) -> Option<Error> {
        self.errors.lock().remove(name)
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

/// QEMU completed a migration: one whose job was left as failed post-copy
/// (nobody follows its transfer any more) ends as libvirt's unattended
/// migration handler ends it, outside the event task.
pub fn on_migration_completed(driver: &Arc<Driver>, uuid: [u8; 16]) {
    let job = driver.migrations.jobs.slot(&uuid).current();
    if job.is_some_and(|j| j.is_postcopy_failed()) {
        let driver = driver.clone();
        std::thread::spawn(move || resume::completed_unattended(&driver, &uuid));
    }
}

/// Why QEMU stopped the vCPUs of `uuid`, when an outgoing migration did
/// it: the pause reason and the SUSPENDED detail (`qemuProcessHandleStop`).
pub fn pause_cause(driver: &Driver, uuid: &[u8; 16]) -> Option<(i32, i32)> {
    use rvirt::events::lifecycle as ev;
    let job = driver.migrations.jobs.slot(uuid).current()?;
    if job.operation != operation::MIGRATION_OUT {
        return None;
    }
    // The transfer may see QEMU in post-copy before this STOP is read:
    // its `mark_postcopy` then found the guest still running.
    Some(match job.in_postcopy() {
        true => (reason::PAUSED_POSTCOPY, ev::SUSPENDED_POSTCOPY),
        false => (reason::PAUSED_MIGRATION, ev::SUSPENDED_MIGRATED),
    })
}

/// The guest's CPUs stopped: an outgoing migration's job keeps the time
/// (libvirt's `qemuProcessHandleStop`), which its cookie sends on as
/// `stopped`, so the destination's downtime starts there and not at the
/// end of a tunnel's drain.
pub fn note_source_stop(driver: &Driver, uuid: &[u8; 16]) {
    let Some(job) = driver.migrations.jobs.slot(uuid).current() else {
        return;
    };
    if job.operation == operation::MIGRATION_OUT {
        let now = rvirt_hypervisor::times::now_ms();
        job.update(|p| {
            p.times.stopped.get_or_insert(now);
        });
    }
}

/// The source's guest after the switch to post-copy: paused (post-copy),
/// or once that failed, paused (post-copy failed); libvirt's
/// `qemuProcessHandleMigrationStatus` and `qemuMigrationSrcPostcopyFailed`.
pub fn mark_postcopy(driver: &Driver, dom: &DomainRef, failed: bool) {
    use rvirt::events::lifecycle as ev;
    let (from, to, detail) = match failed {
        false => (
            reason::PAUSED_MIGRATION,
            reason::PAUSED_POSTCOPY,
            ev::SUSPENDED_POSTCOPY,
        ),
        true => (
            reason::PAUSED_POSTCOPY,
            reason::PAUSED_POSTCOPY_FAILED,
            ev::SUSPENDED_POSTCOPY_FAILED,
        ),
    };
    let now = {
        let mut domains = driver.domains.lock();
        let Ok(obj) = domains.get_mut(dom) else {
            return;
        };
        let paused = obj.state == DomainState::Paused;
        if !paused || (obj.reason != from && !failed) || obj.reason == to {
            return;
        }
        if failed {
            tracing::warn!(
                "Migration of domain {} failed during post-copy; leaving the domain paused",
                dom.name
            );
        }
        obj.reason = to;
        crate::lifecycle::save_status(driver, obj);
        obj.domain_ref()
    };
    driver.emit_lifecycle(&now, ev::SUSPENDED, detail);
}

/// The guest stopped: a migration job kept for a post-copy resume ends.
pub fn forget_failed_postcopy(driver: &Driver, uuid: &[u8; 16]) {
    driver.migrations.jobs.forget_failed_postcopy(uuid);
}

/// A restarted daemon re-attached guest `uuid`: one caught in post-copy
/// gets its migration job back, as failed post-copy.
/// Whether a guest in `state` for `why` is in a post-copy migration (either
/// way), failed or not.
pub fn in_postcopy(state: DomainState, why: i32) -> bool {
    matches!(
        (state, why),
        (
            DomainState::Running,
            reason::RUNNING_POSTCOPY | reason::RUNNING_POSTCOPY_FAILED
        ) | (
            DomainState::Paused,
            reason::PAUSED_POSTCOPY | reason::PAUSED_POSTCOPY_FAILED
        )
    )
}

pub fn adopt_postcopy(driver: &Arc<Driver>, uuid: &[u8; 16]) {
    resume::adopt(driver, uuid);
}

/// Whether a migration job (either way) holds guest `dom` now.
/// With `VIR_MIGRATE_TLS`, the objects `end`'s QEMU gets for the guest
/// `dom` (its key passphrase encrypted with the guest's master key).
pub fn tls_objects(
    driver: &Driver,
    dom: &DomainRef,
    flags: u32,
    end: tls::Endpoint,
) -> Result<Option<tls::TlsObjects>> {
    if flags & flags::TLS == 0 {
        return Ok(None);
    }
    let (id, name) = {
        let domains = driver.domains.lock();
        let obj = domains.get(dom)?;
        (obj.id, obj.def.name.clone())
    };
    let key = crate::command::master_key_in(&driver.dirs.domain_lib(id, &name));
    driver.migrations.tls.objects(end, &key).map(Some)
}

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

impl QemuConnection {
    fn source(&self) -> Source<'_> {
        Source {
            driver: &self.driver,
        }
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

/// The V3 phases: the engine's steps over QEMU's source and destination.
impl V3Phases for QemuConnection {
    fn error_domain(&self) -> ErrorDomain {
        ErrorDomain::QEMU
    }
    fn check_source(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        SUPPORT.check(flags, params)
    }
    fn check_incoming(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        SUPPORT.check_incoming(flags, params)
    }
    fn begin(&self, dom: &DomainRef, req: &Request, flags: u32) -> Result<(Cookie, String)> {
        engine::begin_api(&self.source(), dom, req, flags)
    }
    fn prepare(&self, xml: &str, c: Checked, channel: IncomingChannel) -> Result<phases::Prepared> {
        let dest = Destination {
            driver: &self.driver,
        };
        let (cookie, uri, inc) =
            destination::prepare(&dest, c.cookie_in, Some(xml), c.req, c.flags, channel)?;
        self.prepared.track(inc);
        Ok((cookie, uri))
    }
    fn perform(&self, dom: &DomainRef, c: Checked, dconnuri: Option<&str>) -> Result<Cookie> {
        self.perform_to(dom, (c.req, c.flags), c.cookie_in, dconnuri)
    }
    /// The engine finds the migration by name, after the ones whose QEMU
    /// died are ended.
    fn finish(&self, a: &FinishArgs, cancelled: bool) -> Result<(DomainRef, Cookie)> {
        incoming::reap_gone(&self.driver);
        let dest = Destination {
            driver: &self.driver,
        };
        destination::finish(&dest, a.dname, a.cookie_in, a.flags, cancelled)
    }
    fn confirm(&self, dom: &DomainRef, cookie: &[u8], flags: u32, cancelled: bool) -> Result<()> {
        engine::confirm_with(&self.source(), dom, (cookie, flags), cancelled)
    }
}

/// The job entries: what changes a running migration also reaches QEMU.
impl JobCalls for QemuConnection {
    fn job_rules(&self) -> &MigrationSupport {
        &SUPPORT
    }
    fn job_slot(&self, dom: &DomainRef) -> Result<Arc<DomainJob>> {
        control::slot(&self.driver, dom)
    }
    fn job_stats(&self, dom: &DomainRef, flags: u32) -> Result<(i32, TypedParams)> {
        control::job_stats(&self.driver, dom, flags)
    }
    fn abort_job(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        control::abort_job(&self.driver, dom, flags)
    }
    fn set_max_speed(&self, dom: &DomainRef, mib: u64, flags: u32) -> Result<()> {
        control::set_max_speed(&self.driver, dom, mib, flags)
    }
    fn set_max_downtime(&self, dom: &DomainRef, ms: u64, flags: u32) -> Result<()> {
        control::set_max_downtime(&self.driver, dom, ms, flags)
    }
    fn get_max_downtime(&self, dom: &DomainRef, flags: u32) -> Result<u64> {
        control::get_max_downtime(&self.driver, dom, flags)
    }
    fn start_post_copy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        control::start_post_copy(&self.driver, dom, flags)
    }
}

impl MigrationDriver for QemuConnection {
    rvirt_hypervisor::migration_v3_slots!();

    rvirt_hypervisor::migration_job_slots!();
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
