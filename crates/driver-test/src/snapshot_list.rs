//! One domain's snapshots (libvirt's `virDomainSnapshotObjList` over
//! `virDomainMomentObjList`, [`MomentList`]): the listing with libvirt's
//! snapshot filters, and the snapshots a node description carries.

use crate::moments::MomentList;
use rvirt::flags::snapshot_list as list;
use rvirt_conf::snapshot::{ParseFlags, SnapshotDef, SnapshotState};
use rvirt_conf::xml::Element;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// One domain's snapshots.
pub type SnapshotList = MomentList<SnapshotDef>;

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

impl MomentList<SnapshotDef> {
    /// `testSnapObjFromName`.
    pub fn find(&self, name: &str) -> Result<&SnapshotDef> {
        self.get(name).ok_or_else(|| no_snapshot(name))
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
        let topological = flags & list::TOPOLOGICAL != 0;
        self.names_where(from, descendants, topological, |d, children| {
            filter.keeps(d, children)
        })
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
            if list.current().is_some() {
                return Err(Error::internal(
                    ErrorDomain::TEST,
                    "more than one snapshot claims to be active",
                ));
            }
            list.set_current(Some(&name));
        }
    }
    list.check_relations().map_err(|()| {
        Error::internal(
            ErrorDomain::TEST,
            format!("Snapshots have inconsistent relations for domain {domname}"),
        )
    })
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
