//! The test driver's guest calls (test_driver.c's `testDomainGetTime`,
//! `testDomainSetTime`, `testDomainFSFreeze`, `testDomainFSThaw`,
//! `testDomainFSTrim`, `testDomainGetFSInfo`, `testDomainSetUserPassword`,
//! `testDomainSendProcessSignal`, `testDomainGetPerfEvents`,
//! `testDomainSetPerfEvents`, `testDomainSetMetadata`, `testDomainRename`,
//! `testDomainSetLifecycleAction`, `testDomainGetMessages`,
//! `testDomainGetLaunchSecurityInfo`, `testDomainSetMemoryStatsPeriod`,
//! `testDomainGetBlockInfo`, `testDomainMemoryPeek`): a made-up guest with a root and a boot
//! filesystem on its first disk, and a clock of its own.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::memory::check_active;
use crate::objects::DomainObj;
use crate::scope::{defs, one_def, one_def_mut, CONFIG, LIVE, STRING_OKAY};
use rvirt::driver::guest::{BlockInfo, FsInfo};
use rvirt::driver::{DomainRef, GuestDriver};
use rvirt::events::lifecycle;
use rvirt::flags::metadata;
use rvirt_conf::domain::disk::DiskDevice;
use rvirt_conf::domain::perf::PerfEvent;
use rvirt_conf::domain::props::{TriBool, VirEnum};
use rvirt_conf::domain::{LifecycleAction, MemballoonModel};
use rvirt_conf::DomainDef;
use rvirt_util::TypedParams;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamType, TypedParamValue};

/// The filesystems the test guest has, in the order of `frozen`.
const MOUNTPOINTS: [&str; 2] = ["/", "/boot"];
/// `VIR_DOMAIN_TIME_SYNC`, `VIR_DOMAIN_PASSWORD_ENCRYPTED`.
const TIME_SYNC: u32 = 1;
const PASSWORD_ENCRYPTED: u32 = 1;
/// `VIR_DOMAIN_PROCESS_SIGNAL_LAST`.
const PROCESS_SIGNAL_LAST: u32 = 65;
/// `VIR_DOMAIN_MESSAGE_DEPRECATION | VIR_DOMAIN_MESSAGE_TAINTING`.
const MESSAGE_KINDS: u32 = 3;
/// What every disk of the test driver measures, in bytes.
const BLOCK_INFO: BlockInfo = BlockInfo {
    capacity: 1099506450432,
    allocation: 1099511627776,
    physical: 1099511627776,
};

fn mount_point_not_found(name: &str) -> Error {
    Error::operation_invalid(ErrorDomain::TEST, format!("mount point not found: {name}"))
}

/// Freeze (`to` true) or thaw the filesystems named, or all: how many
/// changed. Nothing changes when one name is unknown.
fn set_frozen(obj: &mut DomainObj, mountpoints: &[String], to: bool) -> Result<i32> {
    let mut frozen = obj.guest.frozen;
    if mountpoints.is_empty() {
        frozen = [to; 2];
    }
    for name in mountpoints {
        let i = MOUNTPOINTS
            .iter()
            .position(|m| m == name)
            .ok_or_else(|| mount_point_not_found(name))?;
        frozen[i] = to;
    }
    let changed = (0..2)
        .filter(|i| frozen[*i] != obj.guest.frozen[*i])
        .count();
    obj.guest.frozen = frozen;
    Ok(changed as i32)
}

/// `virDomainDiskByName` (not ambiguous): by target, or with a leading
/// '/' the one disk with that source.
fn find_disk<'a>(def: &'a DomainDef, name: &str) -> Option<&'a rvirt_conf::domain::Disk> {
    let disks = &def.devices.disks;
    if !name.starts_with('/') {
        return disks.iter().find(|d| d.target.dev == name);
    }
    let mut with_source = disks.iter().filter(|d| d.source.path() == Some(name));
    match (with_source.next(), with_source.next()) {
        (Some(d), None) => Some(d),
        _ => None,
    }
}

/// The perf event a parameter names (validated before).
fn perf_event(field: &str) -> Option<PerfEvent> {
    PerfEvent::from_str_opt(field)
}

/// Enable or disable `event` in `def`, keeping the table's order.
fn set_perf(def: &mut DomainDef, event: PerfEvent, on: bool) {
    let value = if on { TriBool::Yes } else { TriBool::No };
    let events = &mut def.perf.events;
    match events.iter_mut().find(|(e, _)| *e == event) {
        Some(slot) => slot.1 = value,
        None => {
            let at = events.partition_point(|(e, _)| e.index() < event.index());
            events.insert(at, (event, value));
        }
    }
}

/// `virDomainDefSetMetadata` for the title and the description (an
/// empty text removes them).
fn set_text_metadata(def: &mut DomainDef, kind: i32, text: Option<&str>) -> Result<()> {
    let value = text.filter(|t| !t.is_empty()).map(str::to_string);
    match kind {
        metadata::DESCRIPTION => def.description = value,
        metadata::TITLE => def.title = value,
        metadata::ELEMENT => {
            return Err(Error::new(
                ErrorDomain::TEST,
                ErrorCode::ARGUMENT_UNSUPPORTED,
                "custom metadata elements are not modelled by rvirt's test driver yet",
            ))
        }
        _ => {
            return Err(Error::invalid_arg(
                ErrorDomain::DOMAIN,
                format!("unknown metadata type '{kind}'"),
            ))
        }
    }
    Ok(())
}

/// `virDomainDefLifecycleActionAllowed`.
fn action_allowed(kind: u32, action: LifecycleAction) -> Result<()> {
    let coredump = matches!(
        action,
        LifecycleAction::CoredumpDestroy | LifecycleAction::CoredumpRestart
    );
    if kind < 2 && coredump {
        let event = ["poweroff", "reboot"][kind as usize];
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::CONFIG_UNSUPPORTED,
            format!(
                "Lifecycle event '{event}' doesn't support '{}' action",
                action.as_str()
            ),
        ));
    }
    Ok(())
}

fn set_action(def: &mut DomainDef, kind: u32, action: LifecycleAction) {
    match kind {
        0 => def.on_poweroff = action,
        1 => def.on_reboot = action,
        _ => def.on_crash = action,
    }
}

impl GuestDriver for TestConnection {
    fn get_time(&self, dom: &DomainRef, flags: u32) -> Result<(i64, u32)> {
        check_flags("testDomainGetTime", flags, 0)?;
        self.read(dom, |obj| {
            if obj.state != rvirt::DomainState::Running {
                return Err(Error::operation_invalid(
                    ErrorDomain::TEST,
                    "domain is not running",
                ));
            }
            Ok((obj.guest.seconds, obj.guest.nseconds))
        })
    }

    fn set_time(&self, dom: &DomainRef, seconds: i64, nseconds: u32, flags: u32) -> Result<()> {
        check_flags("testDomainSetTime", flags, TIME_SYNC)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            check_active(obj)?;
            obj.guest.seconds = seconds;
            obj.guest.nseconds = nseconds;
            Ok(())
        })
    }

    fn fs_freeze(&self, dom: &DomainRef, mountpoints: &[String], flags: u32) -> Result<i32> {
        check_flags("testDomainFSFreeze", flags, 0)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            check_active(obj)?;
            set_frozen(obj, mountpoints, true)
        })
    }

    fn fs_thaw(&self, dom: &DomainRef, mountpoints: &[String], flags: u32) -> Result<i32> {
        check_flags("testDomainFSThaw", flags, 0)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            check_active(obj)?;
            set_frozen(obj, mountpoints, false)
        })
    }

    fn fs_trim(
        &self,
        dom: &DomainRef,
        mount_point: Option<&str>,
        _minimum: u64,
        flags: u32,
    ) -> Result<()> {
        check_flags("testDomainFSTrim", flags, 0)?;
        self.read(dom, |obj| {
            check_active(obj)?;
            match mount_point {
                Some(m) if !MOUNTPOINTS.contains(&m) => Err(mount_point_not_found(m)),
                _ => Ok(()),
            }
        })
    }

    fn get_fs_info(&self, dom: &DomainRef, flags: u32) -> Result<Vec<FsInfo>> {
        check_flags("testDomainGetFSInfo", flags, 0)?;
        self.read(dom, |obj| {
            check_active(obj)?;
            let disks = &obj.def.devices.disks;
            let Some(disk) = disks.iter().find(|d| d.device == DiskDevice::Disk) else {
                return Ok(Vec::new());
            };
            let dst = &disk.target.dev;
            Ok((1..=2)
                .map(|n| FsInfo {
                    mountpoint: MOUNTPOINTS[n - 1].to_string(),
                    name: format!("{dst}{n}"),
                    fstype: "ext4".into(),
                    dev_aliases: vec![dst.clone()],
                })
                .collect())
        })
    }

    fn send_process_signal(
        &self,
        dom: &DomainRef,
        pid: i64,
        signum: u32,
        flags: u32,
    ) -> Result<()> {
        check_flags("testDomainSendProcessSignal", flags, 0)?;
        if pid != 1 {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                "only sending a signal to pid 1 is supported",
            ));
        }
        if signum >= PROCESS_SIGNAL_LAST {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                format!("signum value {signum} is out of range"),
            ));
        }
        self.read(dom, |_| Ok(()))
    }

    fn set_user_password(&self, dom: &DomainRef, _u: &str, _p: &str, flags: u32) -> Result<()> {
        check_flags("testDomainSetUserPassword", flags, PASSWORD_ENCRYPTED)?;
        self.read(dom, check_active)
    }

    fn get_perf_events(&self, dom: &DomainRef, flags: u32) -> Result<TypedParams> {
        check_flags(
            "testDomainGetPerfEvents",
            flags,
            LIVE | CONFIG | STRING_OKAY,
        )?;
        self.read(dom, |obj| {
            let def = one_def(obj, flags)?;
            let mut params = TypedParams::new();
            for event in (0..PerfEvent::NAMES.len()).map(PerfEvent::from_index) {
                let on = def
                    .perf
                    .events
                    .iter()
                    .any(|(e, v)| *e == event && *v == TriBool::Yes);
                params.push(event.as_str(), TypedParamValue::Boolean(on));
            }
            Ok(params)
        })
    }

    fn set_perf_events(&self, dom: &DomainRef, params: &TypedParams, flags: u32) -> Result<()> {
        check_flags("testDomainSetPerfEvents", flags, LIVE | CONFIG)?;
        let allowed: Vec<_> = PerfEvent::NAMES
            .iter()
            .map(|n| (*n, TypedParamType::Boolean, false))
            .collect();
        params.validate(&allowed)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            let (def, _) = one_def_mut(obj, flags)?;
            for p in params.iter() {
                if let (Some(event), TypedParamValue::Boolean(on)) =
                    (perf_event(&p.field), &p.value)
                {
                    set_perf(def, event, *on);
                }
            }
            Ok(())
        })
    }

    fn set_metadata(
        &self,
        dom: &DomainRef,
        kind: i32,
        text: Option<&str>,
        _key: Option<&str>,
        _uri: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        check_flags("testDomainSetMetadata", flags, LIVE | CONFIG)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            let (live, config) = defs(obj, flags)?;
            if live {
                set_text_metadata(one_def_mut(obj, LIVE)?.0, kind, text)?;
            }
            if config {
                set_text_metadata(one_def_mut(obj, CONFIG)?.0, kind, text)?;
            }
            Ok(())
        })
    }

    fn rename(&self, dom: &DomainRef, new_name: &str, flags: u32) -> Result<DomainRef> {
        check_flags("testDomainRename", flags, 0)?;
        self.state().with(|inner| {
            let obj = inner.domains.get(dom)?;
            let invalid = |text: &str| Error::operation_invalid(ErrorDomain::TEST, text);
            if obj.is_active() {
                return Err(invalid("cannot rename active domain"));
            }
            if !obj.persistent {
                return Err(invalid("cannot rename a transient domain"));
            }
            if obj.state != rvirt::DomainState::Shutoff {
                return Err(invalid("domain has to be shutoff before renaming"));
            }
            if obj.def.name == new_name {
                return Err(Error::operation_invalid(
                    ErrorDomain::DOMAIN,
                    "Can't rename domain to itself",
                ));
            }
            if inner.domains.by_name(new_name).is_some() {
                return Err(Error::operation_invalid(
                    ErrorDomain::DOMAIN,
                    format!("domain with name '{new_name}' already exists"),
                ));
            }
            if new_name.contains('/') {
                return Err(Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::XML_ERROR,
                    format!("name {new_name} cannot contain '/'"),
                ));
            }
            let obj = inner.domains.get_mut(dom)?;
            let old = obj.domain_ref();
            obj.def.name = new_name.to_string();
            let renamed = obj.domain_ref();
            let (undefined, defined) = (lifecycle::UNDEFINED, lifecycle::DEFINED);
            inner.emit_lifecycle(old, undefined, lifecycle::UNDEFINED_RENAMED);
            inner.emit_lifecycle(renamed.clone(), defined, lifecycle::DEFINED_RENAMED);
            Ok(renamed)
        })
    }

    fn set_lifecycle_action(
        &self,
        dom: &DomainRef,
        kind: u32,
        action: u32,
        flags: u32,
    ) -> Result<()> {
        check_flags("testDomainSetLifecycleAction", flags, LIVE | CONFIG)?;
        if action as usize >= LifecycleAction::NAMES.len() {
            let text = format!("invalid lifecycle action '{action}'");
            return Err(Error::invalid_arg(ErrorDomain::DOMAIN, text));
        }
        let action = LifecycleAction::from_index(action as usize);
        action_allowed(kind, action)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            let (live, config) = defs(obj, flags)?;
            if live {
                set_action(one_def_mut(obj, LIVE)?.0, kind, action);
            }
            if config {
                set_action(one_def_mut(obj, CONFIG)?.0, kind, action);
            }
            Ok(())
        })
    }

    fn get_messages(&self, dom: &DomainRef, flags: u32) -> Result<Vec<String>> {
        check_flags("testDomainGetMessages", flags, MESSAGE_KINDS)?;
        // The test driver never taints a domain nor finds deprecations.
        self.read(dom, |_| Ok(Vec::new()))
    }

    fn get_launch_security_info(&self, _dom: &DomainRef, flags: u32) -> Result<TypedParams> {
        check_flags("testDomainGetLaunchSecurityInfo", flags, 0)?;
        Ok(TypedParams::new())
    }

    fn set_memory_stats_period(&self, dom: &DomainRef, period: i32, flags: u32) -> Result<()> {
        check_flags("testDomainSetMemoryStatsPeriod", flags, LIVE | CONFIG)?;
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            let (def, _) = one_def_mut(obj, flags)?;
            match def.devices.memballoon.as_mut() {
                Some(b) if b.model != MemballoonModel::None => {
                    b.period = period;
                    Ok(())
                }
                _ => Err(Error::internal(
                    ErrorDomain::TEST,
                    "No memory balloon device configured, can not set the collection period",
                )),
            }
        })
    }

    /// `testDomainMemoryPeek`: byte N is the low byte of `start` + N.
    fn memory_peek(&self, dom: &DomainRef, start: u64, size: u32, flags: u32) -> Result<Vec<u8>> {
        check_flags("testDomainMemoryPeek", flags, 1 | 2)?;
        if flags != 1 && flags != 2 {
            return Err(Error::invalid_arg(
                ErrorDomain::TEST,
                "flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL",
            ));
        }
        self.read(dom, |obj| {
            check_active(obj)?;
            Ok((0..u64::from(size))
                .map(|i| start.wrapping_add(i) as u8)
                .collect())
        })
    }

    fn get_block_info(&self, dom: &DomainRef, path: &str, flags: u32) -> Result<BlockInfo> {
        check_flags("testDomainGetBlockInfo", flags, 0)?;
        self.read(dom, |obj| {
            let disk = find_disk(&obj.def, path).ok_or_else(|| {
                Error::invalid_arg(
                    ErrorDomain::TEST,
                    format!("invalid path {path} not assigned to domain"),
                )
            })?;
            if disk.source.is_empty() {
                return Err(Error::invalid_arg(
                    ErrorDomain::TEST,
                    format!("disk '{path}' does not currently have a source assigned"),
                ));
            }
            Ok(BLOCK_INFO)
        })
    }
}
