//! `HypervisorConnection` for the test driver: the libvirt API over a
//! [`TestState`], with the test driver's checks and messages.

use crate::migration::PreparedIncoming;
use crate::objects::{no_such_domain, DomainList, DomainObj};
use crate::state::{parse_domain, TestState};
use rvirt::driver::{DomainRef, HypervisorConnection};
use rvirt::events::{lifecycle, DomainEvent, EventCallback, EventRegistry};
use rvirt::flags;
use rvirt::types::{reason, BlockStats, DomainInfo, DomainState, InterfaceStats, NodeInfo};
use rvirt::types::{SecurityLabel, SecurityModel};
use rvirt_conf::domain::LifecycleAction;
use rvirt_conf::FormatOptions;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;

pub struct TestConnection {
    state: Arc<TestState>,
    uri: String,
    events: Arc<EventRegistry>,
    /// Incoming migrations prepared through this connection.
    prepared: PreparedIncoming,
    networks: crate::network::TestNetworks,
    storage: crate::storage_driver::TestStorage,
    pub(crate) nodedev_events: Arc<crate::host_objects::NodeDeviceRegistry>,
}

impl TestConnection {
    pub fn new(state: Arc<TestState>, uri: String) -> TestConnection {
        let events = Arc::new(EventRegistry::default());
        state.add_listener(&events);
        let networks = crate::network::TestNetworks::new(state.networks.clone());
        let nodedev_events = Arc::default();
        state.host_objects.add_listener(&nodedev_events);
        TestConnection {
            storage: crate::storage_driver::TestStorage::new(state.clone()),
            state,
            uri,
            events,
            prepared: PreparedIncoming::default(),
            networks,
            nodedev_events,
        }
    }

    pub(crate) fn state(&self) -> &Arc<TestState> {
        &self.state
    }

    pub(crate) fn prepared(&self) -> &PreparedIncoming {
        &self.prepared
    }

    pub(crate) fn read<R>(
        &self,
        dom: &DomainRef,
        f: impl FnOnce(&DomainObj) -> Result<R>,
    ) -> Result<R> {
        let inner = self.state.lock();
        f(inner.domains.get(dom)?)
    }
}

fn not_running(name: &str) -> Error {
    Error::internal(ErrorDomain::TEST, format!("domain '{name}' not running"))
}

pub(crate) fn check_active(obj: &DomainObj) -> Result<()> {
    if !obj.is_active() {
        return Err(Error::operation_invalid(
            ErrorDomain::TEST,
            "domain is not running",
        ));
    }
    Ok(())
}

/// `virDomainObjListExport` filtering with `virConnectListAllDomainsFlags`.
fn matches_list_flags(obj: &DomainObj, f: u32) -> bool {
    use flags::list::*;
    let pair = |yes: u32, no: u32, is: bool| {
        f & (yes | no) == 0 || (is && f & yes != 0) || (!is && f & no != 0)
    };
    let state_ok = f & (RUNNING | PAUSED | SHUTOFF | OTHER) == 0
        || match obj.state {
            DomainState::Running => f & RUNNING != 0,
            DomainState::Paused => f & PAUSED != 0,
            DomainState::Shutoff => f & SHUTOFF != 0,
            _ => f & OTHER != 0,
        };
    pair(ACTIVE, INACTIVE, obj.is_active())
        && pair(PERSISTENT, TRANSIENT, obj.persistent)
        && state_ok
        && pair(MANAGEDSAVE, NO_MANAGEDSAVE, obj.has_managed_save)
        && pair(AUTOSTART, NO_AUTOSTART, obj.autostart)
        && pair(
            HAS_SNAPSHOT,
            NO_SNAPSHOT,
            crate::snapshots::has_snapshots(obj),
        )
        && pair(HAS_CHECKPOINT, NO_CHECKPOINT, false)
}

use crate::check_flags;

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl HypervisorConnection for TestConnection {
    /// Incoming migrations this connection prepared and did not finish
    /// die with it, as libvirt's close callback on the preparing
    /// connection kills the incoming guest.
    fn close(&self) -> Result<()> {
        self.prepared.discard_all(&self.state);
        Ok(())
    }
    /// Reads take the driver's state lock only briefly (migration moves
    /// its data outside it), so they never wait on a job.
    fn reads_are_quick(&self) -> bool {
        true
    }
    fn snapshots(&self) -> Option<&dyn rvirt::driver::SnapshotDriver> {
        Some(self)
    }
    fn checkpoints(&self) -> Option<&dyn rvirt::driver::CheckpointDriver> {
        Some(self)
    }
    fn tuning(&self) -> Option<&dyn rvirt::driver::TuningDriver> {
        Some(self)
    }
    fn guest(&self) -> Option<&dyn rvirt::driver::GuestDriver> {
        Some(self)
    }
    fn save(&self) -> Option<&dyn rvirt::driver::SaveDriver> {
        Some(self)
    }
    fn host(&self) -> Option<&dyn rvirt::driver::HostDriver> {
        Some(self)
    }
    fn network(&self) -> Option<&dyn rvirt::driver::NetworkDriver> {
        Some(&self.networks)
    }
    fn storage(&self) -> Option<&dyn rvirt::driver::StorageDriver> {
        Some(&self.storage)
    }
    fn node_devices(&self) -> Option<&dyn rvirt::driver::NodeDeviceDriver> {
        Some(self)
    }
    fn interfaces(&self) -> Option<&dyn rvirt::driver::InterfaceDriver> {
        Some(self)
    }
    fn get_type(&self) -> Result<String> {
        Ok("TEST".into())
    }
    fn get_version(&self) -> Result<u64> {
        Ok(2)
    }
    fn get_hostname(&self) -> Result<String> {
        rvirt_util::host::hostname()
    }
    fn get_uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }
    fn get_max_vcpus(&self, _type: Option<&str>) -> Result<i32> {
        Ok(32)
    }
    fn supports_feature(&self, feature: i32) -> Result<bool> {
        use flags::feature::*;
        Ok(matches!(
            feature,
            MIGRATION_V1
                | MIGRATION_V2
                | MIGRATION_V3
                | MIGRATION_P2P
                | MIGRATION_DIRECT
                | MIGRATION_PARAMS
                | MIGRATION_OFFLINE
                | MIGRATE_CHANGE_PROTECTION
                | NETWORK_UPDATE_HAS_CORRECT_ORDER
                | TYPED_PARAM_STRING
        ))
    }
    fn node_get_info(&self) -> Result<NodeInfo> {
        Ok(self.state.node.clone())
    }
    /// `testNodeGetCPUMap`: fixed figures (8 CPUs, 0, 2 and 4 online),
    /// whatever the node.
    fn node_get_cpu_map(&self, flags: u32) -> Result<(i32, Vec<u8>, u32)> {
        check_flags("testNodeGetCPUMap", flags, 0)?;
        Ok((8, vec![0x15], 3))
    }
    fn get_capabilities(&self) -> Result<String> {
        Ok(crate::caps::capabilities_xml())
    }
    fn node_get_security_model(&self) -> Result<SecurityModel> {
        Ok(SecurityModel {
            model: "testSecurity".into(),
            doi: String::new(),
        })
    }

    fn list_all_domains(&self, flags: u32) -> Result<Vec<DomainRef>> {
        let inner = self.state.lock();
        Ok(inner
            .domains
            .iter()
            .filter(|o| matches_list_flags(o, flags))
            .map(DomainObj::domain_ref)
            .collect())
    }
    fn list_domains(&self, max: usize) -> Result<Vec<i32>> {
        let inner = self.state.lock();
        let mut ids: Vec<i32> = inner
            .domains
            .iter()
            .filter(|o| o.is_active())
            .map(|o| o.id)
            .collect();
        ids.sort_unstable();
        ids.truncate(max);
        Ok(ids)
    }
    fn num_of_domains(&self) -> Result<usize> {
        Ok(self
            .state
            .lock()
            .domains
            .iter()
            .filter(|o| o.is_active())
            .count())
    }
    fn list_defined_domains(&self, max: usize) -> Result<Vec<String>> {
        let inner = self.state.lock();
        Ok(inner
            .domains
            .iter()
            .filter(|o| !o.is_active())
            .take(max)
            .map(|o| o.def.name.clone())
            .collect())
    }
    fn num_of_defined_domains(&self) -> Result<usize> {
        Ok(self
            .state
            .lock()
            .domains
            .iter()
            .filter(|o| !o.is_active())
            .count())
    }

    fn domain_lookup_by_name(&self, name: &str) -> Result<DomainRef> {
        self.lookup(|d| d.by_name(name), no_such_domain)
    }
    fn domain_lookup_by_id(&self, id: i32) -> Result<DomainRef> {
        self.lookup(|d| d.by_id(id), no_such_domain)
    }
    fn domain_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<DomainRef> {
        self.lookup(|d| d.by_uuid(uuid), no_such_domain)
    }

    fn domain_define_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        check_flags("testDomainDefineXMLFlags", flags, flags::define::VALIDATE)?;
        // Parse before taking the state lock: a large document must not
        // hold up every lookup and list on this host while it is read.
        let def = parse_domain(xml)?;
        // testDomainDefineXMLFlags refuses a newline in the name (the name
        // becomes a file name); createXML does not check it.
        rvirt_conf::domain::check_illegal_chars("name", &def.name, "\n")?;
        self.state.with(|inner| {
            self.check_unprotected(def.uuid.as_bytes())?;
            inner.define_persistent(def)
        })
    }
    fn domain_undefine(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags(
            "testDomainUndefineFlags",
            flags,
            flags::undefine::MANAGED_SAVE
                | flags::undefine::SNAPSHOTS_METADATA
                | flags::undefine::NVRAM
                | flags::undefine::KEEP_NVRAM
                | flags::undefine::CHECKPOINTS_METADATA
                | flags::undefine::TPM
                | flags::undefine::KEEP_TPM,
        )?;
        self.check_unprotected(&dom.uuid)?;
        self.state.with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            if obj.has_managed_save && flags & flags::undefine::MANAGED_SAVE == 0 {
                return Err(Error::operation_invalid(
                    ErrorDomain::TEST,
                    "Refusing to undefine while domain managed save image exists",
                ));
            }
            let nsnapshots = obj.snapshots.names(None, 0).len();
            if !obj.is_active()
                && nsnapshots > 0
                && flags & flags::undefine::SNAPSHOTS_METADATA == 0
            {
                return Err(Error::operation_invalid(
                    ErrorDomain::TEST,
                    format!("cannot delete inactive domain with {nsnapshots} snapshots"),
                ));
            }
            let r = obj.domain_ref();
            if obj.is_active() {
                obj.persistent = false;
                obj.new_def = None;
                obj.autostart = false;
            } else {
                inner.domains.remove(&dom.uuid);
            }
            inner.emit_lifecycle(r, lifecycle::UNDEFINED, lifecycle::UNDEFINED_REMOVED);
            Ok(())
        })
    }
    fn domain_create_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        check_flags("testDomainCreateXML", flags, flags::create::VALIDATE)?;
        let def = parse_domain(xml)?; // outside the lock, as for define
        self.state.with(|inner| inner.create_live(def))
    }
    fn domain_create(&self, dom: &DomainRef, flags: u32) -> Result<DomainRef> {
        check_flags("testDomainCreateWithFlags", flags, 0)?;
        self.state.with(|inner| {
            if inner.domains.get(dom)?.state != DomainState::Shutoff {
                return Err(Error::internal(
                    ErrorDomain::TEST,
                    format!("Domain '{}' is already running", dom.name),
                ));
            }
            let id = inner.allocate_id();
            let obj = inner.domains.get_mut(dom)?;
            obj.id = id;
            obj.set_state(DomainState::Running, reason::RUNNING_BOOTED);
            obj.has_managed_save = false;
            let r = obj.domain_ref();
            inner.emit_lifecycle(r.clone(), lifecycle::STARTED, lifecycle::STARTED_BOOTED);
            Ok(r)
        })
    }
    fn domain_shutdown(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainShutdownFlags", flags, 0x3f)?;
        // libvirt's test driver shuts down paused guests too.
        self.stop(dom, |obj| {
            if !obj.is_active() {
                return Err(not_running(&obj.def.name));
            }
            Ok((reason::SHUTOFF_SHUTDOWN, lifecycle::STOPPED_SHUTDOWN))
        })
    }
    fn domain_destroy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainDestroyFlags", flags, 1)?;
        self.stop(dom, |obj| {
            check_active(obj)?;
            Ok((reason::SHUTOFF_DESTROYED, lifecycle::STOPPED_DESTROYED))
        })
    }
    fn domain_suspend(&self, dom: &DomainRef) -> Result<()> {
        self.state.with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            if obj.state != DomainState::Running {
                return Err(not_running(&obj.def.name));
            }
            obj.set_state(DomainState::Paused, reason::PAUSED_USER);
            let r = obj.domain_ref();
            inner.emit_lifecycle(r, lifecycle::SUSPENDED, lifecycle::SUSPENDED_PAUSED);
            Ok(())
        })
    }
    fn domain_resume(&self, dom: &DomainRef) -> Result<()> {
        self.state.with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            if obj.state != DomainState::Paused {
                return Err(Error::internal(
                    ErrorDomain::TEST,
                    format!("domain '{}' not paused", obj.def.name),
                ));
            }
            obj.set_state(DomainState::Running, reason::RUNNING_UNPAUSED);
            let r = obj.domain_ref();
            inner.emit_lifecycle(r, lifecycle::RESUMED, lifecycle::RESUMED_UNPAUSED);
            Ok(())
        })
    }
    fn domain_reboot(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainReboot", flags, 0x3f)?;
        let action = self.read(dom, |obj| {
            check_active(obj)?;
            Ok(obj.def.on_reboot)
        })?;
        if action == LifecycleAction::Destroy {
            return self.stop(dom, |_| {
                Ok((reason::SHUTOFF_SHUTDOWN, lifecycle::STOPPED_SHUTDOWN))
            });
        }
        self.state.with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            match action {
                LifecycleAction::Preserve => {
                    obj.set_state(DomainState::Shutdown, reason::SHUTDOWN_USER)
                }
                _ => obj.set_state(DomainState::Running, reason::RUNNING_BOOTED),
            }
            let r = obj.domain_ref();
            inner.emit(r, DomainEvent::Reboot);
            Ok(())
        })
    }

    fn domain_get_info(&self, dom: &DomainRef) -> Result<DomainInfo> {
        self.read(dom, |obj| {
            Ok(DomainInfo {
                state: obj.state,
                max_mem: obj.def.memory_kib,
                memory: obj.def.current_memory_kib,
                nr_virt_cpu: obj.def.current_vcpus.unwrap_or(obj.def.vcpus) as u16,
                cpu_time: now_ns(),
            })
        })
    }
    fn domain_get_state(&self, dom: &DomainRef, flags: u32) -> Result<(DomainState, i32)> {
        check_flags("testDomainGetState", flags, 0)?;
        self.read(dom, |obj| Ok((obj.state, obj.reason)))
    }
    fn domain_get_xml_desc(&self, dom: &DomainRef, flags: u32) -> Result<String> {
        use flags::xml::*;
        check_flags(
            "testDomainGetXMLDesc",
            flags,
            SECURE | INACTIVE | UPDATE_CPU | MIGRATABLE,
        )?;
        self.read(dom, |obj| {
            let inactive = flags & (INACTIVE | MIGRATABLE) != 0 || !obj.is_active();
            let def = if flags & INACTIVE != 0 {
                obj.persistent_def()
            } else {
                &obj.def
            };
            Ok(def.format(&FormatOptions {
                id: (!inactive).then_some(obj.id),
                inactive,
                secure: flags & SECURE != 0,
            }))
        })
    }
    fn domain_get_os_type(&self, dom: &DomainRef) -> Result<String> {
        self.read(dom, |_| Ok("linux".into()))
    }
    fn domain_get_max_memory(&self, dom: &DomainRef) -> Result<u64> {
        self.read(dom, |obj| Ok(obj.def.memory_kib))
    }
    fn domain_get_hostname(&self, dom: &DomainRef, flags: u32) -> Result<String> {
        check_flags("testDomainGetHostname", flags, 0)?;
        // libvirt's test driver makes one up from the name.
        self.read(dom, |obj| {
            check_active(obj)?;
            Ok(format!("{}host", obj.def.name))
        })
    }
    fn domain_get_vcpus_flags(&self, dom: &DomainRef, flags: u32) -> Result<i32> {
        // VIR_DOMAIN_VCPU_MAXIMUM = 4: the maximum instead of the current count.
        self.read(dom, |obj| {
            let def = if flags & 2 != 0 {
                obj.persistent_def()
            } else {
                &obj.def
            };
            Ok(if flags & 4 != 0 {
                def.vcpus
            } else {
                def.current_vcpus.unwrap_or(def.vcpus)
            } as i32)
        })
    }
    fn domain_get_autostart(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.autostart))
    }
    fn domain_set_autostart(&self, dom: &DomainRef, autostart: bool) -> Result<()> {
        self.state.with(|inner| {
            inner.domains.get_mut(dom)?.autostart = autostart;
            Ok(())
        })
    }
    fn domain_is_active(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.is_active()))
    }
    fn domain_is_persistent(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.persistent))
    }
    fn domain_is_updated(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |_| Ok(false))
    }
    fn domain_has_managed_save_image(&self, dom: &DomainRef, _flags: u32) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.has_managed_save))
    }
    fn domain_get_metadata(
        &self,
        dom: &DomainRef,
        kind: i32,
        _uri: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        // VIR_DOMAIN_AFFECT_LIVE = 1, VIR_DOMAIN_AFFECT_CONFIG = 2.
        check_flags("testDomainGetMetadata", flags, 3)?;
        self.read(dom, |obj| {
            let def = if flags & 2 != 0 {
                obj.persistent_def()
            } else {
                &obj.def
            };
            let value = match kind {
                flags::metadata::DESCRIPTION => def.description.clone(),
                flags::metadata::TITLE => def.title.clone(),
                _ => {
                    return Err(Error::new(
                        ErrorDomain::DOMAIN,
                        ErrorCode::ARGUMENT_UNSUPPORTED,
                        "custom metadata elements are not readable through the test driver",
                    ))
                }
            };
            value.ok_or_else(|| {
                Error::new(
                    ErrorDomain::DOMAIN,
                    ErrorCode::NO_DOMAIN_METADATA,
                    "Requested metadata element is not present",
                )
            })
        })
    }
    fn domain_get_security_label(&self, dom: &DomainRef) -> Result<SecurityLabel> {
        self.read(dom, |obj| {
            Ok(if obj.is_active() {
                SecurityLabel {
                    label: "libvirt-test".into(),
                    enforcing: true,
                }
            } else {
                SecurityLabel::default()
            })
        })
    }

    fn domain_set_memory_flags(&self, dom: &DomainRef, kib: u64, flags: u32) -> Result<()> {
        crate::memory::set_memory_flags(self, dom, kib, flags)
    }
    fn domain_set_vcpus_flags(&self, dom: &DomainRef, nvcpus: u32, flags: u32) -> Result<()> {
        crate::pinning::set_vcpus(self, dom, nvcpus, flags)
    }
    fn domain_reset(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        crate::memory::reset(self, dom, flags)
    }
    fn domain_memory_stats(
        &self,
        dom: &DomainRef,
        max: u32,
        flags: u32,
    ) -> Result<Vec<(i32, u64)>> {
        crate::memory::memory_stats(self, dom, max, flags)
    }
    fn domain_get_control_info(&self, dom: &DomainRef, flags: u32) -> Result<(u32, u32, u64)> {
        crate::memory::control_info(self, dom, flags)
    }
    fn domain_inject_nmi(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("testDomainInjectNMI", flags, 0)?;
        self.read(dom, crate::memory::check_active)
    }
    fn domain_get_disk_errors(
        &self,
        dom: &DomainRef,
        max: u32,
        flags: u32,
    ) -> Result<(Vec<(String, i32)>, i32)> {
        crate::memory::disk_errors(self, dom, max, flags)
    }
    fn domain_block_stats(&self, dom: &DomainRef, path: &str) -> Result<BlockStats> {
        crate::device_stats::block_stats(self, dom, path)
    }
    fn domain_interface_stats(&self, dom: &DomainRef, device: &str) -> Result<InterfaceStats> {
        crate::device_stats::interface_stats(self, dom, device)
    }
    fn domain_screenshot(
        &self,
        _dom: &DomainRef,
        st: &rvirt::Stream,
        _screen: u32,
        flags: u32,
    ) -> Result<Option<String>> {
        crate::screenshot::take(st, flags)
    }
    fn domain_event_register_any(
        &self,
        dom: Option<&DomainRef>,
        event_id: i32,
        callback: EventCallback,
    ) -> Result<i32> {
        Ok(self.events.register(dom, event_id, callback))
    }
    fn domain_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        rvirt::events::deregistered(self.events.deregister(callback_id), callback_id)
    }
}

impl TestConnection {
    /// The domain `find` picks from this host's list, or `missing`'s error.
    fn lookup(
        &self,
        find: impl FnOnce(&DomainList) -> Option<&DomainObj>,
        missing: impl FnOnce() -> Error,
    ) -> Result<DomainRef> {
        let inner = self.state.lock();
        find(&inner.domains)
            .map(DomainObj::domain_ref)
            .ok_or_else(missing)
    }

    /// `VIR_MIGRATE_CHANGE_PROTECTION`: no configuration change while the
    /// domain is being migrated out.
    fn check_unprotected(&self, uuid: &[u8; 16]) -> Result<()> {
        if self.state.migration.is_protected(uuid) {
            return Err(Error::operation_invalid(
                ErrorDomain::TEST,
                "domain is being migrated with change protection",
            ));
        }
        Ok(())
    }

    /// Stop a running domain after `check` approves, choosing the shut-off
    /// reason and event detail; a transient domain disappears.
    pub(crate) fn stop(
        &self,
        dom: &DomainRef,
        check: impl FnOnce(&DomainObj) -> Result<(i32, i32)>,
    ) -> Result<()> {
        self.state.with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            let (why, detail) = check(obj)?;
            let r = obj.domain_ref();
            obj.stop(why);
            if !obj.persistent {
                inner.domains.remove(&dom.uuid);
            }
            inner.emit_lifecycle(r, lifecycle::STOPPED, detail);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    const BAR: &str = "<domain type='test'><name>bar</name><memory>1024</memory>\
                       <os><type>hvm</type></os></domain>";

    /// During the parse of a define or create, the state lock is free and a
    /// concurrent list from another thread completes (it used to wait for
    /// the whole parse). The hook runs inside the parse, so this does not
    /// depend on timing: with the lock held, `try_lock` fails and the list
    /// blocks until the parse is over, far past the 10 s allowed.
    #[test]
    fn caller_xml_is_parsed_outside_the_state_lock() {
        let state =
            Arc::new(TestState::default_config(crate::migration::derived_host_uuid()).unwrap());
        let conn = Arc::new(TestConnection::new(state.clone(), "test:///x".into()));
        let seen: Arc<std::sync::Mutex<Vec<(bool, bool)>>> = Arc::default();
        let (hook_state, hook_conn, hook_seen) = (state.clone(), conn.clone(), seen.clone());
        crate::state::set_parse_hook(Some(Box::new(move || {
            let free = hook_state.try_lock_free();
            let (tx, rx) = mpsc::channel();
            let reader = hook_conn.clone();
            std::thread::spawn(move || {
                let _ = tx.send(reader.list_all_domains(0).is_ok());
            });
            let listed = rx.recv_timeout(Duration::from_secs(10)).unwrap_or(false);
            hook_seen.lock().unwrap().push((free, listed));
        })));
        let defined = conn.domain_define_xml(BAR, 0).map(|d| d.name);
        let created = conn
            .domain_create_xml(&BAR.replace("bar", "baz"), 0)
            .map(|d| d.name);
        crate::state::set_parse_hook(None);
        assert_eq!(defined.unwrap(), "bar");
        assert_eq!(created.unwrap(), "baz");
        assert_eq!(*seen.lock().unwrap(), [(true, true), (true, true)]);
    }
}
