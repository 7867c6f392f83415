//! One domain's snapshots (libvirt's `virDomainSnapshotObjList` over
//! `virDomainMomentObjList`): the definitions, the parent/child tree they
//! form through their parent names, the current snapshot, and the listing
//! with libvirt's filters.

use rvirt::flags::snapshot_list as list;
use rvirt_conf::snapshot::{ParseFlags, SnapshotDef, SnapshotState};
use rvirt_conf::xml::Element;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::{HashMap, HashSet};

/// Each snapshot's children, by parent name (`None`: the roots).
struct Tree<'a> {
    roots: Vec<&'a SnapshotDef>,
    kids: HashMap<&'a str, Vec<&'a SnapshotDef>>,
}

impl<'a> Tree<'a> {
    fn children(&self, parent: Option<&str>) -> &[&'a SnapshotDef] {
        match parent {
            None => &self.roots,
            Some(p) => self.kids.get(p).map_or(&[], Vec::as_slice),
        }
    }

    fn descendants(&self, parent: Option<&str>) -> Vec<&'a SnapshotDef> {
        let mut out = Vec::new();
        let mut stack: Vec<&SnapshotDef> = self.children(parent).iter().rev().copied().collect();
        while let Some(d) = stack.pop() {
            out.push(d);
            stack.extend(self.children(Some(&d.name)).iter().rev());
        }
        out
    }
}

#[derive(Default)]
pub struct SnapshotList {
    /// In the order they were added (libvirt's hash walk order stands in).
    defs: Vec<SnapshotDef>,
    current: Option<String>,
}

/// `virDomainMomentObjListCopyNames`' leaf and status/location filters,
/// with an all-set status or location group cleared first as libvirt
/// does. The leaf flags are moved to the moment flags before that clearing
/// in libvirt, so both together keep nothing.
#[derive(Clone, Copy)]
struct Filter(u32);

impl Filter {
    fn new(mut f: u32) -> Filter {
        for group in [list::FILTERS_STATUS, list::FILTERS_LOCATION] {
            if f & group == group {
                f &= !group;
            }
        }
        Filter(f)
    }

    fn keeps(self, def: &SnapshotDef, children: usize) -> bool {
        let f = self.0;
        if (f & list::LEAVES != 0 && children > 0) || (f & list::NO_LEAVES != 0 && children == 0) {
            return false;
        }
        let state = def.state.unwrap_or(SnapshotState::NoState);
        if f & list::FILTERS_STATUS != 0 {
            let shutoff = state == SnapshotState::Shutoff;
            let disk = state == SnapshotState::DiskSnapshot;
            if (f & list::INACTIVE == 0 && shutoff)
                || (f & list::DISK_ONLY == 0 && disk)
                || (f & list::ACTIVE == 0 && !shutoff && !disk)
            {
                return false;
            }
        }
        !((f & list::INTERNAL != 0 && def.is_external())
            || (f & list::EXTERNAL != 0 && !def.is_external()))
    }
}

/// `VIR_ERR_NO_DOMAIN_SNAPSHOT` for a name not found.
pub fn no_snapshot(name: &str) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::NO_DOMAIN_SNAPSHOT,
        format!("no domain snapshot with matching name '{name}'"),
    )
}

impl SnapshotList {
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&SnapshotDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// `testSnapObjFromName`.
    pub fn find(&self, name: &str) -> Result<&SnapshotDef> {
        self.get(name).ok_or_else(|| no_snapshot(name))
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut SnapshotDef> {
        self.defs.iter_mut().find(|d| d.name == name)
    }

    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    pub fn set_current(&mut self, name: Option<&str>) {
        self.current = name.map(str::to_string);
    }

    /// `virDomainMomentAssignDef`: refuses a name already taken.
    pub fn add(&mut self, def: SnapshotDef) -> Result<()> {
        if self.get(&def.name).is_some() {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::OPERATION_FAILED,
                format!("domain moment {} already exists", def.name),
            ));
        }
        self.defs.push(def);
        Ok(())
    }

    /// Replace the definition of an existing snapshot (children stay).
    /// libvirt links it to its parent again, first among the siblings, as
    /// if it were new.
    pub fn replace(&mut self, def: SnapshotDef) {
        self.defs.retain(|d| d.name != def.name);
        self.defs.push(def);
    }

    /// The tree in one pass: each snapshot under its parent, or under the
    /// root (`None`) when it has none or its parent is missing (libvirt
    /// links such a moment to the root). Siblings come most recent first,
    /// as libvirt prepends each new child to its parent's list.
    fn tree(&self) -> Tree<'_> {
        let known: HashSet<&str> = self.defs.iter().map(|d| d.name.as_str()).collect();
        let mut tree = Tree {
            roots: Vec::new(),
            kids: HashMap::new(),
        };
        for d in self.defs.iter().rev() {
            match d.parent.as_deref().filter(|p| known.contains(p)) {
                Some(p) => tree.kids.entry(p).or_default().push(d),
                None => tree.roots.push(d),
            }
        }
        tree
    }

    /// The children of `parent` (`None`: the roots).
    pub fn children(&self, parent: Option<&str>) -> Vec<&SnapshotDef> {
        self.tree().children(parent).to_vec()
    }

    /// Every descendant of `parent` (`None`: every snapshot), depth first.
    pub fn descendants(&self, parent: Option<&str>) -> Vec<&SnapshotDef> {
        self.tree().descendants(parent)
    }

    /// `virDomainSnapshotObjListGetNames` from `from` (`None`: the
    /// domain) with the public list flags.
    pub fn names(&self, from: Option<&str>, flags: u32) -> Vec<String> {
        // ROOTS and DESCENDANTS share a bit with opposite meanings: from
        // the domain, no flag means every snapshot.
        let descendants = if from.is_none() {
            flags & list::ROOTS == 0
        } else {
            flags & list::DESCENDANTS != 0
        };
        if flags & list::FILTERS_METADATA == list::NO_METADATA {
            return Vec::new();
        }
        let filter = Filter::new(flags);
        let tree = self.tree();
        let walk = match (descendants, from) {
            (true, None) if flags & list::TOPOLOGICAL == 0 => self.defs.iter().collect(),
            (true, _) => tree.descendants(from),
            (false, _) => tree.children(from).to_vec(),
        };
        walk.into_iter()
            .filter(|d| filter.keeps(d, tree.children(Some(&d.name)).len()))
            .map(|d| d.name.clone())
            .collect()
    }

    /// Remove one snapshot; true if it was current (which it no longer is).
    pub fn remove(&mut self, name: &str) -> bool {
        self.defs.retain(|d| d.name != name);
        let was = self.current.as_deref() == Some(name);
        if was {
            self.current = None;
        }
        was
    }

    /// Re-parent every child of `name` to `parent`.
    pub fn reparent_children(&mut self, name: &str, parent: Option<&str>) {
        for d in self.defs.iter_mut() {
            if d.parent.as_deref() == Some(name) {
                d.parent = parent.map(str::to_string);
            }
        }
    }

    /// `virDomainMomentCheckCycles` for a definition about to be (re)defined.
    pub fn check_cycles(&self, def: &SnapshotDef, domname: &str) -> Result<()> {
        let Some(parent) = &def.parent else {
            return Ok(());
        };
        let invalid = |m: String| Error::invalid_arg(ErrorDomain::DOMAIN, m);
        if *parent == def.name {
            return Err(invalid(format!(
                "cannot set moment {} as its own parent",
                def.name
            )));
        }
        let Some(mut other) = self.get(parent) else {
            return Err(invalid(format!(
                "parent {parent} for moment {} not found",
                def.name
            )));
        };
        let mut steps = 0;
        while let Some(up) = &other.parent {
            if *up == def.name {
                return Err(invalid(format!(
                    "parent {} would create cycle to {}",
                    other.name, def.name
                )));
            }
            steps += 1;
            match self.get(up) {
                Some(next) if steps <= self.defs.len() => other = next,
                _ => {
                    tracing::warn!("moments are inconsistent for domain {domname}");
                    break;
                }
            }
        }
        Ok(())
    }
}

/// `testParseDomainSnapshots`: a node description's domain carries its
/// snapshots as `<test:domainsnapshot>` (or a file one names), each an
/// existing snapshot whose `<active>` says whether it is current.
pub fn load_node_snapshots(list: &mut SnapshotList, dom: &Element, domname: &str) -> Result<()> {
    let flags = ParseFlags {
        redefine: true,
        internal: true,
        ..ParseFlags::default()
    };
    for el in dom
        .elements()
        .filter(|e| crate::node::is_test_snapshot(e, dom))
    {
        let (mut def, current) = SnapshotDef::from_node(el, flags)?;
        crate::state::snapshot_post_parse(&mut def)?;
        let name = def.name.clone();
        list.add(def)?;
        if current {
            if list.current.is_some() {
                return Err(Error::internal(
                    ErrorDomain::TEST,
                    "more than one snapshot claims to be active",
                ));
            }
            list.current = Some(name);
        }
    }
    list.check_relations().map_err(|()| {
        Error::internal(
            ErrorDomain::TEST,
            format!("Snapshots have inconsistent relations for domain {domname}"),
        )
    })
}

impl SnapshotList {
    /// `virDomainMomentUpdateRelations`: every parent exists and no chain
    /// of parents loops.
    fn check_relations(&self) -> std::result::Result<(), ()> {
        for d in &self.defs {
            let mut at = d;
            let mut steps = 0;
            while let Some(p) = &at.parent {
                steps += 1;
                if *p == d.name || steps > self.defs.len() {
                    return Err(());
                }
                at = self.get(p).ok_or(())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(name: &str, parent: Option<&str>, state: SnapshotState) -> SnapshotDef {
        let (mut def, _) = SnapshotDef::parse_at(
            &format!("<domainsnapshot><name>{name}</name></domainsnapshot>"),
            ParseFlags::default(),
            1,
        )
        .unwrap();
        def.parent = parent.map(str::to_string);
        def.state = Some(state);
        def
    }

    /// a -> (b -> d, c), e (shut off)
    fn tree() -> SnapshotList {
        let mut l = SnapshotList::default();
        l.add(snap("a", None, SnapshotState::Running)).unwrap();
        l.add(snap("b", Some("a"), SnapshotState::Running)).unwrap();
        l.add(snap("c", Some("a"), SnapshotState::Paused)).unwrap();
        l.add(snap("d", Some("b"), SnapshotState::Running)).unwrap();
        l.add(snap("e", None, SnapshotState::Shutoff)).unwrap();
        l
    }

    #[test]
    fn lists_with_libvirt_flags() {
        let l = tree();
        assert_eq!(l.names(None, 0), ["a", "b", "c", "d", "e"]);
        assert_eq!(l.names(None, list::ROOTS), ["e", "a"]);
        assert_eq!(l.names(None, list::LEAVES), ["c", "d", "e"]);
        assert_eq!(l.names(None, list::NO_LEAVES), ["a", "b"]);
        assert!(l.names(None, list::LEAVES | list::NO_LEAVES).is_empty());
        assert_eq!(l.names(None, list::FILTERS_STATUS).len(), 5);
        assert_eq!(l.names(None, list::FILTERS_METADATA).len(), 5);
        assert_eq!(l.names(None, list::INACTIVE), ["e"]);
        assert_eq!(l.names(None, list::ACTIVE).len(), 4);
        assert!(l.names(None, list::NO_METADATA).is_empty());
        assert_eq!(l.names(None, list::METADATA).len(), 5);
        assert_eq!(l.names(Some("a"), 0), ["c", "b"]);
        assert_eq!(l.names(Some("a"), list::DESCENDANTS), ["c", "b", "d"]);
        assert_eq!(l.names(None, list::TOPOLOGICAL), ["e", "a", "c", "b", "d"]);
        assert!(l.names(None, list::EXTERNAL).is_empty());
    }

    #[test]
    fn cycles_and_missing_parents_are_refused() {
        let l = tree();
        let msg = |d: SnapshotDef| l.check_cycles(&d, "dom").unwrap_err().message;
        assert_eq!(
            msg(snap("a", Some("a"), SnapshotState::Running)),
            "invalid argument: cannot set moment a as its own parent"
        );
        assert_eq!(
            msg(snap("a", Some("d"), SnapshotState::Running)),
            "invalid argument: parent b would create cycle to a"
        );
        assert_eq!(
            msg(snap("x", Some("zz"), SnapshotState::Running)),
            "invalid argument: parent zz for moment x not found"
        );
        assert!(l
            .check_cycles(&snap("x", Some("d"), SnapshotState::Running), "dom")
            .is_ok());
    }
}
