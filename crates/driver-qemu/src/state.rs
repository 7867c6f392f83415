//! The guests the driver knows (libvirt's `virDomainObjList` for QEMU):
//! their definitions, state, and for running ones the QEMU behind them.

use crate::monitor::Monitor;
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::types::{reason, DomainState};
use rvirt_conf::domain::resource::Resource;
use rvirt_conf::domain::CpuDef;
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
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
    /// RESET events seen (a reboot through the guest agent waits for one).
    pub resets: AtomicU64,
    /// `stop` / `cont` commands the API sent whose STOP / RESUME events
    /// the API accounts for itself (the event may be read after the API
    /// already moved on, e.g. to a resume).
    own_stops: AtomicU32,
    own_conts: AtomicU32,
    /// Console sessions open on this run's ptys.
    pub consoles: crate::console::Consoles,
    /// An incoming migration's QEMU whose guest has not been taken over
    /// yet: recorded in the status file, so a daemon restarted meanwhile
    /// kills it rather than adopt a half-arrived guest.
    pub incoming: AtomicBool,
    /// The DAC driver labelled this run's files (they are given back when
    /// it stops), remembering their owners or not (`remember_owner` as it
    /// was at start: libvirt's `<rememberOwner/>`).
    pub labelled: AtomicBool,
    pub remember_owner: AtomicBool,
}

impl Running {
    pub fn new(pid: i32, monitor: Monitor, token: u64) -> Running {
        Running {
            pid,
            monitor,
            token,
            stop_reason: AtomicI32::new(0),
            got_shutdown: AtomicBool::new(false),
            resets: AtomicU64::new(0),
            own_stops: AtomicU32::new(0),
            own_conts: AtomicU32::new(0),
            consoles: Default::default(),
            incoming: AtomicBool::new(false),
            labelled: AtomicBool::new(false),
            remember_owner: AtomicBool::new(false),
        }
    }

    fn counter(&self, pause: bool) -> &AtomicU32 {
        if pause {
            &self.own_stops
        } else {
            &self.own_conts
        }
    }

    /// The API is about to send `stop` (`pause`) or `cont`; `failed`
    /// takes that back when the command did not run.
    pub fn expect_own(&self, pause: bool) {
        self.counter(pause).fetch_add(1, Ordering::SeqCst);
    }

    pub fn failed_own(&self, pause: bool) {
        self.take_own(pause);
    }

    /// Whether a STOP (`pause`) or RESUME event answers an API command
    /// (then the API already set the state and told the clients).
    pub fn take_own(&self, pause: bool) -> bool {
        let c = self.counter(pause);
        c.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// One guest (`virDomainObj`): what runs, what is configured, and the
/// QEMU behind it while active.
pub struct DomainObj {
    pub def: DomainDef,
    /// `newDef`: a configuration defined while the guest ran, applied when
    /// it stops.
    pub new_def: Option<DomainDef>,
    /// The configured `<cpu>` when the start filled in the running one
    /// (libvirt's `origCPU`): what the inactive and migratable XML show,
    /// and what the definition has again once the guest stops.
    pub config_cpu: Option<CpuDef>,
    /// The configured `<resource>` when the start gave the running
    /// definition its cgroup partition: what the inactive XML shows and
    /// the definition has again once the guest stops.
    pub config_resource: Option<Option<Resource>>,
    pub run: Option<Arc<Running>>,
    pub id: i32,
    pub state: DomainState,
    pub reason: i32,
    pub autostart: bool,
    pub persistent: bool,
    /// Held by the API call changing this guest (libvirt's job lock).
    pub job: Arc<Mutex<()>>,
}

impl DomainObj {
    /// A defined guest, shut off.
    pub fn new(def: DomainDef) -> DomainObj {
        DomainObj {
            def,
            new_def: None,
            config_cpu: None,
            config_resource: None,
            run: None,
            id: -1,
            state: DomainState::Shutoff,
            reason: reason::SHUTOFF_UNKNOWN,
            autostart: false,
            persistent: false,
            job: Arc::default(),
        }
    }

    /// A running guest has an id and a QEMU.
    pub fn is_active(&self) -> bool {
        self.run.is_some()
    }

    pub fn domain_ref(&self) -> DomainRef {
        let (name, uuid) = (self.def.name.clone(), *self.def.uuid.as_bytes());
        DomainRef {
            id: self.id,
            name,
            uuid,
        }
    }

    /// The configuration the next start uses.
    pub fn next_config(&self) -> &DomainDef {
        self.new_def.as_ref().unwrap_or(&self.def)
    }

    /// `virDomainGetXMLDesc`: the configuration (INACTIVE) or the running
    /// definition, formatted as inactive when asked or not running.
    pub fn describe(&self, flags: u32) -> String {
        use rvirt::flags::xml::{INACTIVE, MIGRATABLE, SECURE};
        let config = flags & INACTIVE != 0;
        let as_inactive = config || flags & MIGRATABLE != 0 || !self.is_active();
        let chosen = match (&self.new_def, config) {
            (Some(next), true) => next,
            _ => &self.def,
        };
        let configured;
        let from_run = std::ptr::eq(chosen, &self.def);
        let cpu = self.config_cpu.as_ref().filter(|_| as_inactive && from_run);
        let resource = self.config_resource.as_ref().filter(|_| config && from_run);
        let chosen = match (cpu, resource) {
            (None, None) => chosen,
            _ => {
                configured = DomainDef {
                    cpu: cpu.cloned().or_else(|| self.def.cpu.clone()),
                    resource: resource
                        .cloned()
                        .unwrap_or_else(|| self.def.resource.clone()),
                    ..self.def.clone()
                };
                &configured
            }
        };
        let opts = rvirt_conf::FormatOptions {
            secure: flags & SECURE != 0,
            inactive: as_inactive,
            id: if as_inactive { None } else { Some(self.id) },
        };
        chosen.format(&opts)
    }

    /// vCPUs of the configuration (AFFECT_CONFIG = 2) or the running
    /// definition: the maximum (VCPU_MAXIMUM = 4) or the current count.
    pub fn vcpus(&self, flags: u32) -> u32 {
        let def = match (&self.new_def, flags & 2 != 0) {
            (Some(next), true) => next,
            _ => &self.def,
        };
        match def.current_vcpus {
            Some(current) if flags & 4 == 0 => current,
            _ => def.vcpus,
        }
    }

    /// Back to shut off: the QEMU and id go, a pending config takes over.
    pub fn mark_stopped(&mut self, why: i32) {
        self.state = DomainState::Shutoff;
        self.reason = why;
        self.id = -1;
        self.run = None;
        if let Some(cpu) = self.config_cpu.take() {
            self.def.cpu = Some(cpu);
        }
        if let Some(resource) = self.config_resource.take() {
            self.def.resource = resource;
        }
        // The security labels the start generated are the run's only.
        use rvirt_conf::domain::seclabel::SeclabelType;
        self.def.seclabels.retain(|s| !s.implicit);
        for label in &mut self.def.seclabels {
            label.imagelabel = None;
            if label.label_type == SeclabelType::Dynamic {
                label.label = None;
            }
        }
        if let Some(def) = self.new_def.take() {
            self.def = def;
        }
    }
}

/// `domain 'NAME' <relation> uuid UUID`: a name or UUID taken by `known`.
fn clash(known: &DomainDef, relation: &str) -> Error {
    let text = format!("domain '{}' {relation} uuid {}", known.name, known.uuid);
    Error::new(ErrorDomain::QEMU, ErrorCode::OPERATION_FAILED, text)
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
                return Err(clash(&obj.def, "is already defined with"));
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
            return Err(clash(&other.def, "already exists with"));
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
