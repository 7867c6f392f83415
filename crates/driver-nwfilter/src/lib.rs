//! The network filter driver (libvirt's src/nwfilter/nwfilter_driver.c
//! with the object list rules of src/conf/virnwfilterobj.c): filters
//! defined, replaced (same name and UUID), looked up by name and UUID,
//! listed and undefined, with libvirt's checks (a UUID keeps its name, a
//! name keeps its UUID, no `<filterref>` loop), persisted in a directory
//! as libvirt keeps `/etc/libvirt/nwfilter` ([`persist`]) and loaded
//! again when the daemon starts.
//!
//! Filter bindings (`virNWFilterBinding*`) are created, listed, looked up
//! and deleted, and kept as status files ([`persist::BindingFiles`]). libvirt
//! applies a binding's rules to its port when the port exists and leaves a
//! binding of a port that does not exist (yet) uninstantiated; rvirt does
//! not apply filter rules (ebtables/iptables) yet, so it creates only the
//! latter and refuses a binding of an existing port by name, as the QEMU
//! driver refuses an interface's `<filterref>`.

pub mod connect;
pub mod persist;

pub use connect::register;
use parking_lot::Mutex;
use persist::{BindingFiles, FilterFiles};
use rvirt::driver::nwfilter::ERROR_DOMAIN;
use rvirt::driver::{NWFilterBindingRef, NWFilterDriver, NWFilterRef};
use rvirt_conf::nwfilter::binding::{BindingDef, CREATE_VALIDATE};
use rvirt_conf::nwfilter::{Entry, NWFilterDef, DEFINE_VALIDATE};
use rvirt_util::{Error, ErrorCode, Result};

#[derive(Default)]
pub struct NWFilterStore {
    filters: Mutex<Vec<NWFilterDef>>,
    bindings: Mutex<Vec<BindingDef>>,
    /// Where filters live; none: memory only.
    files: Option<FilterFiles>,
    /// Where bindings' status files live; none: memory only.
    binding_files: Option<BindingFiles>,
    /// libvirt refuses definitions in session mode.
    privileged: bool,
}

fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    rvirt::connect::check_flags_in(ERROR_DOMAIN, api, given, allowed)
}

fn failed(msg: String) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::OPERATION_FAILED, msg)
}

fn reference(def: &NWFilterDef) -> NWFilterRef {
    NWFilterRef {
        name: def.name.clone(),
        uuid: def.uuid,
    }
}

fn binding_ref(def: &BindingDef) -> NWFilterBindingRef {
    NWFilterBindingRef {
        portdev: def.portdev.clone(),
        filter: def.filter.filter.clone(),
    }
}

fn no_uuid(uuid: &[u8; 16]) -> Error {
    let uuid = rvirt_util::uuid::Uuid::from_bytes(*uuid);
    Error::new(
        ERROR_DOMAIN,
        ErrorCode::NO_NWFILTER,
        format!("no nwfilter with matching uuid '{uuid}'"),
    )
}

fn no_binding(portdev: &str) -> Error {
    Error::new(
        ERROR_DOMAIN,
        ErrorCode::NO_NWFILTER_BINDING,
        format!("no nwfilter binding for port dev '{portdev}'"),
    )
}

/// `virNetDevExists`: whether the host has a network device of that name.
fn port_exists(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('/')
        && name != "."
        && name != ".."
        && std::path::Path::new("/sys/class/net").join(name).exists()
}

/// `_virNWFilterObjListDefLoopDetect`: whether `def`'s includes reach a
/// filter named `name`, through the filters of `list`.
fn reaches(list: &[NWFilterDef], def: &NWFilterDef, name: &str, depth: usize) -> bool {
    // The list itself has no loop, so the depth is bounded by its length.
    if depth > list.len() {
        return true;
    }
    def.entries.iter().any(|e| match e {
        Entry::Include(inc) if inc.filter == name => true,
        Entry::Include(inc) => list
            .iter()
            .find(|d| d.name == inc.filter)
            .is_some_and(|d| reaches(list, d, name, depth + 1)),
        Entry::Rule(_) => false,
    })
}

/// `virNWFilterObjListAssignDef`: replace the definition of the same
/// name and UUID, or add a new filter whose name and UUID are free.
fn assign(list: &mut Vec<NWFilterDef>, def: NWFilterDef) -> Result<Option<NWFilterDef>> {
    if let Some(old) = list.iter().find(|d| d.uuid == def.uuid) {
        if old.name != def.name {
            return Err(failed(format!(
                "filter with same UUID but different name ('{}') already exists",
                old.name
            )));
        }
    } else if let Some(old) = list.iter().find(|d| d.name == def.name) {
        return Err(failed(format!(
            "filter '{}' already exists with uuid {}",
            def.name,
            old.uuid_string()
        )));
    }
    if reaches(list, &def, &def.name, 0) {
        return Err(failed("filter would introduce a loop".into()));
    }
    match list.iter_mut().find(|d| d.name == def.name) {
        Some(slot) => Ok(Some(std::mem::replace(slot, def))),
        None => {
            list.push(def);
            Ok(None)
        }
    }
}

impl NWFilterStore {
    /// A store backed by `files` and `binding_files`, holding the filters
    /// and bindings found there.
    pub fn persistent(
        files: FilterFiles,
        binding_files: BindingFiles,
        privileged: bool,
    ) -> NWFilterStore {
        let mut filters = Vec::new();
        for def in files.load_all() {
            let name = def.name.clone();
            if let Err(e) = assign(&mut filters, def) {
                tracing::error!("network filter '{name}' not loaded: {}", e.message);
            }
        }
        let bindings = binding_files.load_all();
        for b in bindings.iter().filter(|b| port_exists(&b.portdev)) {
            tracing::warn!(
                "network filter binding of port '{}' kept, its rules not applied",
                b.portdev
            );
        }
        NWFilterStore {
            filters: Mutex::new(filters),
            bindings: Mutex::new(bindings),
            files: Some(files),
            binding_files: Some(binding_files),
            privileged,
        }
    }

    /// A store in memory only (tests, or a daemon without a directory).
    pub fn in_memory(privileged: bool) -> NWFilterStore {
        NWFilterStore {
            privileged,
            ..NWFilterStore::default()
        }
    }

    fn with_filter<R>(&self, uuid: &[u8; 16], f: impl FnOnce(&NWFilterDef) -> R) -> Result<R> {
        let list = self.filters.lock();
        list.iter()
            .find(|d| d.uuid == *uuid)
            .map(f)
            .ok_or_else(|| no_uuid(uuid))
    }

    fn find_binding<R>(&self, portdev: &str, f: impl FnOnce(&BindingDef) -> R) -> Result<R> {
        let list = self.bindings.lock();
        list.iter()
            .find(|b| b.portdev == portdev)
            .map(f)
            .ok_or_else(|| no_binding(portdev))
    }
}

impl NWFilterDriver for NWFilterStore {
    fn num_of_nwfilters(&self) -> Result<usize> {
        Ok(self.filters.lock().len())
    }
    fn list_nwfilters(&self, max: usize) -> Result<Vec<String>> {
        let list = self.filters.lock();
        Ok(list.iter().take(max).map(|d| d.name.clone()).collect())
    }
    fn list_all_nwfilters(&self, flags: u32) -> Result<Vec<NWFilterRef>> {
        check_flags("nwfilterConnectListAllNWFilters", flags, 0)?;
        Ok(self.filters.lock().iter().map(reference).collect())
    }
    fn lookup_by_name(&self, name: &str) -> Result<NWFilterRef> {
        let list = self.filters.lock();
        list.iter()
            .find(|d| d.name == name)
            .map(reference)
            .ok_or_else(|| {
                Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::NO_NWFILTER,
                    format!("no nwfilter with matching name '{name}'"),
                )
            })
    }
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<NWFilterRef> {
        self.with_filter(uuid, reference)
    }
    /// `nwfilterDefineXMLFlags`: parsed, assigned, saved; a definition
    /// that cannot be saved is taken back.
    fn define_xml(&self, xml: &str, flags: u32) -> Result<NWFilterRef> {
        check_flags("nwfilterDefineXMLFlags", flags, DEFINE_VALIDATE)?;
        if !self.privileged {
            return Err(Error::operation_invalid(
                ERROR_DOMAIN,
                "Can't define NWFilters in session mode",
            ));
        }
        let def = NWFilterDef::parse(xml)?;
        let r = reference(&def);
        let mut list = self.filters.lock();
        let old = assign(&mut list, def)?;
        let saved = match &self.files {
            Some(files) => files.save(list.iter().find(|d| d.uuid == r.uuid).expect("assigned")),
            None => Ok(()),
        };
        if let Err(e) = saved {
            // virNWFilterObjListRemove: the filter is gone from the list,
            // whether it was new or replaced.
            list.retain(|d| d.uuid != r.uuid);
            drop(old);
            return Err(e);
        }
        Ok(r)
    }
    /// `nwfilterUndefine`: a filter a binding applies is in use.
    fn undefine(&self, filter: &NWFilterRef) -> Result<()> {
        let mut list = self.filters.lock();
        let name = list
            .iter()
            .find(|d| d.uuid == filter.uuid)
            .map(|d| d.name.clone())
            .ok_or_else(|| no_uuid(&filter.uuid))?;
        // virNWFilterObjTestUnassignDef: the bindings whose port exists
        // would be rebuilt without the filter; those of absent ports are
        // skipped.
        let in_use = self.bindings.lock().iter().any(|b| {
            port_exists(&b.portdev)
                && (b.filter.filter == name
                    || list
                        .iter()
                        .find(|d| d.name == b.filter.filter)
                        .is_some_and(|d| reaches(&list, d, &name, 0)))
        });
        if in_use {
            return Err(Error::operation_invalid(ERROR_DOMAIN, "nwfilter is in use"));
        }
        if let Some(files) = &self.files {
            files.delete(&name)?;
        }
        list.retain(|d| d.uuid != filter.uuid);
        Ok(())
    }
    fn get_xml_desc(&self, filter: &NWFilterRef, flags: u32) -> Result<String> {
        check_flags("nwfilterGetXMLDesc", flags, 0)?;
        self.with_filter(&filter.uuid, NWFilterDef::format)
    }

    fn list_all_bindings(&self, flags: u32) -> Result<Vec<NWFilterBindingRef>> {
        check_flags("nwfilterConnectListAllNWFilterBindings", flags, 0)?;
        Ok(self.bindings.lock().iter().map(binding_ref).collect())
    }
    fn binding_lookup_by_port_dev(&self, portdev: &str) -> Result<NWFilterBindingRef> {
        self.find_binding(portdev, binding_ref)
    }
    fn binding_get_xml_desc(&self, binding: &NWFilterBindingRef, flags: u32) -> Result<String> {
        check_flags("nwfilterBindingGetXMLDesc", flags, 0)?;
        self.find_binding(&binding.portdev, BindingDef::format)
    }
    /// `nwfilterBindingCreateXML`: a binding of a port the host does not
    /// have is kept uninstantiated, as libvirt keeps it; one of an existing
    /// port would need its rules applied, which rvirt refuses.
    fn binding_create_xml(&self, xml: &str, flags: u32) -> Result<NWFilterBindingRef> {
        check_flags("nwfilterBindingCreateXML", flags, CREATE_VALIDATE)?;
        if !self.privileged {
            return Err(Error::operation_invalid(
                ERROR_DOMAIN,
                "Can't define NWFilter bindings in session mode",
            ));
        }
        let def = BindingDef::parse(xml)?;
        let mut list = self.bindings.lock();
        if list.iter().any(|b| b.portdev == def.portdev) {
            return Err(failed(format!("binding '{}' already exists", def.portdev)));
        }
        if port_exists(&def.portdev) {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::OPERATION_UNSUPPORTED,
                format!(
                    "applying network filter '{}' to port '{}' is not supported by rvirt yet",
                    def.filter.filter, def.portdev
                ),
            ));
        }
        let r = binding_ref(&def);
        if let Some(files) = &self.binding_files {
            // libvirt logs a failed save and keeps the binding.
            if let Err(e) = files.save(&def) {
                tracing::error!("{}", e.message);
            }
        }
        list.push(def);
        Ok(r)
    }
    fn binding_delete(&self, binding: &NWFilterBindingRef) -> Result<()> {
        let mut list = self.bindings.lock();
        let before = list.len();
        list.retain(|b| b.portdev != binding.portdev);
        if list.len() == before {
            return Err(no_binding(&binding.portdev));
        }
        if let Some(files) = &self.binding_files {
            files.delete(&binding.portdev);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
