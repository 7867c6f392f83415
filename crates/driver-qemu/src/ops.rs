//! The API calls that change a guest: each under the guest's job, with
//! the persistent files written before the change is acknowledged.

use crate::command;
use crate::driver::Driver;
use crate::files;
use crate::lifecycle::{self, accel_for, emulator, StartRequest};
use crate::state::{DomainObj, Domains};
use rvirt::driver::DomainRef;
use rvirt::events::lifecycle as ev;
use rvirt::types::{reason, DomainState};
use rvirt_conf::{DomainDef, FormatOptions};
use rvirt_util::object_files::ObjectFiles;
use rvirt_util::{Error, ErrorDomain, Result};
use std::sync::Arc;

/// Run `f` holding `dom`'s job (libvirt's `qemuDomainObjBeginJob`).
pub fn with_job<R>(driver: &Driver, dom: &DomainRef, f: impl FnOnce() -> Result<R>) -> Result<R> {
    let job = driver.domains.lock().get(dom)?.job.clone();
    let _held = crate::state::acquire_job(&job)?;
    f()
}

/// Parse and complete a definition as the QEMU driver does on define:
/// machine canonicalised, implicit devices and addresses added, virt type
/// checked against the emulator.
fn prepare(driver: &Driver, xml: &str) -> Result<DomainDef> {
    let mut def = DomainDef::parse(xml)?;
    rvirt_conf::domain::check_illegal_chars("name", &def.name, "\n")?;
    let caps = driver.caps(&emulator(&def))?;
    accel_for(&def, &caps)?;
    command::prepare_definition(&mut def, &caps)?;
    Ok(def)
}

fn config_xml(def: &DomainDef) -> String {
    def.format(&FormatOptions {
        id: None,
        inactive: true,
        secure: false,
    })
}

pub fn define(driver: &Driver, xml: &str) -> Result<DomainRef> {
    let def = prepare(driver, xml)?;
    // The file is on disk before the guest is acknowledged: a definition
    // a client saw succeed survives a daemon crash.
    let (dom, existed) = {
        let mut domains = driver.domains.lock();
        let existed = domains.admit(&def, false)?;
        files::write_atomic(
            &driver.dirs.config_file(&def.name),
            config_xml(&def).as_bytes(),
        )?;
        let obj = domains.store(def, false);
        obj.persistent = true;
        (obj.domain_ref(), existed)
    };
    driver.emit_defined(&dom, existed);
    Ok(dom)
}

/// `dom` when it has a persistent configuration, else libvirt's refusal
/// to `what` ("undefine", "set autostart for") a transient domain.
fn persistent<'a>(
    domains: &'a mut Domains,
    dom: &DomainRef,
    what: &str,
) -> Result<&'a mut DomainObj> {
    let obj = domains.get_mut(dom)?;
    if obj.persistent {
        return Ok(obj);
    }
    Err(Error::operation_invalid(
        ErrorDomain::QEMU,
        format!("cannot {what} transient domain"),
    ))
}

pub fn undefine(driver: &Driver, dom: &DomainRef) -> Result<()> {
    with_job(driver, dom, || {
        let gone = {
            let mut domains = driver.domains.lock();
            let obj = persistent(&mut domains, dom, "undefine")?;
            files::remove(&driver.dirs.autostart_link(&obj.def.name))?;
            files::remove(&driver.dirs.config_file(&obj.def.name))?;
            let r = obj.domain_ref();
            if obj.is_active() {
                obj.persistent = false;
                obj.autostart = false;
                obj.new_def = None;
            } else {
                domains.remove(&dom.uuid);
            }
            r
        };
        driver.emit_lifecycle(&gone, ev::UNDEFINED, ev::UNDEFINED_REMOVED);
        Ok(())
    })
}

/// `virDomainCreateXML`: a transient guest (or a persistent one's live
/// definition) started now; on failure a new transient guest is gone.
pub fn create_xml(driver: &Arc<Driver>, xml: &str, paused: bool) -> Result<DomainRef> {
    let def = prepare(driver, xml)?;
    let (dom, existed) = {
        let mut domains = driver.domains.lock();
        let existed = domains.admit(&def, true)?;
        (domains.store(def, true).domain_ref(), existed)
    };
    let started = with_job(driver, &dom, || {
        lifecycle::start(driver, &dom, StartRequest { paused })
    });
    if started.is_err() {
        let mut domains = driver.domains.lock();
        if let Ok(obj) = domains.get_mut(&dom) {
            if !existed && !obj.persistent {
                domains.remove(&dom.uuid);
            } else if let Some(config) = obj.new_def.take() {
                obj.def = config;
            }
        }
    }
    started
}

pub fn destroy(driver: &Arc<Driver>, dom: &DomainRef, graceful: bool) -> Result<()> {
    with_job(driver, dom, || {
        lifecycle::stop(
            driver,
            dom,
            reason::SHUTOFF_DESTROYED,
            ev::STOPPED_DESTROYED,
            graceful,
        )
    })
}

/// The running guest's QEMU, or libvirt's error for an inactive one.
pub(crate) fn running(driver: &Driver, dom: &DomainRef) -> Result<Arc<crate::state::Running>> {
    let domains = driver.domains.lock();
    domains
        .get(dom)?
        .run
        .clone()
        .ok_or_else(|| Error::operation_invalid(ErrorDomain::QEMU, "domain is not running"))
}

/// Send one command to the guest's monitor, under its job.
pub fn monitor_command<C>(driver: &Driver, dom: &DomainRef, command: C) -> Result<()>
where
    C: qapi::Command + 'static,
{
    with_job(driver, dom, || {
        let run = running(driver, dom)?;
        driver
            .rt
            .run(async move { run.monitor.execute(command).await.map(|_| ()) })
    })
}

/// qemuDomainShutdownFlags / qemuDomainReboot: through the guest agent
/// when asked (GUEST_AGENT = 2), or without flags when the guest's agent
/// is connected; then, unless the agent alone was asked for, through the
/// monitor (ACPI_POWER_BTN = 1): the power button, or a reset to reboot.
pub fn shutdown_or_reboot(
    driver: &Driver,
    dom: &DomainRef,
    flags: u32,
    reboot: bool,
) -> Result<()> {
    const ACPI: u32 = 1;
    const AGENT: u32 = 2;
    let use_agent = flags & AGENT != 0 || (flags == 0 && crate::agent::connected(driver, dom));
    if use_agent {
        let forced = flags & ACPI == 0 && flags & AGENT != 0;
        match crate::agent::shutdown(driver, dom, reboot) {
            Ok(()) => return Ok(()),
            Err(e) if forced => return Err(e),
            // The guest may have gone by itself meanwhile.
            Err(_) if !driver.domains.lock().get(dom)?.is_active() => return Ok(()),
            Err(_) => {}
        }
    }
    if reboot {
        monitor_command(driver, dom, qapi::qmp::system_reset {})
    } else {
        monitor_command(driver, dom, qapi::qmp::system_powerdown {})
    }
}

/// `virDomainQemuMonitorCommand`: a command of the caller's, as QMP JSON
/// or (`hmp`) a human-monitor line, under the guest's job. libvirt marks
/// such a guest tainted (`custom-monitor`): QEMU's state may now differ
/// from what the driver knows. libvirt's is a query job, which a
/// migration (an async job there) lets through: so here too, while the
/// guest migrates, without waiting for the migration's hold on the guest.
pub fn arbitrary_command(driver: &Driver, dom: &DomainRef, cmd: &str, hmp: bool) -> Result<String> {
    if crate::migration::migrating(driver, dom) {
        return send_arbitrary(driver, dom, cmd, hmp);
    }
    with_job(driver, dom, || send_arbitrary(driver, dom, cmd, hmp))
}

fn send_arbitrary(driver: &Driver, dom: &DomainRef, cmd: &str, hmp: bool) -> Result<String> {
    let run = running(driver, dom)?;
    tracing::warn!(
        "Domain id={} name='{}' uuid={} is tainted: custom-monitor",
        dom.id,
        dom.name,
        dom.uuid_string()
    );
    let cmd = cmd.to_string();
    driver.rt.run(async move {
        if hmp {
            let line = qapi::qmp::human_monitor_command {
                command_line: cmd,
                cpu_index: None,
            };
            run.monitor.execute(line).await
        } else {
            run.monitor.execute_arbitrary(&cmd).await
        }
    })
}

/// Pause or unpause: the monitor command, then the state and the event
/// (the matching QMP event then finds the state already set).
fn pause_or_resume(driver: &Driver, dom: &DomainRef, pause: bool) -> Result<()> {
    with_job(driver, dom, || {
        let run = running(driver, dom)?;
        let state = driver.domains.lock().get(dom)?.state;
        match (pause, state) {
            (true, DomainState::Paused) => return Ok(()),
            (false, DomainState::Running) => {
                return Err(Error::operation_invalid(
                    ErrorDomain::QEMU,
                    "domain is already running",
                ))
            }
            _ => {}
        }
        let token = run.token;
        if !pause {
            crate::macvtap::set_online_for(driver, dom, true)?;
        }
        run.expect_own(pause);
        let sent = run.clone();
        let done = driver.rt.run(async move {
            if pause {
                sent.monitor.execute(qapi::qmp::stop {}).await.map(|_| ())
            } else {
                sent.monitor.execute(qapi::qmp::cont {}).await.map(|_| ())
            }
        });
        if let Err(e) = done {
            run.failed_own(pause);
            return Err(e);
        }
        if pause {
            // qemuProcessStopCPUs ignores a failure here.
            let _ = crate::macvtap::set_online_for(driver, dom, false);
        }
        let (to, why, event, detail) = if pause {
            (
                DomainState::Paused,
                reason::PAUSED_USER,
                ev::SUSPENDED,
                ev::SUSPENDED_PAUSED,
            )
        } else {
            (
                DomainState::Running,
                reason::RUNNING_UNPAUSED,
                ev::RESUMED,
                ev::RESUMED_UNPAUSED,
            )
        };
        let changed = {
            let mut domains = driver.domains.lock();
            let obj = domains.get_mut(dom)?;
            let ours = obj.run.as_ref().map(|r| r.token) == Some(token);
            let changed = ours && obj.state != to;
            if ours {
                obj.state = to;
                obj.reason = why;
                lifecycle::save_status(driver, obj);
            }
            changed.then(|| obj.domain_ref())
        };
        if let Some(r) = changed {
            driver.emit_lifecycle(&r, event, detail);
        }
        Ok(())
    })
}

pub fn suspend(driver: &Driver, dom: &DomainRef) -> Result<()> {
    pause_or_resume(driver, dom, true)
}

pub fn resume(driver: &Driver, dom: &DomainRef) -> Result<()> {
    pause_or_resume(driver, dom, false)
}

/// `virDomainSetAutostart`: a link in config/autostart, as libvirt keeps it.
pub fn set_autostart(driver: &Driver, dom: &DomainRef, autostart: bool) -> Result<()> {
    with_job(driver, dom, || {
        let mut domains = driver.domains.lock();
        let obj = persistent(&mut domains, dom, "set autostart for")?;
        let link = driver.dirs.autostart_link(&obj.def.name);
        if autostart {
            files::remove(&link)?;
            std::os::unix::fs::symlink(driver.dirs.config_file(&obj.def.name), &link).map_err(
                |e| {
                    Error::system(
                        ErrorDomain::QEMU,
                        format!("Failed to create symlink '{}'", link.display()),
                        &e,
                    )
                },
            )?;
        } else {
            files::remove(&link)?;
        }
        obj.autostart = autostart;
        Ok(())
    })
}

/// `virDomainSetMemoryFlags`: the balloon target of the running guest
/// (AFFECT_LIVE = 1) and/or the configuration's current memory
/// (AFFECT_CONFIG = 2); MEM_MAXIMUM = 4 changes the configured maximum.
pub fn set_memory(driver: &Driver, dom: &DomainRef, kib: u64, flags: u32) -> Result<()> {
    const LIVE: u32 = 1;
    const CONFIG: u32 = 2;
    const MAXIMUM: u32 = 4;
    with_job(driver, dom, || {
        let (active, max_live) = {
            let domains = driver.domains.lock();
            let obj = domains.get(dom)?;
            (obj.is_active(), obj.def.memory_kib)
        };
        // VIR_DOMAIN_AFFECT_CURRENT (0): live when running, else config.
        let flags = match flags & (LIVE | CONFIG) {
            0 if active => flags | LIVE,
            0 => flags | CONFIG,
            _ => flags,
        };
        if flags & LIVE != 0 && !active {
            return Err(Error::operation_invalid(
                ErrorDomain::QEMU,
                "domain is not running",
            ));
        }
        if flags & MAXIMUM != 0 {
            if flags & LIVE != 0 {
                return Err(Error::new(
                    ErrorDomain::QEMU,
                    rvirt_util::ErrorCode::CONFIG_UNSUPPORTED,
                    "cannot resize the maximum memory on an active domain",
                ));
            }
            return update_config(driver, dom, |def| {
                def.memory_kib = kib;
                def.current_memory_kib = def.current_memory_kib.min(kib);
            });
        }
        if flags & LIVE != 0 {
            if kib > max_live {
                return Err(Error::invalid_arg(
                    ErrorDomain::QEMU,
                    "cannot set memory higher than max memory",
                ));
            }
            let run = running(driver, dom)?;
            let bytes = i64::try_from(kib.saturating_mul(1024)).unwrap_or(i64::MAX);
            driver.rt.run(async move {
                let target = qapi::qmp::balloon { value: bytes };
                run.monitor.execute(target).await.map(|_| ())
            })?;
            let mut domains = driver.domains.lock();
            let obj = domains.get_mut(dom)?;
            obj.def.current_memory_kib = kib;
            lifecycle::save_status(driver, obj);
        }
        if flags & CONFIG != 0 {
            update_config(driver, dom, |def| {
                def.current_memory_kib = kib.min(def.memory_kib)
            })?;
        }
        Ok(())
    })
}

/// Change the persistent configuration with `change` and write it.
pub(crate) fn update_config(
    driver: &Driver,
    dom: &DomainRef,
    change: impl FnOnce(&mut DomainDef),
) -> Result<()> {
    let mut domains = driver.domains.lock();
    let obj = persistent(&mut domains, dom, "change persistent config of")?;
    let mut config = obj.next_config().clone();
    change(&mut config);
    files::write_atomic(
        &driver.dirs.config_file(&config.name),
        config_xml(&config).as_bytes(),
    )?;
    if obj.is_active() {
        obj.new_def = Some(config);
    } else {
        obj.def = config;
    }
    Ok(())
}

/// `virConnectDomainXMLToNative` with `qemu-argv`: the command line a
/// start would run, with libvirt's placeholder id (-1) in the paths.
pub fn xml_to_native(driver: &Driver, format: &str, xml: &str) -> Result<String> {
    if format != "qemu-argv" {
        return Err(Error::invalid_arg(
            ErrorDomain::QEMU,
            format!("unsupported config type {format}"),
        ));
    }
    let def = prepare(driver, xml)?;
    let caps = driver.caps(&emulator(&def))?;
    let lib_dir = driver.dirs.lib.join(format!("domain--1-{}", def.name));
    let ctx = command::RunContext {
        accel: accel_for(&def, &caps)?,
        monitor_socket: lib_dir.join("monitor.sock"),
        lib_dir,
        domain_id: -1,
        incoming: None,
        tap_fds: Default::default(),
    };
    Ok(command::build(&def, &caps, &ctx)?.to_native())
}

/// `virDomainMemoryStats` (qemuDomainMemoryStatsInternal): with a
/// balloon, its actual size (QMP `query-balloon`, tag ACTUAL_BALLOON = 6)
/// and the guest's own statistics; then QEMU's resident set (RSS = 7), in KiB.
pub fn memory_stats(driver: &Driver, dom: &DomainRef, max: u32) -> Result<Vec<(i32, u64)>> {
    use rvirt::types::memory_stat::{ACTUAL_BALLOON, RSS};
    let run = running(driver, dom)?;
    let wanted = {
        let domains = driver.domains.lock();
        crate::stats::wanted(domains.get(dom)?, crate::stats::BALLOON)
    };
    let pid = run.pid;
    let mut stats = Vec::new();
    if wanted.balloon.is_some() {
        let (balloon, live) = driver.rt.run(async move {
            let balloon = run.monitor.execute(qapi::qmp::query_balloon {}).await;
            (balloon, crate::stats_live::gather(run, wanted).await)
        });
        let actual = u64::try_from(balloon?.actual / 1024).unwrap_or(0);
        stats.push((ACTUAL_BALLOON, actual));
        stats.extend(live.guest_memory);
    }
    stats.push((RSS, crate::stats::rss_kib(pid)));
    stats.truncate(max as usize);
    Ok(stats)
}
