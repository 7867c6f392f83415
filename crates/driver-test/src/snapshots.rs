//! Snapshots on the test driver: libvirt's `testDomainSnapshot*` and
//! `testDomainRevertToSnapshot` (src/test/test_driver.c), with the checks,
//! state changes, events and messages they have. A snapshot keeps a copy
//! of the domain definition; reverting brings it back and sets the run
//! state the snapshot recorded (or the one the caller asks for).

use crate::check_flags;
use crate::connection::TestConnection;
use crate::objects::DomainObj;
use crate::snapshot_align::align_disks;
use crate::snapshot_list::SnapshotList;
use crate::state::Inner;
use rvirt::driver::{DomainRef, SnapshotDriver};
use rvirt::events::lifecycle;
use rvirt::flags::{snapshot_create as create, snapshot_delete as del};
use rvirt::flags::{snapshot_list as list, snapshot_revert as revert};
use rvirt::types::reason;
use rvirt_conf::snapshot::{Location, ParseFlags, SnapshotDef, SnapshotState, ERROR_DOMAIN};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

const LIST_FLAGS: u32 = list::ROOTS | list::TOPOLOGICAL | list::FILTERS_ALL;
const CHILD_FLAGS: u32 = list::DESCENDANTS | list::TOPOLOGICAL | list::FILTERS_ALL;

fn truncate(mut names: Vec<String>, max: Option<usize>) -> Vec<String> {
    if let Some(max) = max {
        names.truncate(max);
    }
    names
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl TestConnection {
    /// Read a domain's snapshot list under the state lock.
    fn snaps<R>(&self, dom: &DomainRef, f: impl FnOnce(&SnapshotList) -> Result<R>) -> Result<R> {
        let inner = self.state().lock();
        f(&inner.domains.get(dom)?.snapshots)
    }
}

impl SnapshotDriver for TestConnection {
    fn create_xml(&self, dom: &DomainRef, xml: &str, flags: u32) -> Result<String> {
        check_flags(
            "testDomainSnapshotCreateXML",
            flags,
            create::REDEFINE
                | create::CURRENT
                | create::HALT
                | create::QUIESCE
                | create::ATOMIC
                | create::LIVE
                | create::VALIDATE,
        )?;
        let redefine = flags & create::REDEFINE != 0;
        // Parse before taking the state lock (a large document must not
        // hold up the host), but report it after the checks libvirt makes
        // first.
        let parse = ParseFlags {
            redefine,
            ..ParseFlags::default()
        };
        let parsed = SnapshotDef::parse(xml, parse).and_then(|(mut def, _)| {
            crate::state::snapshot_post_parse(&mut def)?;
            Ok(def)
        });
        self.state().with(|inner| {
            let obj = inner.domains.get(dom)?;
            if !obj.checkpoints.is_empty() {
                return Err(Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::OPERATION_UNSUPPORTED,
                    "cannot create snapshot while checkpoint exists",
                ));
            }
            if !obj.persistent && flags & create::HALT != 0 {
                return Err(Error::operation_invalid(
                    ErrorDomain::TEST,
                    "cannot halt after transient domain snapshot",
                ));
            }
            let def = parsed?;
            if redefine {
                return redefine_snapshot(inner, dom, def, flags);
            }
            create_snapshot(inner, dom, def, flags)
        })
    }

    fn num(&self, dom: &DomainRef, flags: u32) -> Result<i32> {
        check_flags("testDomainSnapshotNum", flags, LIST_FLAGS)?;
        self.snaps(dom, |s| Ok(count(s.names(None, flags).len())))
    }

    fn list_names(&self, dom: &DomainRef, max: Option<usize>, flags: u32) -> Result<Vec<String>> {
        let api = match max {
            Some(_) => "testDomainSnapshotListNames",
            None => "testDomainListAllSnapshots",
        };
        check_flags(api, flags, LIST_FLAGS)?;
        self.snaps(dom, |s| Ok(truncate(s.names(None, flags), max)))
    }

    fn num_children(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<i32> {
        check_flags("testDomainSnapshotNumChildren", flags, CHILD_FLAGS)?;
        self.snaps(dom, |s| {
            s.find(snap)?;
            Ok(count(s.names(Some(snap), flags).len()))
        })
    }

    fn list_children_names(
        &self,
        dom: &DomainRef,
        snap: &str,
        max: Option<usize>,
        flags: u32,
    ) -> Result<Vec<String>> {
        let api = match max {
            Some(_) => "testDomainSnapshotListChildrenNames",
            None => "testDomainSnapshotListAllChildren",
        };
        check_flags(api, flags, CHILD_FLAGS)?;
        self.snaps(dom, |s| {
            s.find(snap)?;
            Ok(truncate(s.names(Some(snap), flags), max))
        })
    }

    fn lookup_by_name(&self, dom: &DomainRef, name: &str, flags: u32) -> Result<String> {
        check_flags("testDomainSnapshotLookupByName", flags, 0)?;
        self.snaps(dom, |s| Ok(s.find(name)?.name.clone()))
    }

    fn has_current(&self, dom: &DomainRef, flags: u32) -> Result<bool> {
        check_flags("testDomainHasCurrentSnapshot", flags, 0)?;
        self.snaps(dom, |s| Ok(s.current().is_some()))
    }

    fn current(&self, dom: &DomainRef, flags: u32) -> Result<String> {
        check_flags("testDomainSnapshotCurrent", flags, 0)?;
        self.snaps(dom, |s| {
            s.current().map(str::to_string).ok_or_else(|| {
                Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::NO_DOMAIN_SNAPSHOT,
                    "the domain does not have a current snapshot",
                )
            })
        })
    }

    fn get_parent(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<String> {
        check_flags("testDomainSnapshotGetParent", flags, 0)?;
        self.snaps(dom, |s| {
            let def = s.find(snap)?;
            def.parent.clone().ok_or_else(|| {
                Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::NO_DOMAIN_SNAPSHOT,
                    format!("snapshot '{}' does not have a parent", def.name),
                )
            })
        })
    }

    fn get_xml_desc(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<String> {
        check_flags(
            "testDomainSnapshotGetXMLDesc",
            flags,
            rvirt::flags::xml::SECURE,
        )?;
        let secure = flags & rvirt::flags::xml::SECURE != 0;
        let uuid = dom.uuid_string();
        self.snaps(dom, |s| Ok(s.find(snap)?.format(Some(&uuid), secure, None)))
    }

    fn is_current(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<bool> {
        check_flags("testDomainSnapshotIsCurrent", flags, 0)?;
        self.snaps(
            dom,
            |s| Ok(s.current() == Some(s.find(snap)?.name.as_str())),
        )
    }

    fn has_metadata(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<bool> {
        check_flags("testDomainSnapshotHasMetadata", flags, 0)?;
        self.snaps(dom, |s| s.find(snap).map(|_| true))
    }

    fn revert(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<()> {
        check_flags(
            "testDomainRevertToSnapshot",
            flags,
            revert::RUNNING | revert::PAUSED | revert::FORCE,
        )?;
        self.state()
            .with(|inner| crate::snapshot_revert::revert(inner, dom, snap, flags))
    }

    fn delete(&self, dom: &DomainRef, snap: &str, flags: u32) -> Result<()> {
        check_flags(
            "testDomainSnapshotDelete",
            flags,
            del::CHILDREN | del::CHILDREN_ONLY,
        )?;
        self.state().with(|inner| {
            let snaps = &mut inner.domains.get_mut(dom)?.snapshots;
            delete_snapshot(snaps, snap, flags)
        })
    }
}

/// A new snapshot of the domain as it is now (`testDomainSnapshotCreateXML`
/// without REDEFINE): a copy of its definition, its run state, and the
/// current snapshot as parent; HALT stops a running guest afterwards.
fn create_snapshot(
    inner: &mut Inner,
    dom: &DomainRef,
    mut def: SnapshotDef,
    flags: u32,
) -> Result<String> {
    let obj = inner.domains.get_mut(dom)?;
    def.dom = Some(obj.def.clone());
    align_for_create(obj, &mut def)?;
    if obj.snapshots.get(&def.name).is_some() {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::OPERATION_FAILED,
            format!("domain moment {} already exists", def.name),
        ));
    }
    def.parent = obj.snapshots.current().map(str::to_string);
    let name = def.name.clone();
    obj.snapshots.add(def)?;
    let halted = flags & create::HALT != 0 && obj.is_active();
    if halted {
        obj.stop(reason::SHUTOFF_FROM_SNAPSHOT);
    }
    obj.snapshots.set_current(Some(&name));
    let r = obj.domain_ref();
    if halted {
        inner.emit_lifecycle(r, lifecycle::STOPPED, lifecycle::STOPPED_FROM_SNAPSHOT);
    }
    Ok(name)
}

/// `testDomainSnapshotAlignDisks` (DISK_ONLY is refused before this).
fn align_for_create(obj: &DomainObj, def: &mut SnapshotDef) -> Result<()> {
    if def.disks.iter().any(|d| d.snapshot == Location::Manual) {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::OPERATION_UNSUPPORTED,
            "'manual' snapshot mode is not supported by the test driver",
        ));
    }
    let state = SnapshotState::from_domain_state(obj.state as i32);
    def.state = Some(state);
    let location = if def.memory == Location::External {
        Location::External
    } else {
        def.memory = if state == SnapshotState::Shutoff {
            Location::No
        } else {
            Location::Internal
        };
        Location::Internal
    };
    align_disks(def, None, location)
}

/// `testDomainSnapshotRedefine` with `virDomainSnapshotRedefinePrep`:
/// checks the tree and the definition, then adds or replaces it; it
/// becomes current only with CURRENT.
fn redefine_snapshot(
    inner: &mut Inner,
    dom: &DomainRef,
    mut def: SnapshotDef,
    flags: u32,
) -> Result<String> {
    let obj = inner.domains.get_mut(dom)?;
    obj.snapshots.check_cycles(&def, &obj.def.name)?;
    let other = obj.snapshots.get(&def.name).cloned();
    validate_redefine(&def, &dom.uuid, other.as_ref())?;
    let location = if def.state == Some(SnapshotState::DiskSnapshot) || def.is_external() {
        Location::External
    } else {
        Location::Internal
    };
    let existing_dom = other.as_ref().and_then(|o| o.dom.as_ref());
    align_disks(&mut def, existing_dom, location)?;
    let name = def.name.clone();
    match other {
        Some(old) => {
            if def.dom.is_none() {
                def.dom = old.dom;
            }
            obj.snapshots.replace(def);
        }
        None => obj.snapshots.add(def)?,
    }
    if flags & create::CURRENT != 0 {
        obj.snapshots.set_current(Some(&name));
    }
    Ok(name)
}

/// `virDomainSnapshotRedefineValidate` (DISK_ONLY never reaches it here).
fn validate_redefine(
    def: &SnapshotDef,
    uuid: &[u8; 16],
    other: Option<&SnapshotDef>,
) -> Result<()> {
    let invalid = |m: String| Error::invalid_arg(ERROR_DOMAIN, m);
    if let Some(d) = &def.dom {
        if d.uuid.as_bytes() != uuid {
            return Err(invalid(format!(
                "definition for snapshot {} must use uuid {}",
                def.name,
                rvirt_util::uuid::Uuid::from_bytes(*uuid)
            )));
        }
    }
    let Some(other) = other else {
        return Ok(());
    };
    let online = |d: &SnapshotDef| d.state.is_some_and(SnapshotState::is_online);
    if online(other) != online(def) {
        return Err(invalid(format!(
            "cannot change between online and offline snapshot state in snapshot {}",
            def.name
        )));
    }
    let disk_only = |d: &SnapshotDef| d.state == Some(SnapshotState::DiskSnapshot);
    if disk_only(other) != disk_only(def) {
        return Err(invalid(format!(
            "cannot change between disk only and full system in snapshot {}",
            def.name
        )));
    }
    if let (Some(old), Some(new)) = (&other.dom, &def.dom) {
        old.check_abi_stability(new)?;
    }
    Ok(())
}

/// `testDomainSnapshotDelete`: with CHILDREN or CHILDREN_ONLY every
/// descendant goes (the snapshot becomes current if one of them was);
/// otherwise its children move up to its parent. Unless CHILDREN_ONLY,
/// the snapshot goes too, its parent taking over as current.
fn delete_snapshot(snaps: &mut SnapshotList, name: &str, flags: u32) -> Result<()> {
    let def = snaps.find(name)?;
    let parent = def.parent.clone();
    if flags & (del::CHILDREN | del::CHILDREN_ONLY) != 0 {
        let doomed: Vec<String> = snaps
            .descendants(Some(name))
            .iter()
            .map(|d| d.name.clone())
            .collect();
        let mut was_current = false;
        for d in &doomed {
            was_current |= snaps.remove(d);
        }
        if was_current {
            snaps.set_current(Some(name));
        }
    } else {
        // libvirt names the grandparent only if the parent still has a
        // definition; the tree links follow the names here.
        let grandparent = parent.clone().filter(|p| snaps.get(p).is_some());
        snaps.reparent_children(name, grandparent.as_deref());
    }
    if flags & del::CHILDREN_ONLY != 0 {
        return Ok(());
    }
    if snaps.current() == Some(name) {
        let next = parent.filter(|p| snaps.get(p).is_some());
        snaps.set_current(next.as_deref());
    }
    snaps.remove(name);
    Ok(())
}

/// Whether any snapshot exists (`VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT`).
pub fn has_snapshots(obj: &DomainObj) -> bool {
    !obj.snapshots.is_empty()
}

/// Whether a revert leaves the guest paused (`VIR_DOMAIN_SNAPSHOT_REVERT_*`
/// against the state the snapshot recorded).
pub(crate) fn paused_after(snapshot: SnapshotState, flags: u32) -> bool {
    flags & revert::RUNNING == 0
        && (snapshot == SnapshotState::Paused || flags & revert::PAUSED != 0)
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
