//! The guests the driver knows (libvirt's `virDomainObjList` for QEMU):
//! their definitions, state, and for running ones the QEMU behind them.

use crate::monitor::Monitor;
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::types::{reason, DomainState};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32};
use std::sync::Arc;
use std::time::Duration;

/// How long an API call waits for another one on the same guest
/// (libvirt's job wait, `VIR_JOB_WAIT_TIME`).
const JOB_WAIT: Duration = Duration::from_secs(30);

/// One running QEMU.
pub struct Running {
    pub pid: i32,
    pub monitor: Monitor,
    /// Tells this run from the next one of the same guest, so a late
    /// event of a finished run changes nothing.
    pub token: u64,
    /// The shut-off reason a stop the driver asked for ends with (0 until
    /// the driver stops it; then a `reason::SHUTOFF_*`).
    pub stop_reason: AtomicI32,
    /// The guest shut itself down (QMP `SHUTDOWN` with guest=true, or an
    /// ACPI shutdown we requested): its end is a shutdown, not a crash.
    pub got_shutdown: AtomicBool,
}

/// One guest (`virDomainObj`).
pub struct DomainObj {
    /// The running definition, or the configuration while inactive.
    pub def: DomainDef,
    /// The configuration for the next start while the guest runs with a
    /// different one (`newDef`).
    pub new_def: Option<DomainDef>,
    pub state: DomainState,
    pub reason: i32,
    pub id: i32,
    pub persistent: bool,
    pub autostart: bool,
    pub run: Option<Arc<Running>>,
    /// Held by the API call changing this guest (libvirt's job lock).
    pub job: Arc<Mutex<()>>,
}

impl DomainObj {
    pub fn new(def: DomainDef) -> DomainObj {
        DomainObj {
            def,
            new_def: None,
            state: DomainState::Shutoff,
            reason: reason::SHUTOFF_UNKNOWN,
            id: -1,
            persistent: false,
            autostart: false,
            run: None,
            job: Arc::new(Mutex::new(())),
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

    pub fn persistent_def(&self) -> &DomainDef {
        self.new_def.as_ref().unwrap_or(&self.def)
    }

    /// Back to shut off: the QEMU and id go, a pending config takes over.
    pub fn mark_stopped(&mut self, why: i32) {
        self.state = DomainState::Shutoff;
        self.reason = why;
        self.id = -1;
        self.run = None;
        if let Some(def) = self.new_def.take() {
            self.def = def;
        }
    }
}

/// Every guest, by UUID.
#[derive(Default)]
pub struct Domains {
    by_uuid: BTreeMap<[u8; 16], DomainObj>,
}

fn no_domain(detail: String) -> Error {
    Error::new(ErrorDomain::QEMU, ErrorCode::NO_DOMAIN, detail)
}

/// `virDomainObjListFindByUUID` failures, as qemuDomObjFromDomain says them.
pub fn not_found(dom: &DomainRef) -> Error {
    no_domain(format!(
        "no domain with matching uuid '{}' ({})",
        dom.uuid_string(),
        dom.name
    ))
}

impl Domains {
    pub fn iter(&self) -> impl Iterator<Item = &DomainObj> {
        self.by_uuid.values()
    }

    pub fn get(&self, dom: &DomainRef) -> Result<&DomainObj> {
        self.by_uuid.get(&dom.uuid).ok_or_else(|| not_found(dom))
    }

    pub fn get_mut(&mut self, dom: &DomainRef) -> Result<&mut DomainObj> {
        self.by_uuid
            .get_mut(&dom.uuid)
            .ok_or_else(|| not_found(dom))
    }

    pub fn by_uuid_mut(&mut self, uuid: &[u8; 16]) -> Option<&mut DomainObj> {
        self.by_uuid.get_mut(uuid)
    }

    pub fn by_name(&self, name: &str) -> Result<&DomainObj> {
        self.iter()
            .find(|o| o.def.name == name)
            .ok_or_else(|| no_domain(format!("no domain with matching name '{name}'")))
    }

    pub fn by_id(&self, id: i32) -> Result<&DomainObj> {
        self.iter()
            .find(|o| id >= 0 && o.id == id)
            .ok_or_else(|| no_domain(format!("no domain with matching id {id}")))
    }

    pub fn by_uuid(&self, uuid: &[u8; 16]) -> Result<&DomainObj> {
        self.by_uuid.get(uuid).ok_or_else(|| {
            no_domain(format!(
                "no domain with matching uuid '{}'",
                rvirt_util::uuid::Uuid::from_bytes(*uuid)
            ))
        })
    }

    pub fn remove(&mut self, uuid: &[u8; 16]) {
        self.by_uuid.remove(uuid);
    }

    /// Admit `def` as libvirt's `virDomainObjListAdd` does: a UUID known
    /// under another name, or a name known under another UUID, is refused.
    /// Returns whether a guest of that UUID existed.
    pub fn admit(&mut self, def: &DomainDef, live: bool) -> Result<bool> {
        let uuid = *def.uuid.as_bytes();
        if let Some(obj) = self.by_uuid.get(&uuid) {
            if obj.def.name != def.name {
                return Err(Error::new(
                    ErrorDomain::QEMU,
                    ErrorCode::OPERATION_FAILED,
                    format!(
                        "domain '{}' is already defined with uuid {}",
                        obj.def.name, obj.def.uuid
                    ),
                ));
            }
            if live && obj.is_active() {
                return Err(Error::operation_invalid(
                    ErrorDomain::QEMU,
                    format!("domain '{}' is already active", obj.def.name),
                ));
            }
            return Ok(true);
        }
        if let Some(other) = self.iter().find(|o| o.def.name == def.name) {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::OPERATION_FAILED,
                format!(
                    "domain '{}' already exists with uuid {}",
                    def.name, other.def.uuid
                ),
            ));
        }
        Ok(false)
    }

    /// Store a definition [`Self::admit`] accepted, as the configuration
    /// (`live == false`) or as the definition about to run.
    pub fn store(&mut self, def: DomainDef, live: bool) -> &mut DomainObj {
        let uuid = *def.uuid.as_bytes();
        let obj = self
            .by_uuid
            .entry(uuid)
            .or_insert_with(|| DomainObj::new(def.clone()));
        match (live, obj.is_active()) {
            (false, true) => obj.new_def = Some(def),
            (true, _) if obj.persistent => obj.new_def = Some(std::mem::replace(&mut obj.def, def)),
            _ => obj.def = def,
        }
        obj
    }
}

/// Wait for the guest's job lock, libvirt's message when it stays taken.
pub fn acquire_job(job: &Mutex<()>) -> Result<parking_lot::MutexGuard<'_, ()>> {
    job.try_lock_for(JOB_WAIT).ok_or_else(|| {
        Error::new(
            ErrorDomain::QEMU,
            ErrorCode::OPERATION_TIMEOUT,
            "cannot acquire state change lock",
        )
    })
}
