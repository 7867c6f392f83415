//! Domain objects and the list that holds them, with libvirt's rules for
//! adding a definition (`virDomainObjListAdd`): name and UUID clashes, live
//! versus persistent definitions, transient domains.

use rvirt::driver::DomainRef;
use rvirt::types::DomainState;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::time::{Duration, Instant};

/// One guest the driver knows about (libvirt's `virDomainObj`).
pub struct DomainObj {
    /// The running definition, or the configuration while inactive.
    pub def: DomainDef,
    /// The persistent configuration to apply at next start, when it differs
    /// from the running one (libvirt's `newDef`).
    pub new_def: Option<DomainDef>,
    pub state: DomainState,
    pub reason: i32,
    /// -1 while inactive.
    pub id: i32,
    pub persistent: bool,
    pub autostart: bool,
    pub has_managed_save: bool,
    /// How long the vCPUs have run: a paused guest writes no memory.
    pub run_clock: RunClock,
    /// The domain's snapshots and the current one.
    pub snapshots: crate::snapshot_list::SnapshotList,
    /// The domain's checkpoints and the current one.
    pub checkpoints: crate::checkpoints::CheckpointList,
    /// The guest's clock and frozen filesystems (libvirt's
    /// `testDomainObjPrivate`).
    pub guest: GuestState,
}

/// What libvirt's test driver keeps of a guest beside its definition:
/// the clock `virDomainSetTime` sets (which the control info also reads)
/// and whether "/" and "/boot" are frozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestState {
    pub seconds: i64,
    pub nseconds: u32,
    pub frozen: [bool; 2],
}

impl Default for GuestState {
    /// `testDomainObjPrivateAlloc`'s clock.
    fn default() -> Self {
        GuestState {
            seconds: 627319920,
            nseconds: 0,
            frozen: [false; 2],
        }
    }
}

/// Accumulated running time of a guest, advanced only while it is in the
/// running state (the simulated guest dirties memory only then).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunClock {
    ran: Duration,
    since: Option<Instant>,
}

impl RunClock {
    /// The running time up to `now`.
    pub fn ran(&self, now: Instant) -> Duration {
        self.ran
            + self
                .since
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s))
    }

    fn set_running(&mut self, running: bool, now: Instant) {
        match (running, self.since) {
            (true, None) => self.since = Some(now),
            (false, Some(s)) => {
                self.ran += now.saturating_duration_since(s);
                self.since = None;
            }
            _ => {}
        }
    }
}

impl DomainObj {
    pub fn new(def: DomainDef) -> DomainObj {
        DomainObj {
            def,
            new_def: None,
            state: DomainState::Shutoff,
            reason: rvirt::types::reason::SHUTOFF_UNKNOWN,
            id: -1,
            persistent: false,
            autostart: false,
            has_managed_save: false,
            run_clock: RunClock::default(),
            snapshots: Default::default(),
            checkpoints: Default::default(),
            guest: GuestState::default(),
        }
    }

    pub fn is_active(&self) -> bool {
        self.id >= 0
    }

    pub fn domain_ref(&self) -> DomainRef {
        DomainRef {
            name: self.def.name.clone(),
            uuid: *self.def.uuid.as_bytes(),
            id: self.id,
        }
    }

    /// The definition the next start will use.
    pub fn persistent_def(&self) -> &DomainDef {
        self.new_def.as_ref().unwrap_or(&self.def)
    }

    pub fn set_state(&mut self, state: DomainState, reason: i32) {
        self.state = state;
        self.reason = reason;
        self.run_clock
            .set_running(state == DomainState::Running, Instant::now());
    }

    /// Move to shut off: the id goes, the persistent config becomes current.
    pub fn stop(&mut self, reason: i32) {
        self.set_state(DomainState::Shutoff, reason);
        self.id = -1;
        if let Some(def) = self.new_def.take() {
            self.def = def;
        }
    }
}

/// Whether an added definition is the running one or the configuration.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AddMode {
    /// `virDomainDefineXML`: the persistent configuration.
    Config,
    /// `virDomainCreateXML`: a definition to start now.
    Live,
}

#[derive(Default)]
pub struct DomainList {
    objs: Vec<DomainObj>,
}

fn no_domain(detail: String) -> Error {
    Error::new(ErrorDomain::TEST, ErrorCode::NO_DOMAIN, detail)
}

impl DomainList {
    pub fn iter(&self) -> impl Iterator<Item = &DomainObj> {
        self.objs.iter()
    }

    pub fn by_uuid(&self, uuid: &[u8; 16]) -> Option<&DomainObj> {
        self.objs.iter().find(|o| o.def.uuid.as_bytes() == uuid)
    }

    fn index_of(&self, uuid: &[u8; 16]) -> Option<usize> {
        self.objs.iter().position(|o| o.def.uuid.as_bytes() == uuid)
    }

    pub fn by_name(&self, name: &str) -> Option<&DomainObj> {
        self.objs.iter().find(|o| o.def.name == name)
    }

    pub fn by_id(&self, id: i32) -> Option<&DomainObj> {
        self.objs.iter().find(|o| o.id == id && id >= 0)
    }

    /// The object a handle refers to, as libvirt's `testDomObjFromDomain`.
    pub fn get(&self, dom: &DomainRef) -> Result<&DomainObj> {
        self.by_uuid(&dom.uuid).ok_or_else(|| not_found(dom))
    }

    pub fn get_mut(&mut self, dom: &DomainRef) -> Result<&mut DomainObj> {
        match self.index_of(&dom.uuid) {
            Some(i) => Ok(&mut self.objs[i]),
            None => Err(not_found(dom)),
        }
    }

    pub fn remove(&mut self, uuid: &[u8; 16]) {
        self.objs.retain(|o| o.def.uuid.as_bytes() != uuid);
    }

    /// Add or update a definition (`virDomainObjListAdd`, whose errors
    /// come from the domain-config domain). Returns the object's index and whether it
    /// existed before (for the "added" versus "updated" event detail).
    pub fn add(&mut self, def: DomainDef, mode: AddMode) -> Result<(usize, bool)> {
        let uuid = *def.uuid.as_bytes();
        if let Some(i) = self.index_of(&uuid) {
            let obj = &mut self.objs[i];
            if obj.def.name != def.name {
                return Err(Error::new(
                    ErrorDomain::DOMAIN,
                    ErrorCode::OPERATION_FAILED,
                    format!(
                        "domain '{}' is already defined with uuid {}",
                        obj.def.name, obj.def.uuid
                    ),
                ));
            }
            match mode {
                AddMode::Live if obj.is_active() => {
                    return Err(Error::operation_invalid(
                        ErrorDomain::DOMAIN,
                        format!("domain '{}' is already active", obj.def.name),
                    ))
                }
                AddMode::Live => {
                    // The persistent config stays for later; this one runs now.
                    let config = std::mem::replace(&mut obj.def, def);
                    if obj.persistent {
                        obj.new_def = Some(config);
                    }
                }
                AddMode::Config if obj.is_active() => obj.new_def = Some(def),
                AddMode::Config => obj.def = def,
            }
            return Ok((i, true));
        }
        if let Some(other) = self.by_name(&def.name) {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::OPERATION_FAILED,
                format!(
                    "domain '{}' already exists with uuid {}",
                    def.name, other.def.uuid
                ),
            ));
        }
        self.objs.push(DomainObj::new(def));
        Ok((self.objs.len() - 1, false))
    }

    pub fn at_mut(&mut self, index: usize) -> &mut DomainObj {
        &mut self.objs[index]
    }
}

fn not_found(dom: &DomainRef) -> Error {
    no_domain(format!(
        "no domain with matching uuid '{}' ({})",
        dom.uuid_string(),
        dom.name
    ))
}

/// A lookup by name, id or UUID that finds nothing: libvirt's test
/// driver reports `VIR_ERR_NO_DOMAIN` without a detail.
pub fn no_such_domain() -> Error {
    Error::bare(ErrorDomain::TEST, ErrorCode::NO_DOMAIN)
}
