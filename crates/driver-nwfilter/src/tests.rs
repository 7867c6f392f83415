use super::*;
use persist::BindingFiles;

const UUID: &str = "5c6d49af-b071-6127-b4ec-6f8ed4b55335";

fn doc(name: &str, uuid: Option<&str>, body: &str) -> String {
    let uuid = uuid
        .map(|u| format!("<uuid>{u}</uuid>"))
        .unwrap_or_default();
    format!("<filter name='{name}' chain='ipv4'>{uuid}{body}</filter>")
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rvirt-nwfilter-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn names_and_uuids_keep_each_other_as_libvirt_rules() {
    let store = NWFilterStore::in_memory(true);
    let f = store.define_xml(&doc("a", Some(UUID), ""), 0).unwrap();
    assert_eq!((f.name.as_str(), f.uuid_string().as_str()), ("a", UUID));
    // Same name and UUID: replaced.
    store
        .define_xml(
            &doc("a", Some(UUID), "<rule action='drop' direction='in'/>"),
            0,
        )
        .unwrap();
    assert!(store
        .get_xml_desc(&f, 0)
        .unwrap()
        .contains("<rule action='drop'"));
    let e = store.define_xml(&doc("b", Some(UUID), ""), 0).unwrap_err();
    assert_eq!(
        e.message,
        "operation failed: filter with same UUID but different name ('a') already exists"
    );
    let e = store.define_xml(&doc("a", None, ""), 0).unwrap_err();
    assert_eq!(
        e.message,
        format!("operation failed: filter 'a' already exists with uuid {UUID}")
    );
    assert_eq!(store.num_of_nwfilters().unwrap(), 1);
}

#[test]
fn includes_may_not_loop() {
    let store = NWFilterStore::in_memory(true);
    store
        .define_xml(&doc("a", None, "<filterref filter='b'/>"), 0)
        .unwrap();
    store
        .define_xml(&doc("b", None, "<filterref filter='c'/>"), 0)
        .unwrap();
    let e = store
        .define_xml(&doc("c", None, "<filterref filter='a'/>"), 0)
        .unwrap_err();
    assert_eq!(e.message, "operation failed: filter would introduce a loop");
    let e = store
        .define_xml(&doc("d", None, "<filterref filter='d'/>"), 0)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_FAILED);
}

#[test]
fn lookups_and_undefine_report_libvirts_errors() {
    let store = NWFilterStore::in_memory(true);
    let e = store.lookup_by_name("nope").unwrap_err();
    assert_eq!(e.code, ErrorCode::NO_NWFILTER);
    assert_eq!(
        e.message,
        "Network filter not found: no nwfilter with matching name 'nope'"
    );
    let f = store.define_xml(&doc("a", Some(UUID), ""), 0).unwrap();
    store.undefine(&f).unwrap();
    let e = store.undefine(&f).unwrap_err();
    assert_eq!(
        e.message,
        format!("Network filter not found: no nwfilter with matching uuid '{UUID}'")
    );
    let session = NWFilterStore::in_memory(false);
    let e = session.define_xml(&doc("a", None, ""), 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
}

#[test]
fn filters_persist_and_load_again() {
    let dir = scratch("persist");
    let store = NWFilterStore::persistent(
        FilterFiles::open(&dir).unwrap(),
        BindingFiles::new(&dir.join("bindings")),
        true,
    );
    let a = store.define_xml(&doc("a", Some(UUID), ""), 0).unwrap();
    let text = std::fs::read_to_string(dir.join("a.xml")).unwrap();
    assert!(text.starts_with("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE."));
    assert!(text.contains("  virsh nwfilter-edit a\n"), "{text}");
    assert!(text.ends_with(&store.get_xml_desc(&a, 0).unwrap()));
    // A hand-written file without a UUID gets one, saved; a file whose
    // name is not its filter's is skipped.
    std::fs::write(dir.join("b.xml"), "<filter name='b'/>").unwrap();
    std::fs::write(dir.join("c.xml"), "<filter name='not-c'/>").unwrap();
    let again = NWFilterStore::persistent(
        FilterFiles::open(&dir).unwrap(),
        BindingFiles::new(&dir.join("bindings")),
        true,
    );
    let names = again.list_nwfilters(10).unwrap();
    assert_eq!(names, ["a", "b"]);
    let b = again.lookup_by_name("b").unwrap();
    let saved = std::fs::read_to_string(dir.join("b.xml")).unwrap();
    assert!(saved.contains(&format!("<uuid>{}</uuid>", b.uuid_string())));
    again.undefine(&b).unwrap();
    assert!(!dir.join("b.xml").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn binding(port: &str, filter: &str) -> String {
    format!(
        "<filterbinding><owner><name>g</name><uuid>{UUID}</uuid></owner>\
         <portdev name='{port}'/><mac address='52:54:00:00:00:01'/>\
         <filterref filter='{filter}'/></filterbinding>"
    )
}

#[test]
fn bindings_of_absent_ports_are_kept_and_of_present_ones_refused() {
    let dir = scratch("bindings");
    let files = || {
        (
            FilterFiles::open(&dir).unwrap(),
            BindingFiles::new(&dir.join("bindings")),
        )
    };
    let (f, b) = files();
    let store = NWFilterStore::persistent(f, b, true);
    // libvirt keeps a binding of a port the host lacks, filter or not.
    let r = store
        .binding_create_xml(&binding("rvnet-absent", "nope"), 0)
        .unwrap();
    assert_eq!(
        (r.portdev.as_str(), r.filter.as_str()),
        ("rvnet-absent", "nope")
    );
    let e = store
        .binding_create_xml(&binding("rvnet-absent", "nope"), 0)
        .unwrap_err();
    assert_eq!(
        e.message,
        "operation failed: binding 'rvnet-absent' already exists"
    );
    let e = store
        .binding_create_xml(&binding("lo", "nope"), 0)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_UNSUPPORTED);
    let status = std::fs::read_to_string(dir.join("bindings/rvnet-absent.xml")).unwrap();
    assert!(
        status.contains("virsh nwfilter-binding-create rvnet-absent\n"),
        "{status}"
    );
    assert!(
        status.contains("<filterbindingstatus>\n  <filterbinding>\n"),
        "{status}"
    );
    let (f, b) = files();
    let again = NWFilterStore::persistent(f, b, true);
    assert_eq!(
        again.list_all_bindings(0).unwrap(),
        std::slice::from_ref(&r)
    );
    let xml = again.binding_get_xml_desc(&r, 0).unwrap();
    assert_eq!(xml, store.binding_get_xml_desc(&r, 0).unwrap());
    again.binding_delete(&r).unwrap();
    assert!(!dir.join("bindings/rvnet-absent.xml").exists());
    let e = again
        .binding_lookup_by_port_dev("rvnet-absent")
        .unwrap_err();
    assert_eq!(
        e.message,
        "Network filter binding not found: no nwfilter binding for port dev 'rvnet-absent'"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
