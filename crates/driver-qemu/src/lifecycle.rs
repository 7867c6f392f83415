//! Starting and stopping guests (libvirt's `qemuProcessStart` /
//! `qemuProcessStop`): the command line from the typed definition, QEMU
//! spawned with its log, the monitor, `cont`, the status file; and on
//! every way out, nothing left behind.

use crate::caps_model::{Accel, QemuCaps};
use crate::cgroup::setup as tune;
use crate::command::{self, RunContext};
use crate::driver::{Driver, DEFAULT_EMULATOR};
use crate::files;
use crate::monitor::Monitor;
use crate::process::{self, MONITOR_WAIT};
use crate::state::Running;
use crate::status::Status;
use rvirt::driver::DomainRef;
use rvirt::events::lifecycle;
use rvirt::types::{reason, DomainState};
use rvirt_conf::domain::cpu::CpuDef;
use rvirt_conf::domain::VirtType;
use rvirt_conf::DomainDef;
use rvirt_util::object_files::ObjectFiles;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub fn emulator(def: &DomainDef) -> PathBuf {
    PathBuf::from(def.devices.emulator.as_deref().unwrap_or(DEFAULT_EMULATOR))
}

/// The accelerator `<domain type>` asks for, refused as libvirt refuses it
/// when the binary (or the host) cannot provide it.
pub fn accel_for(def: &DomainDef, caps: &QemuCaps) -> Result<Accel> {
    match def.virt_type {
        VirtType::Qemu => Ok(Accel::Tcg),
        VirtType::Kvm if caps.kvm_usable => Ok(Accel::Kvm),
        other => Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::CONFIG_UNSUPPORTED,
            format!(
                "Emulator '{}' does not support virt type '{other}'",
                caps.binary.display()
            ),
        )),
    }
}

/// `qemuProcessStartValidate`'s first check, before the definition is
/// validated again: a KVM guest on a host without `/dev/kvm` at all. (With
/// `/dev/kvm` present but unusable, [`accel_for`]'s refusal follows.)
pub fn check_kvm_device(def: &DomainDef, dev_kvm_exists: bool) -> Result<()> {
    if def.virt_type == VirtType::Kvm && !dev_kvm_exists {
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::CONFIG_UNSUPPORTED,
            command::KVM_MISSING,
        ));
    }
    Ok(())
}

/// What a start is asked to do.
pub struct StartRequest {
    pub paused: bool,
}

/// Start the (inactive) guest `dom`; the caller holds its job.
pub fn start(driver: &Arc<Driver>, dom: &DomainRef, req: StartRequest) -> Result<DomainRef> {
    start_run(driver, dom, req.paused, None)
}

/// Start `dom` as an incoming migration's destination: QEMU waits with
/// `-incoming URI` (libvirt's `defer`), its vCPUs stopped, the guest
/// paused (migration) until the migration's finish resumes it.
/// `source_cpu` is the CPU the source's QEMU runs (its cookie's), which
/// QEMU starts with here (libvirt's `qemuProcessInit` `updatedCPU`).
pub fn start_incoming(
    driver: &Arc<Driver>,
    dom: &DomainRef,
    incoming: &str,
    source_cpu: Option<CpuDef>,
) -> Result<DomainRef> {
    start_run(driver, dom, true, Some((incoming.to_string(), source_cpu)))
}

fn start_run(
    driver: &Arc<Driver>,
    dom: &DomainRef,
    paused: bool,
    incoming: Option<(String, Option<CpuDef>)>,
) -> Result<DomainRef> {
    let migrated = incoming.is_some();
    let (incoming, source_cpu) = incoming.map_or((None, None), |(uri, cpu)| (Some(uri), cpu));
    let mut def = {
        let domains = driver.domains.lock();
        let obj = domains.get(dom)?;
        if obj.is_active() {
            return Err(Error::operation_invalid(
                ErrorDomain::QEMU,
                "domain is already running",
            ));
        }
        obj.def.clone()
    };
    let config_cpu = def.cpu.clone();
    if let Some(mut cpu) = source_cpu {
        // libvirt keeps the guest's NUMA cells apart from its CPU, so the
        // cookie's CPU has none: the definition's stay.
        let own = def.cpu.take().unwrap_or_default();
        cpu.numa = own.numa;
        cpu.numa_interconnects = own.numa_interconnects;
        def.cpu = Some(cpu);
    }
    command::update_cpu_for_start(&mut def);
    let config_cpu = config_cpu.filter(|c| Some(c) != def.cpu.as_ref());
    check_kvm_device(&def, std::path::Path::new("/dev/kvm").exists())?;
    crate::disk_pool::translate_disks(&mut def)?;
    driver.security.gen_label(&mut def)?;
    // qemuProcessPrepareDomainNUMAPlacement: the process is built and set
    // up from numad's advice; the definition keeps placement='auto'.
    let given = def.clone();
    let advice = crate::numad::query(&def, &driver.numad)?;
    if let Some(advice) = &advice {
        advice.apply(&mut def);
    }
    let caps = driver.caps(&emulator(&def))?;
    let accel = accel_for(&def, &caps)?;
    let id = driver.allocate_id();
    let name = def.name.clone();
    let mut ctx = RunContext {
        accel,
        monitor_socket: driver.dirs.monitor_socket(&name),
        lib_dir: driver.dirs.domain_lib(id, &name),
        domain_id: id,
        incoming,
        tap_fds: Default::default(),
    };
    let creds = driver.security.credentials(&def)?;
    crate::network_iface::prepare(&mut def, creds.as_ref())?;
    let state_dir = driver.dirs.state.clone();
    let release_links = |def: &DomainDef| {
        crate::network_iface::release(def);
        crate::macvtap::release(def, &state_dir);
    };
    // Kept open until QEMU has inherited them.
    let opened = crate::macvtap::connect_all(&mut def, &state_dir)
        .inspect_err(|_| crate::network_iface::release(&def))?;
    ctx.tap_fds = opened.by_position.clone();
    let prepared = (|| -> Result<_> {
        let cmd = command::build(&def, &caps, &ctx)?;
        let mut live = def.clone();
        command::add_runtime_details(&mut live)?;
        let cgroup = driver
            .cgroups
            .create(&mut live, id, driver.security.privileged)?;
        Ok((cmd, live, cgroup))
    })();
    let (cmd, mut live, cgroup) = prepared.inspect_err(|_| release_links(&def))?;
    let config_resource = def.resource.clone();
    let privileged = driver.security.privileged;
    let launched = launch(driver, &cmd, &ctx, &live, paused, (cgroup, &opened.raw()));
    drop(opened);
    let (pid, monitor, events) = match launched {
        Ok(launched) => launched,
        Err(e) => {
            remove_run_files(driver, &name, &ctx.lib_dir);
            driver.cgroups.remove(&live, id, privileged);
            release_links(&live);
            return Err(e);
        }
    };
    let run = Arc::new(Running::new(pid, monitor, driver.next_token()));
    run.incoming
        .store(migrated, std::sync::atomic::Ordering::SeqCst);
    run.labelled
        .store(driver.security.privileged, Ordering::SeqCst);
    run.remember_owner
        .store(driver.security.dac.remember_owner, Ordering::SeqCst);
    if let Err(e) = crate::console::record_ptys(driver, &run, &mut live) {
        tracing::warn!("cannot find the ptys of {name}: {}", e.message);
    }
    record_vcpu_order(driver, &run, &mut live);
    if advice.is_some() {
        crate::numad::Advice::restore(&mut live, &given);
    }
    let (state, why) = match (migrated, paused) {
        (true, _) => (DomainState::Paused, reason::PAUSED_MIGRATION),
        (false, true) => (DomainState::Paused, reason::PAUSED_USER),
        (false, false) => (DomainState::Running, reason::RUNNING_BOOTED),
    };
    let started = {
        let mut domains = driver.domains.lock();
        let obj = domains.get_mut(dom)?;
        obj.id = id;
        obj.state = state;
        obj.reason = why;
        obj.run = Some(run.clone());
        obj.def = live;
        obj.config_cpu = config_cpu;
        obj.config_resource = (config_resource != obj.def.resource).then_some(config_resource);
        save_status(driver, obj);
        obj.domain_ref()
    };
    crate::watch::spawn(driver, dom.uuid, run, events);
    if migrated {
        driver.emit_lifecycle(&started, lifecycle::STARTED, lifecycle::STARTED_MIGRATED);
        return Ok(started);
    }
    driver.emit_lifecycle(&started, lifecycle::STARTED, lifecycle::STARTED_BOOTED);
    if paused {
        driver.emit_lifecycle(&started, lifecycle::SUSPENDED, lifecycle::SUSPENDED_PAUSED);
    }
    Ok(started)
}

/// `qemuDomainVcpuPersistOrder` after the start: the order QEMU enabled
/// the vCPUs in, for a definition that shows `<vcpus>`.
fn record_vcpu_order(driver: &Driver, run: &Arc<Running>, live: &mut DomainDef) {
    if live.vcpu_states.is_none() {
        return;
    }
    let (monitor, max) = (run.clone(), live.vcpus);
    let ids = driver
        .rt
        .run(async move { crate::vcpu_hotplug::enable_ids(&monitor.monitor, max).await });
    match ids {
        Ok(ids) => command::vcpu_states::persist_order(live, &ids),
        Err(e) => tracing::warn!("cannot read the vCPU order of {}: {}", live.name, e.message),
    }
}

type Launched = (
    i32,
    Monitor,
    tokio::sync::mpsc::UnboundedReceiver<crate::monitor::MonitorEvent>,
);

/// Prepare the run's files (private directories, master key, log,
/// character device files) and label them for QEMU's user, then spawn it;
/// on failure QEMU is gone, the files given back and the error quotes its
/// log.
fn launch(
    driver: &Arc<Driver>,
    cmd: &command::CommandLine,
    ctx: &RunContext,
    live: &DomainDef,
    paused: bool,
    (cgroup, pass_fds): (Option<crate::cgroup::Machine>, &[i32]),
) -> Result<Launched> {
    let name = live.name.as_str();
    files::remove(&ctx.monitor_socket)?;
    let channel_dir = command::channel_dir(&ctx.lib_dir);
    let mut private_dirs = vec![ctx.lib_dir.clone(), channel_dir];
    // QEMU's HOME and XDG directories point into the private directory.
    for (key, value) in &cmd.env {
        if key == "HOME" || key.starts_with("XDG_") {
            private_dirs.push(PathBuf::from(value));
        }
    }
    // qemuProcessBuildDestroyMemoryPaths: file-backed guest RAM's directory.
    if command::needs_memory_backing_dir(live) {
        private_dirs.push(command::memory_backing_dir(
            &ctx.lib_dir,
            ctx.domain_id,
            &live.name,
        ));
    }
    for dir in &private_dirs {
        files::ensure_dir(dir)?;
    }
    command::write_master_key(ctx)?;
    let creds = driver.security.credentials(live)?;
    let log_path = driver.dirs.log_file(name);
    let (log, offset) = open_log(&log_path, cmd)?;
    create_chardev_files(live)?;
    let dirs: Vec<&std::path::Path> = private_dirs.iter().map(PathBuf::as_path).collect();
    let key = command::master_key_path(ctx);
    driver.security.set_all(live, &dirs, &[key.as_path()])?;
    let child = Child {
        log,
        creds,
        cgroup,
        def: live.clone(),
        pass_fds: pass_fds.to_vec(),
    };
    let launched = spawn_and_connect(driver, cmd, ctx, name, paused, child);
    if launched.is_err() {
        driver
            .security
            .restore_all(live, driver.security.dac.remember_owner, false);
    }
    launched.map_err(|e| process::start_failure(e, &log_path, offset))
}

/// File backends of character devices exist before they are labelled
/// (libvirt opens them for QEMU: `O_CREAT`, mode 0600).
fn create_chardev_files(def: &DomainDef) -> Result<()> {
    use rvirt_conf::domain::chardev::ChrType;
    use std::os::unix::fs::OpenOptionsExt;
    let d = &def.devices;
    let sources = (d.serials.iter().chain(&d.parallels).chain(&d.consoles))
        .map(|c| &c.source)
        .chain(d.channels.iter().map(|c| &c.source));
    for src in sources.filter(|s| s.chr_type == ChrType::File) {
        let Some(path) = src.path.as_deref() else {
            continue;
        };
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                Error::system(ErrorDomain::QEMU, format!("Unable to open '{path}'"), &e)
            })?;
    }
    Ok(())
}

/// How QEMU's process is set up: its log, its user, its cgroup, and the
/// definition whose tunables its groups and threads get.
struct Child {
    log: std::fs::File,
    creds: Option<process::Credentials>,
    cgroup: Option<crate::cgroup::Machine>,
    def: DomainDef,
    /// Descriptors QEMU inherits (direct interfaces' taps).
    pass_fds: Vec<i32>,
}

/// Spawn QEMU as `creds`, place it in its cgroups, write its pid file,
/// connect the monitor, place the vCPU threads and let them run unless
/// `paused`; QEMU is gone again on failure.
fn spawn_and_connect(
    driver: &Arc<Driver>,
    cmd: &command::CommandLine,
    ctx: &RunContext,
    name: &str,
    paused: bool,
    setup: Child,
) -> Result<Launched> {
    let (program, args, env) = (cmd.program.clone(), cmd.args.clone(), cmd.env.clone());
    let socket = ctx.monitor_socket.clone();
    let pid_file = driver.dirs.pid_file(name);
    let timeout = driver.monitor_timeout;
    let policy =
        crate::numa_policy::MemPolicy::for_guest(&setup.def, driver.cgroups.cpuset_binds())?;
    driver.rt.run(async move {
        let (log, creds) = (Some(setup.log), setup.creds);
        let mut child = process::spawn(
            &program,
            &args,
            &env,
            log,
            (creds, policy, setup.def.cputune.emulatorpin.as_deref()),
            &setup.pass_fds,
        )?;
        let pid = child.id().map_or(-1, |p| p as i32);
        let cgroup = setup.cgroup.filter(|m| m.add_process(pid));
        let def = setup.def;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let ready = async {
            tune::set_max_memlock(&def, pid)?;
            // qemuSetupCgroup, then qemuProcessSetupEmulator.
            if let Some(m) = &cgroup {
                m.setup_domain(&def)?;
            }
            tune::setup_emulator(cgroup.as_ref(), &def, pid)?;
            files::write_atomic(&pid_file, format!("{pid}\n").as_bytes())?;
            let mon = process::connect_when_ready(&socket, &mut child, MONITOR_WAIT, tx)
                .await?
                .with_timeout(timeout);
            crate::vcpu_hotplug::plug_boot_vcpus(&def, &mon).await?;
            tune::setup_global(cgroup.as_ref(), &def)?;
            tune::setup_vcpus(cgroup.as_ref(), &def, &mon, pid).await?;
            tune::setup_iothreads(cgroup.as_ref(), &def, &mon).await?;
            if !paused {
                crate::macvtap::set_online(&def, true)?;
                mon.execute(qapi::qmp::cont {}).await?;
            }
            Ok::<Monitor, Error>(mon)
        }
        .await;
        match ready {
            Ok(mon) => {
                // Reap QEMU whenever it exits; the monitor's end tells the
                // driver, as it does for a QEMU found after a restart.
                tokio::spawn(async move {
                    let _ = child.wait().await;
                });
                Ok((pid, mon, rx))
            }
            Err(e) => {
                process::kill_child(&mut child).await;
                Err(e)
            }
        }
    })
}

/// Open the guest's log for appending and write libvirt's start header
/// (time and command line); returns the file and where QEMU's own output
/// begins.
fn open_log(path: &std::path::Path, cmd: &command::CommandLine) -> Result<(std::fs::File, u64)> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            Error::system(
                ErrorDomain::QEMU,
                format!("failed to create logfile {}", path.display()),
                &e,
            )
        })?;
    let env: Vec<String> = cmd.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let header = format!(
        "{}: starting up\n{} {} {}\n",
        files::log_timestamp(),
        env.join(" "),
        cmd.program.display(),
        cmd.args.join(" ")
    );
    let written = file
        .write_all(header.as_bytes())
        .and_then(|_| file.metadata());
    let offset = written
        .map_err(|e| {
            Error::system(
                ErrorDomain::QEMU,
                format!("cannot write {}", path.display()),
                &e,
            )
        })?
        .len();
    Ok((file, offset))
}

/// Record `obj`'s live status (a failure to write is logged: the guest
/// runs regardless, as in libvirt).
pub fn save_status(driver: &Driver, obj: &crate::state::DomainObj) {
    let Some(run) = &obj.run else { return };
    let status = Status {
        state: obj.state,
        reason: obj.reason,
        pid: run.pid,
        id: obj.id,
        monitor: run.monitor.path().to_path_buf(),
        def: obj.def.clone(),
        incoming: run.incoming.load(std::sync::atomic::Ordering::SeqCst),
        labelled: run
            .labelled
            .load(Ordering::SeqCst)
            .then(|| run.remember_owner.load(Ordering::SeqCst)),
        config_cpu: obj.config_cpu.clone(),
    };
    if let Err(e) = status.write(&driver.dirs.status_file(&obj.def.name)) {
        tracing::warn!("cannot save status of {}: {}", obj.def.name, e.message);
    }
}

/// The files of one run: status, pid, monitor socket, private directory.
pub fn remove_run_files(driver: &Driver, name: &str, lib_dir: &std::path::Path) {
    let dirs = &driver.dirs;
    for path in [
        dirs.status_file(name),
        dirs.pid_file(name),
        dirs.monitor_socket(name),
    ] {
        if let Err(e) = files::remove(&path) {
            tracing::warn!("{}", e.message);
        }
    }
    let _ = std::fs::remove_dir_all(lib_dir);
    let _ = std::fs::remove_dir_all(command::channel_dir(lib_dir));
    // The memory backing directory goes whether or not the guest had one.
    let own = lib_dir.file_name().and_then(|n| n.to_str());
    let id_name = own.and_then(|n| n.strip_prefix("domain-"));
    if let Some((id, name)) = id_name.and_then(|n| n.split_once('-')) {
        if let Ok(id) = id.parse() {
            let _ = std::fs::remove_dir_all(command::memory_backing_dir(lib_dir, id, name));
        }
    }
}

/// Stop the running guest `dom` (destroy, or the end of a shutdown): QEMU
/// terminated, then [`finish_stop`]. The caller holds the job.
pub fn stop(
    driver: &Arc<Driver>,
    dom: &DomainRef,
    why: i32,
    detail: i32,
    graceful: bool,
) -> Result<()> {
    let run = {
        let domains = driver.domains.lock();
        let obj = domains.get(dom)?;
        obj.run
            .clone()
            .ok_or_else(|| Error::operation_invalid(ErrorDomain::QEMU, "domain is not running"))?
    };
    run.stop_reason.store(why, Ordering::SeqCst);
    let pid = run.pid;
    if let Err(e) = driver
        .rt
        .run(async move { process::terminate(pid, graceful).await })
    {
        run.stop_reason.store(0, Ordering::SeqCst);
        return Err(e);
    }
    finish_stop(driver, &dom.uuid, run.token, why, detail);
    Ok(())
}

/// Mark the guest of run `token` shut off with `why`, remove its run
/// files, drop it if transient and tell the clients. A no-op when that
/// run already ended (the API and the monitor's end both call this).
pub fn finish_stop(driver: &Driver, uuid: &[u8; 16], token: u64, why: i32, detail: i32) {
    let stopped = {
        let mut domains = driver.domains.lock();
        let Some(obj) = domains.by_uuid_mut(uuid) else {
            return;
        };
        if obj.run.as_ref().map(|r| r.token) != Some(token) {
            return;
        }
        let dom = obj.domain_ref();
        let lib_dir = driver
            .dirs
            .lib
            .join(format!("domain-{}-{}", obj.id, obj.def.name));
        let labelled = obj
            .run
            .as_ref()
            .filter(|r| r.labelled.load(Ordering::SeqCst));
        let restore = labelled.map(|r| (obj.def.clone(), r.remember_owner.load(Ordering::SeqCst)));
        // QEMU is gone: its cgroups go too (outside the lock).
        let cgroup = (obj.def.clone(), obj.id);
        obj.mark_stopped(why);
        remove_run_files(driver, &dom.name, &lib_dir);
        if !obj.persistent {
            domains.remove(uuid);
        }
        (dom, restore, cgroup)
    };
    // Files go back to their owners before clients hear of the stop (as
    // in `qemuProcessStop`), outside the lock: the metadata locks may wait.
    let (stopped, restore, (def, id)) = stopped;
    crate::migration::forget_failed_postcopy(driver, uuid);
    driver.cgroups.remove(&def, id, driver.security.privileged);
    crate::network_iface::release(&def);
    crate::macvtap::release(&def, &driver.dirs.state);
    if let Some((def, remember)) = restore {
        let migrated = why == reason::SHUTOFF_MIGRATED;
        driver.security.restore_all(&def, remember, migrated);
    }
    driver.emit_lifecycle(&stopped, lifecycle::STOPPED, detail);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(virt_type: &str) -> DomainDef {
        DomainDef::parse(&format!(
            "<domain type='{virt_type}'><name>g</name><memory>1024</memory>\
             <os><type arch='x86_64' machine='pc'>hvm</type></os></domain>"
        ))
        .unwrap()
    }

    /// Without /dev/kvm, qemuProcessStartValidate's text; with it but KVM
    /// unusable, qemuValidateDomainDef's.
    #[test]
    fn kvm_refusals_as_libvirt_words_them() {
        let err = check_kvm_device(&def("kvm"), false).unwrap_err();
        assert_eq!(err.code, ErrorCode::CONFIG_UNSUPPORTED);
        assert!(err.message.starts_with(
            "unsupported configuration: Domain requires KVM, but it is not available. Check"
        ));
        check_kvm_device(&def("kvm"), true).unwrap();
        check_kvm_device(&def("qemu"), false).unwrap();
        let caps = QemuCaps {
            binary: "/usr/bin/qemu-system-x86_64".into(),
            kvm_usable: false,
            ..QemuCaps::default()
        };
        let err = accel_for(&def("kvm"), &caps).unwrap_err();
        assert_eq!(
            err.message,
            "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' \
             does not support virt type 'kvm'"
        );
        assert_eq!(accel_for(&def("qemu"), &caps).unwrap(), Accel::Tcg);
    }
}
