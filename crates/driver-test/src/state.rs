//! One test-driver host: its node figures, its domains, and the event
//! registries of the connections open on it.

use crate::node::{NodeDescription, DEFAULT_NODE_XML};
use crate::objects::{AddMode, DomainList};
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::events::{lifecycle, DomainEvent, EventRegistry};
use rvirt::types::{reason, DomainState, NodeInfo};
use rvirt_conf::DomainDef;
use rvirt_util::Result;
use std::sync::{Arc, Weak};

pub struct TestState {
    pub node: NodeInfo,
    /// Jobs and migrations in and out of this host.
    pub migration: crate::migration::HostMigration,
    /// The one lock left on std's Mutex (the workspace uses parking_lot):
    /// with parking_lot's here, a `migrateSetMaxSpeed` during a running
    /// migration took effect only when the migration ended
    /// (crates/rvirtd/tests/migrate_python.rs, "raised speed took effect").
    /// The migration sender and the API calls contend for this lock in a
    /// way std's hand-off serves and parking_lot's did not; until that is
    /// understood, it stays std, with the poison fallback in [`Self::lock`].
    inner: std::sync::Mutex<Inner>,
    listeners: Mutex<Vec<Weak<EventRegistry>>>,
    /// The host's virtual networks (their own lock and event listeners).
    pub networks: Arc<crate::network::NetworkHost>,
    /// Storage pools and volumes, under their own lock.
    pub storage: crate::storage::StorageState,
    /// Node devices and host interfaces.
    pub host_objects: crate::host_objects::HostObjects,
    /// The node file's `<auth>` users: with any, opening needs credentials.
    pub auth_users: Vec<crate::node::AuthUser>,
    /// NUMA cells whose memory the host calls report: two on
    /// `test:///default`, none on a node file (libvirt's `numCells`).
    pub numa_cells: u32,
}

pub struct Inner {
    pub domains: DomainList,
    next_id: i32,
    /// Events raised under the lock, delivered after it is released.
    pending: Vec<(DomainRef, DomainEvent)>,
}

impl Inner {
    pub fn allocate_id(&mut self) -> i32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn emit(&mut self, dom: DomainRef, event: DomainEvent) {
        self.pending.push((dom, event));
    }

    pub fn emit_lifecycle(&mut self, dom: DomainRef, event: i32, detail: i32) {
        self.emit(dom, DomainEvent::Lifecycle { event, detail });
    }

    /// Make a definition persistent, new or replacing the one with its
    /// name, and raise the DEFINED event libvirt does (added or updated).
    pub fn define_persistent(&mut self, def: DomainDef) -> Result<DomainRef> {
        let (index, existed) = self.domains.add(def, AddMode::Config)?;
        let obj = self.domains.at_mut(index);
        obj.persistent = true;
        let dom = obj.domain_ref();
        let detail = if existed {
            lifecycle::DEFINED_UPDATED
        } else {
            lifecycle::DEFINED_ADDED
        };
        self.emit_lifecycle(dom.clone(), lifecycle::DEFINED, detail);
        Ok(dom)
    }

    /// Add a definition and start it (`virDomainCreateXML`).
    pub fn create_live(&mut self, def: DomainDef) -> Result<DomainRef> {
        let running = (DomainState::Running, reason::RUNNING_BOOTED);
        let (dom, _) = self.add_live(def, running, lifecycle::STARTED_BOOTED)?;
        Ok(dom)
    }

    /// Add a definition as an active domain with a fresh id, in `state`
    /// for its reason, and raise STARTED with `detail`
    /// (`virDomainObjListAdd` with `VIR_DOMAIN_OBJ_LIST_ADD_LIVE`). Also
    /// says whether a domain of that name existed before.
    pub fn add_live(
        &mut self,
        def: DomainDef,
        (state, why): (DomainState, i32),
        detail: i32,
    ) -> Result<(DomainRef, bool)> {
        let (index, existed) = self.domains.add(def, AddMode::Live)?;
        let id = self.allocate_id();
        let obj = self.domains.at_mut(index);
        obj.id = id;
        obj.set_state(state, why);
        let dom = obj.domain_ref();
        self.emit_lifecycle(dom.clone(), lifecycle::STARTED, detail);
        Ok((dom, existed))
    }
}

#[cfg(test)]
thread_local! {
    /// Called inside every parse on this thread, so a test can observe
    /// what is locked while a document is being read.
    static PARSE_HOOK: std::cell::RefCell<Option<Box<dyn Fn()>>> =
        const { std::cell::RefCell::new(None) };
}

#[cfg(test)]
pub fn set_parse_hook(hook: Option<Box<dyn Fn()>>) {
    PARSE_HOOK.with(|h| *h.borrow_mut() = hook);
}

/// Parse XML the way this driver's post-parse step completes it: the
/// architecture comes from the capabilities' guest for the OS type. Needs
/// no host state, so callers run it before taking the domains lock.
pub fn parse_domain(xml: &str) -> Result<DomainDef> {
    #[cfg(test)]
    PARSE_HOOK.with(|h| h.borrow().as_ref().map(|f| f()));
    post_parse(DomainDef::parse(xml)?)
}

/// A `<domain>` a node description embeds, completed as [`parse_domain`]
/// completes a document.
pub fn domain_from_element(el: &rvirt_conf::xml::Element) -> Result<DomainDef> {
    post_parse(DomainDef::from_element(el)?)
}

/// The domains a snapshot document embeds, completed as the driver
/// completes any domain it parses.
pub fn snapshot_post_parse(snap: &mut rvirt_conf::SnapshotDef) -> Result<()> {
    for slot in [&mut snap.dom, &mut snap.inactive_dom] {
        if let Some(def) = slot.take() {
            *slot = Some(post_parse(def)?);
        }
    }
    Ok(())
}

fn post_parse(mut def: DomainDef) -> Result<DomainDef> {
    def.os.arch.get_or_insert(crate::caps::DEFAULT_ARCH);
    generate_ifnames(&mut def);
    Ok(def)
}

/// Name every interface that has no target device `testnetN`, the first N
/// not already taken in this domain (libvirt's testDomainGenerateIfnames).
fn generate_ifnames(def: &mut DomainDef) {
    for i in 0..def.devices.interfaces.len() {
        if def.devices.interfaces[i].target_dev.is_some() {
            continue;
        }
        let taken = |name: &str| {
            def.devices
                .interfaces
                .iter()
                .any(|n| n.target_dev.as_deref() == Some(name))
        };
        let free = (0..1024)
            .map(|n| format!("testnet{n}"))
            .find(|name| !taken(name));
        def.devices.interfaces[i].target_dev = free;
    }
}

impl TestState {
    fn from_node(
        node: NodeDescription,
        path: Option<&str>,
        host_uuid: [u8; 16],
    ) -> Result<TestState> {
        let mut inner = Inner {
            domains: DomainList::default(),
            next_id: 1,
            pending: Vec::new(),
        };
        // Domains of a node description start out running and persistent,
        // as in libvirt's test driver.
        for el in &node.domains {
            let def = domain_from_element(el)?;
            let dom = inner.create_live(def)?;
            let obj = inner.domains.get_mut(&dom)?;
            obj.persistent = true;
            obj.reason = reason::RUNNING_UNKNOWN;
            crate::snapshot_list::load_node_snapshots(&mut obj.snapshots, el, &dom.name)?;
        }
        inner.pending.clear();
        Ok(TestState {
            node: node.info,
            migration: crate::migration::HostMigration::new(path, host_uuid),
            inner: std::sync::Mutex::new(inner),
            listeners: Mutex::new(Vec::new()),
            networks: Arc::new(crate::network::NetworkHost::from_elements(&node.networks)?),
            storage: crate::storage::StorageState::new(&node.pools)?,
            host_objects: crate::host_objects::HostObjects::new(path.is_none())?,
            auth_users: node.auth_users,
            numa_cells: if path.is_none() { 2 } else { 0 },
        })
    }

    pub fn default_config(host_uuid: [u8; 16]) -> Result<TestState> {
        TestState::from_node(
            NodeDescription::parse(DEFAULT_NODE_XML, "default", None)?,
            None,
            host_uuid,
        )
    }

    pub fn from_file(path: &str, host_uuid: [u8; 16]) -> Result<TestState> {
        TestState::from_node(NodeDescription::load(path)?, Some(path), host_uuid)
    }

    /// Run `f` with the domains locked, then deliver the events it raised.
    pub fn with<R>(&self, f: impl FnOnce(&mut Inner) -> Result<R>) -> Result<R> {
        let (result, events) = {
            let mut inner = self.lock();
            let result = f(&mut inner);
            (result, std::mem::take(&mut inner.pending))
        };
        if !events.is_empty() {
            let listeners: Vec<Arc<EventRegistry>> = {
                let mut list = self.listeners.lock();
                list.retain(|w| w.strong_count() > 0);
                list.iter().filter_map(Weak::upgrade).collect()
            };
            for (dom, event) in &events {
                for registry in &listeners {
                    registry.emit(dom, event);
                }
            }
        }
        result
    }

    /// Whether the domains lock is free right now (false when this very
    /// thread holds it: `try_lock` does not deadlock).
    #[cfg(test)]
    pub fn try_lock_free(&self) -> bool {
        self.inner.try_lock().is_ok()
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Listen for this host's events. Registries of closed connections are
    /// dropped here too, not only when an event fires: a daemon whose
    /// clients connect and leave without an event in between would
    /// otherwise keep one entry (and its registry's allocation, held by
    /// the `Weak`) per connection for ever.
    pub fn add_listener(&self, registry: &Arc<EventRegistry>) {
        let mut list = self.listeners.lock();
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(registry));
    }

    /// Entries in the listener list, live or not yet pruned.
    pub fn listener_entries(&self) -> usize {
        self.listeners.lock().len()
    }
}

#[cfg(test)]
mod listener_tests {
    use super::*;

    #[test]
    fn connections_that_come_and_go_leave_no_listener_behind() {
        let state =
            Arc::new(TestState::default_config(crate::migration::derived_host_uuid()).unwrap());
        let keep = crate::connection::TestConnection::new(state.clone(), "test:///default".into());
        for _ in 0..1000 {
            drop(crate::connection::TestConnection::new(
                state.clone(),
                "test:///default".into(),
            ));
        }
        assert!(
            state.listener_entries() <= 2,
            "{}",
            state.listener_entries()
        );
        drop(keep);
    }
}
