//! The test driver's snapshot semantics through the public API.

use rvirt::events::{event_id, lifecycle, DomainEvent};
use rvirt::flags::{snapshot_create as create, snapshot_delete as del};
use rvirt::flags::{snapshot_list as list, snapshot_revert as revert};
use rvirt::types::reason;
use rvirt::{Connect, Domain, DomainState};
use std::sync::{Arc, Mutex};

fn open_private(tag: &str) -> Connect {
    crate::register();
    let path = std::env::temp_dir().join(format!("rvirt-snap-{}-{tag}.xml", std::process::id()));
    std::fs::write(&path, crate::node::DEFAULT_NODE_XML).unwrap();
    let conn = Connect::open(&format!("test://{}", path.display())).unwrap();
    std::fs::remove_file(&path).unwrap();
    conn
}

fn snap(dom: &Domain, name: &str) -> String {
    let xml = format!("<domainsnapshot><name>{name}</name></domainsnapshot>");
    dom.snapshot_create_xml(&xml, 0).unwrap().name().to_string()
}

fn names(dom: &Domain, flags: u32) -> Vec<String> {
    let mut v: Vec<String> = dom
        .list_all_snapshots(flags)
        .unwrap()
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn tree_current_and_parents() {
    let conn = open_private("tree");
    let dom = conn.lookup_by_name("test").unwrap();
    assert!(!dom.has_current_snapshot(0).unwrap());
    let err = dom.snapshot_current(0).unwrap_err();
    assert_eq!(
        err.message,
        "Domain snapshot not found: the domain does not have a current snapshot"
    );
    snap(&dom, "a");
    snap(&dom, "b");
    let b = dom.snapshot_lookup_by_name("b", 0).unwrap();
    assert_eq!(b.get_parent(0).unwrap().name(), "a");
    assert!(b.is_current(0).unwrap());
    assert!(b.has_metadata(0).unwrap());
    let a = dom.snapshot_lookup_by_name("a", 0).unwrap();
    assert_eq!(
        a.get_parent(0).unwrap_err().message,
        "Domain snapshot not found: snapshot 'a' does not have a parent"
    );
    assert_eq!(a.num_children(0).unwrap(), 1);
    assert_eq!(dom.snapshot_num(list::ROOTS).unwrap(), 1);
    assert_eq!(names(&dom, list::LEAVES), ["b"]);
    let xml = b.get_xml_desc(0).unwrap();
    assert!(xml.contains("<parent>\n    <name>a</name>\n  </parent>"));
    assert!(xml.contains("<state>running</state>"));
    assert!(xml.contains("<memory snapshot='internal'/>"));
    assert!(xml.contains("<disk name='vda' snapshot='internal'/>"));
    assert_eq!(
        dom.snapshot_lookup_by_name("zz", 0).unwrap_err().message,
        "Domain snapshot not found: no domain snapshot with matching name 'zz'"
    );
    let dup = dom
        .snapshot_create_xml("<domainsnapshot><name>a</name></domainsnapshot>", 0)
        .unwrap_err();
    assert_eq!(
        dup.message,
        "operation failed: domain moment a already exists"
    );
}

#[test]
fn revert_restores_state_and_raises_events() {
    let conn = open_private("revert");
    let mut dom = conn.lookup_by_name("test").unwrap();
    let seen: Arc<Mutex<Vec<(i32, i32)>>> = Arc::default();
    let sink = seen.clone();
    conn.domain_event_register_any(
        None,
        event_id::LIFECYCLE,
        Arc::new(move |_, ev| {
            if let DomainEvent::Lifecycle { event, detail } = ev {
                sink.lock().unwrap().push((*event, *detail));
            }
        }),
    )
    .unwrap();
    dom.suspend().unwrap();
    snap(&dom, "paused");
    dom.destroy(0).unwrap();
    snap(&dom, "off");
    let paused = dom.snapshot_lookup_by_name("paused", 0).unwrap();
    paused.revert(0).unwrap();
    assert_eq!(
        dom.get_state().unwrap(),
        (DomainState::Paused, reason::PAUSED_FROM_SNAPSHOT)
    );
    paused.revert(revert::RUNNING).unwrap();
    assert_eq!(
        dom.get_state().unwrap(),
        (DomainState::Running, reason::RUNNING_FROM_SNAPSHOT)
    );
    let off = dom.snapshot_lookup_by_name("off", 0).unwrap();
    off.revert(0).unwrap();
    assert_eq!(
        dom.get_state().unwrap(),
        (DomainState::Shutoff, reason::SHUTOFF_FROM_SNAPSHOT)
    );
    assert!(off.is_current(0).unwrap());
    let err = off.revert(revert::RUNNING | revert::PAUSED).unwrap_err();
    assert_eq!(
        err.message,
        "Flags 'VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING' and \
         'VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED' are mutually exclusive"
    );
    dom.create(0).unwrap();
    let got = seen.lock().unwrap().clone();
    use lifecycle::*;
    let want = vec![
        (SUSPENDED, SUSPENDED_PAUSED),
        (STOPPED, STOPPED_DESTROYED),
        (STARTED, STARTED_FROM_SNAPSHOT),
        (SUSPENDED, SUSPENDED_FROM_SNAPSHOT),
        (STOPPED, STOPPED_FROM_SNAPSHOT),
        (STARTED, STARTED_FROM_SNAPSHOT),
        (STOPPED, STOPPED_FROM_SNAPSHOT),
        (STARTED, STARTED_BOOTED),
    ];
    assert_eq!(got, want);
}

#[test]
fn delete_reparents_or_takes_children() {
    let conn = open_private("delete");
    let dom = conn.lookup_by_name("test").unwrap();
    for n in ["a", "b", "c"] {
        snap(&dom, n);
    }
    let b = dom.snapshot_lookup_by_name("b", 0).unwrap();
    b.delete(0).unwrap();
    let c = dom.snapshot_lookup_by_name("c", 0).unwrap();
    assert_eq!(c.get_parent(0).unwrap().name(), "a");
    assert!(c.is_current(0).unwrap());
    let a = dom.snapshot_lookup_by_name("a", 0).unwrap();
    a.delete(del::CHILDREN_ONLY).unwrap();
    assert_eq!(names(&dom, 0), ["a"]);
    assert!(a.is_current(0).unwrap(), "a descendant was current");
    assert_eq!(
        a.delete(del::METADATA_ONLY).unwrap_err().message,
        "unsupported flags (0x2) in function testDomainSnapshotDelete"
    );
    a.delete(del::CHILDREN).unwrap();
    assert!(!dom.has_current_snapshot(0).unwrap());
    assert_eq!(dom.snapshot_num(0).unwrap(), 0);
}

#[test]
fn create_flags_halt_and_redefine() {
    let conn = open_private("flags");
    let mut dom = conn.lookup_by_name("test").unwrap();
    let err = dom
        .snapshot_create_xml("<domainsnapshot/>", create::NO_METADATA)
        .unwrap_err();
    assert_eq!(
        err.message,
        "unsupported flags (0x4) in function testDomainSnapshotCreateXML"
    );
    let err = dom
        .snapshot_create_xml("<domainsnapshot/>", create::CURRENT)
        .unwrap_err();
    assert_eq!(
        err.message,
        "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag \
         'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'"
    );
    dom.snapshot_create_xml(
        "<domainsnapshot><name>h</name></domainsnapshot>",
        create::HALT,
    )
    .unwrap();
    assert_eq!(
        dom.get_state().unwrap(),
        (DomainState::Shutoff, reason::SHUTOFF_FROM_SNAPSHOT)
    );
    dom.create(0).unwrap();
    snap(&dom, "second");
    let h = dom.snapshot_lookup_by_name("h", 0).unwrap();
    let xml = h.get_xml_desc(0).unwrap();
    dom.snapshot_create_xml(&xml, create::REDEFINE | create::CURRENT)
        .unwrap();
    assert!(h.is_current(0).unwrap());
    let moved = xml
        .replace("<state>running</state>", "<state>shutoff</state>")
        .replace("<memory snapshot='internal'/>", "<memory snapshot='no'/>");
    let err = dom
        .snapshot_create_xml(&moved, create::REDEFINE)
        .unwrap_err();
    assert_eq!(
        err.message,
        "invalid argument: cannot change between online and offline snapshot state in \
         snapshot h"
    );
    dom.destroy(0).unwrap();
    assert_eq!(
        dom.undefine(0).unwrap_err().message,
        "Requested operation is not valid: cannot delete inactive domain with 2 snapshots"
    );
    dom.undefine(rvirt::flags::undefine::SNAPSHOTS_METADATA)
        .unwrap();
}

/// A node file whose domain carries `<test:domainsnapshot>` elements,
/// inline or by `file=`; `body` goes inside the domain.
fn open_node(tag: &str, body: &str) -> rvirt::Result<Connect> {
    crate::register();
    let dir = std::env::temp_dir().join(format!("rvirt-snapnode-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("snap.xml"),
        "<domainsnapshot><name>f</name><state>paused</state><creationTime>5</creationTime>\
         <active>1</active></domainsnapshot>",
    )
    .unwrap();
    let node = format!(
        "<node><domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\
         <name>nd</name><memory>1024</memory><os><type>hvm</type></os>{body}</domain></node>"
    );
    std::fs::write(dir.join("node.xml"), node).unwrap();
    let conn = Connect::open(&format!("test://{}", dir.join("node.xml").display()));
    std::fs::remove_dir_all(&dir).unwrap();
    conn
}

fn node_snap(name: &str, parent: Option<&str>, active: u8) -> String {
    let parent = parent.map_or(String::new(), |p| {
        format!("<parent><name>{p}</name></parent>")
    });
    format!(
        "<test:domainsnapshot><name>{name}</name><state>running</state>{parent}\
         <creationTime>1</creationTime><active>{active}</active></test:domainsnapshot>"
    )
}

#[test]
fn node_files_carry_snapshots() {
    let body = format!(
        "{}{}<test:domainsnapshot file='snap.xml'/>",
        node_snap("a", None, 0),
        node_snap("b", Some("a"), 0)
    );
    let conn = open_node("ok", &body).unwrap();
    let dom = conn.lookup_by_name("nd").unwrap();
    assert_eq!(names(&dom, 0), ["a", "b", "f"]);
    assert_eq!(dom.snapshot_current(0).unwrap().name(), "f");
    let b = dom.snapshot_lookup_by_name("b", 0).unwrap();
    assert_eq!(b.get_parent(0).unwrap().name(), "a");
    let msg = |body: String| open_node("bad", &body).err().unwrap().message;
    assert_eq!(
        msg(node_snap("a", None, 1) + &node_snap("b", None, 1)),
        "internal error: more than one snapshot claims to be active"
    );
    assert_eq!(
        msg(node_snap("a", Some("zz"), 0)),
        "internal error: Snapshots have inconsistent relations for domain nd"
    );
    assert_eq!(
        msg(node_snap("a", Some("b"), 0) + &node_snap("b", Some("a"), 0)),
        "internal error: Snapshots have inconsistent relations for domain nd"
    );
    assert_eq!(
        msg("<test:domainsnapshot><state>running</state></test:domainsnapshot>".into()),
        "XML error: a redefined snapshot must have a name"
    );
}
