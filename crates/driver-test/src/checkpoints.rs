//! Checkpoints on the test driver: libvirt's `testDomainCheckpoint*` and
//! `testDomainListAllCheckpoints` (src/test/test_driver.c). A checkpoint
//! keeps a copy of the running domain's definition and, per disk, whether
//! it takes a bitmap; the test driver has nothing to record beyond that.

use crate::check_flags;
use crate::connection::TestConnection;
use crate::moments::MomentList;
use crate::objects::DomainObj;
use rvirt::driver::{CheckpointDriver, DomainRef};
use rvirt::flags::checkpoint_list as list;
use rvirt::flags::checkpoint_xml as xml;
use rvirt::flags::{checkpoint_create as create, checkpoint_delete as del};
use rvirt_conf::checkpoint::{CheckpointDef, FormatFlags};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// One domain's checkpoints.
pub type CheckpointList = MomentList<CheckpointDef>;

/// `VIR_DOMAIN_CHECKPOINT_FILTERS_ALL`.
const FILTERS_ALL: u32 = list::LEAVES | list::NO_LEAVES;

fn no_checkpoint(name: &str) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::NO_DOMAIN_CHECKPOINT,
        format!("no domain checkpoint with matching name '{name}'"),
    )
}

impl MomentList<CheckpointDef> {
    /// `testCheckpointObjFromName`.
    fn find(&self, name: &str) -> Result<&CheckpointDef> {
        self.get(name).ok_or_else(|| no_checkpoint(name))
    }

    /// `virDomainCheckpointObjListGetNames` from `from` (`None`: the
    /// domain): checkpoints have only the leaf filters.
    fn names(&self, from: Option<&str>, flags: u32) -> Vec<String> {
        // ROOTS and DESCENDANTS share a bit with opposite meanings: from
        // the domain, no flag means every checkpoint.
        let descendants = match from {
            None => flags & list::ROOTS == 0,
            Some(_) => flags & list::DESCENDANTS != 0,
        };
        let topological = flags & list::TOPOLOGICAL != 0;
        self.names_where(from, descendants, topological, |_, children| {
            let leaf = children == 0;
            let refused =
                (flags & list::LEAVES != 0 && !leaf) || (flags & list::NO_LEAVES != 0 && leaf);
            !refused
        })
    }
}

fn unsupported(msg: &str) -> Error {
    Error::new(ErrorDomain::TEST, ErrorCode::OPERATION_UNSUPPORTED, msg)
}

/// `virDomainCheckpointRedefinePrep` and `...RedefineCommit`: whether
/// the redefined checkpoint becomes current.
fn redefine(obj: &mut DomainObj, mut def: CheckpointDef) -> Result<(String, bool)> {
    obj.checkpoints.check_cycles(&def, &obj.def.name)?;
    if let Some(dom) = &def.dom {
        if dom.uuid != obj.def.uuid {
            return Err(Error::invalid_arg(
                rvirt_conf::checkpoint::ERROR_DOMAIN,
                format!(
                    "definition for checkpoint {} must use uuid {}",
                    def.name,
                    obj.def.uuid.hyphenated()
                ),
            ));
        }
        def.align_disks()?;
    } else {
        def.assign_bitmap_names();
    }
    let current = obj.checkpoints.current();
    let update_current =
        current.is_none() || (def.parent.is_some() && def.parent.as_deref() == current);
    let name = def.name.clone();
    match obj.checkpoints.get(&name) {
        Some(_) => obj.checkpoints.replace(def),
        None => obj.checkpoints.add(def)?,
    }
    Ok((name, update_current))
}

/// A new checkpoint of the running domain, its parent the current one.
fn create_new(obj: &mut DomainObj, mut def: CheckpointDef) -> Result<String> {
    def.dom = Some(obj.def.clone());
    def.align_disks()?;
    def.parent = obj.checkpoints.current().map(str::to_string);
    let name = def.name.clone();
    obj.checkpoints.add(def)?;
    Ok(name)
}

impl TestConnection {
    /// Read a domain's checkpoint list under the state lock.
    fn chks<R>(&self, dom: &DomainRef, f: impl FnOnce(&DomainObj) -> Result<R>) -> Result<R> {
        let inner = self.state().lock();
        f(inner.domains.get(dom)?)
    }
}

impl CheckpointDriver for TestConnection {
    fn create_xml(&self, dom: &DomainRef, xml_desc: &str, flags: u32) -> Result<String> {
        check_flags(
            "testDomainCheckpointCreateXML",
            flags,
            create::REDEFINE | create::QUIESCE,
        )?;
        let redefine_flag = flags & create::REDEFINE != 0;
        let parsed =
            CheckpointDef::parse_at(xml_desc, redefine_flag, rvirt_conf::snapshot::now_seconds());
        self.state().with(|inner| {
            let obj = inner.domains.get_mut(dom)?;
            if !obj.snapshots.is_empty() {
                return Err(unsupported(
                    "cannot create checkpoint while snapshot exists",
                ));
            }
            if !obj.is_active() {
                return Err(unsupported("cannot create checkpoint for inactive domain"));
            }
            let def = parsed?;
            let (name, update_current) = match redefine_flag {
                true => redefine(obj, def)?,
                false => (create_new(obj, def)?, true),
            };
            if update_current {
                obj.checkpoints.set_current(Some(&name));
            }
            Ok(name)
        })
    }

    fn list_names(&self, dom: &DomainRef, flags: u32) -> Result<Vec<String>> {
        check_flags(
            "testDomainListAllCheckpoints",
            flags,
            list::ROOTS | list::TOPOLOGICAL | FILTERS_ALL,
        )?;
        self.chks(dom, |o| Ok(o.checkpoints.names(None, flags)))
    }

    fn list_children_names(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<Vec<String>> {
        check_flags(
            "testDomainCheckpointListAllChildren",
            flags,
            list::DESCENDANTS | list::TOPOLOGICAL | FILTERS_ALL,
        )?;
        self.chks(dom, |o| {
            o.checkpoints.find(chk)?;
            Ok(o.checkpoints.names(Some(chk), flags))
        })
    }

    fn lookup_by_name(&self, dom: &DomainRef, name: &str, flags: u32) -> Result<String> {
        check_flags("testDomainCheckpointLookupByName", flags, 0)?;
        self.chks(dom, |o| Ok(o.checkpoints.find(name)?.name.clone()))
    }

    fn get_parent(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<String> {
        check_flags("testDomainCheckpointGetParent", flags, 0)?;
        self.chks(dom, |o| {
            let def = o.checkpoints.find(chk)?;
            def.parent.clone().ok_or_else(|| {
                Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::NO_DOMAIN_CHECKPOINT,
                    format!("checkpoint '{}' does not have a parent", def.name),
                )
            })
        })
    }

    /// `SIZE` needs the domain running; the test driver's sizes are never
    /// marked valid, so none is written.
    fn get_xml_desc(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<String> {
        check_flags(
            "testDomainCheckpointGetXMLDesc",
            flags,
            xml::SECURE | xml::NO_DOMAIN | xml::SIZE,
        )?;
        self.chks(dom, |o| {
            let def = o.checkpoints.find(chk)?;
            if flags & xml::SIZE != 0 {
                crate::connection::check_active(o)?;
            }
            Ok(def.format(FormatFlags {
                secure: flags & xml::SECURE != 0,
                no_domain: flags & xml::NO_DOMAIN != 0,
            }))
        })
    }

    fn delete(&self, dom: &DomainRef, chk: &str, flags: u32) -> Result<()> {
        check_flags(
            "testDomainCheckpointDelete",
            flags,
            del::CHILDREN | del::METADATA_ONLY | del::CHILDREN_ONLY,
        )?;
        self.state().with(|inner| {
            let chks = &mut inner.domains.get_mut(dom)?.checkpoints;
            let parent = chks.find(chk)?.parent.clone();
            if flags & (del::CHILDREN | del::CHILDREN_ONLY) != 0 {
                let doomed: Vec<String> = chks
                    .descendants(Some(chk))
                    .iter()
                    .map(|d| d.name.clone())
                    .collect();
                let mut current_gone = false;
                for name in &doomed {
                    current_gone |= chks.remove(name);
                }
                if current_gone {
                    chks.set_current(Some(chk));
                }
            } else {
                chks.reparent_children(chk, parent.as_deref());
            }
            if flags & del::CHILDREN_ONLY != 0 {
                return Ok(());
            }
            if chks.remove(chk) {
                let parent = parent.filter(|p| {
                    let found = chks.get(p).is_some();
                    if !found {
                        tracing::warn!("missing parent checkpoint matching name '{p}'");
                    }
                    found
                });
                chks.set_current(parent.as_deref());
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt::Connect;

    fn test_domain(tag: &str) -> rvirt::Domain {
        crate::register();
        let path = std::env::temp_dir().join(format!(
            "rvirt-test-checkpoints-{}-{tag}.xml",
            std::process::id()
        ));
        std::fs::write(&path, crate::node::DEFAULT_NODE_XML).unwrap();
        let conn = Connect::open(&format!("test://{}", path.display())).unwrap();
        std::fs::remove_file(&path).unwrap();
        conn.lookup_by_name("test").unwrap()
    }

    fn names(chks: Vec<rvirt::DomainCheckpoint>) -> Vec<String> {
        chks.iter().map(|c| c.name().to_string()).collect()
    }

    fn create(dom: &rvirt::Domain, name: &str) -> rvirt::DomainCheckpoint {
        let xml = format!("<domaincheckpoint><name>{name}</name></domaincheckpoint>");
        dom.checkpoint_create_xml(&xml, 0).unwrap()
    }

    #[test]
    fn checkpoints_chain_from_the_current_one_and_list_with_libvirts_flags() {
        let dom = test_domain("chain");
        let a = create(&dom, "a");
        create(&dom, "b");
        create(&dom, "c");
        assert_eq!(
            a.get_xml_desc(xml::NO_DOMAIN).unwrap().lines().nth(3),
            Some("  <disks>")
        );
        let b = dom.checkpoint_lookup_by_name("b", 0).unwrap();
        assert_eq!(b.get_parent(0).unwrap().name(), "a");
        let e = a.get_parent(0).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::NO_DOMAIN_CHECKPOINT,
                "Domain checkpoint not found: checkpoint 'a' does not have a parent"
            )
        );
        assert_eq!(names(dom.list_all_checkpoints(0).unwrap()), ["a", "b", "c"]);
        assert_eq!(names(dom.list_all_checkpoints(list::ROOTS).unwrap()), ["a"]);
        assert_eq!(
            names(dom.list_all_checkpoints(list::LEAVES).unwrap()),
            ["c"]
        );
        assert_eq!(names(a.list_all_children(0).unwrap()), ["b"]);
        assert_eq!(
            names(a.list_all_children(list::DESCENDANTS).unwrap()),
            ["b", "c"]
        );
        // Deleting b moves c under a; deleting a's children leaves a.
        b.delete(0).unwrap();
        let c = dom.checkpoint_lookup_by_name("c", 0).unwrap();
        assert_eq!(c.get_parent(0).unwrap().name(), "a");
        a.delete(del::CHILDREN_ONLY).unwrap();
        assert_eq!(names(dom.list_all_checkpoints(0).unwrap()), ["a"]);
        // The current checkpoint went with its children: a is current, so
        // the next one is its child.
        assert_eq!(create(&dom, "d").get_parent(0).unwrap().name(), "a");
        a.delete(del::CHILDREN).unwrap();
        assert!(dom.list_all_checkpoints(0).unwrap().is_empty());
        let e = dom.checkpoint_lookup_by_name("a", 0).unwrap_err();
        assert_eq!(
            e.message,
            "Domain checkpoint not found: no domain checkpoint with matching name 'a'"
        );
    }

    #[test]
    fn checkpoints_need_a_running_domain_without_snapshots() {
        let dom = test_domain("refusals");
        dom.snapshot_create_xml("<domainsnapshot><name>s</name></domainsnapshot>", 0)
            .unwrap();
        let e = dom
            .checkpoint_create_xml("<domaincheckpoint/>", 0)
            .unwrap_err();
        assert_eq!(
            e.message,
            "Operation not supported: cannot create checkpoint while snapshot exists"
        );
        dom.snapshot_lookup_by_name("s", 0)
            .unwrap()
            .delete(0)
            .unwrap();
        dom.connect()
            .driver()
            .domain_destroy(dom.domain_ref(), 0)
            .unwrap();
        let e = dom
            .checkpoint_create_xml("<domaincheckpoint/>", 0)
            .unwrap_err();
        assert_eq!(
            e.message,
            "Operation not supported: cannot create checkpoint for inactive domain"
        );
    }

    #[test]
    fn redefinition_keeps_the_given_parent_and_checks_the_uuid() {
        let dom = test_domain("redefine");
        let redefine = |xml: &str| dom.checkpoint_create_xml(xml, create::REDEFINE);
        redefine(
            "<domaincheckpoint><name>r</name><creationTime>5</creationTime>\
             <disks><disk name='vda' checkpoint='bitmap'/></disks></domaincheckpoint>",
        )
        .unwrap();
        let r = dom.checkpoint_lookup_by_name("r", 0).unwrap();
        let text = r.get_xml_desc(0).unwrap();
        assert!(
            text.contains("<disk name='vda' checkpoint='bitmap' bitmap='r'/>"),
            "{text}"
        );
        let e = redefine(
            "<domaincheckpoint><name>x</name><creationTime>5</creationTime>\
             <domain type='test'><name>test</name><uuid>11111111-2222-3333-4444-555555555555</uuid>\
             <memory>1024</memory><os><type>hvm</type></os></domain></domaincheckpoint>",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: definition for checkpoint x must use uuid \
             6695eb01-f6a4-8304-79aa-97f2502e193f"
        );
        let e = redefine(
            "<domaincheckpoint><name>y</name><parent><name>zz</name></parent>\
             <creationTime>5</creationTime></domaincheckpoint>",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: parent zz for moment y not found"
        );
    }
}
