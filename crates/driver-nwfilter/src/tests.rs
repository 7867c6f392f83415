use super::*;

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
    let store = NWFilterStore::persistent(FilterFiles::open(&dir).unwrap(), true);
    let a = store.define_xml(&doc("a", Some(UUID), ""), 0).unwrap();
    let text = std::fs::read_to_string(dir.join("a.xml")).unwrap();
    assert!(text.starts_with("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE."));
    assert!(text.contains("  virsh nwfilter-edit a\n"), "{text}");
    assert!(text.ends_with(&store.get_xml_desc(&a, 0).unwrap()));
    // A hand-written file without a UUID gets one, saved; a file whose
    // name is not its filter's is skipped.
    std::fs::write(dir.join("b.xml"), "<filter name='b'/>").unwrap();
    std::fs::write(dir.join("c.xml"), "<filter name='not-c'/>").unwrap();
    let again = NWFilterStore::persistent(FilterFiles::open(&dir).unwrap(), true);
    let names = again.list_nwfilters(10).unwrap();
    assert_eq!(names, ["a", "b"]);
    let b = again.lookup_by_name("b").unwrap();
    let saved = std::fs::read_to_string(dir.join("b.xml")).unwrap();
    assert!(saved.contains(&format!("<uuid>{}</uuid>", b.uuid_string())));
    again.undefine(&b).unwrap();
    assert!(!dir.join("b.xml").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bindings_are_refused_rather_than_left_unapplied() {
    let store = NWFilterStore::in_memory(true);
    let binding = |filter: &str| {
        format!(
            "<filterbinding><owner><name>g</name><uuid>{UUID}</uuid></owner>\
             <portdev name='vnet0'/><mac address='52:54:00:00:00:01'/>\
             <filterref filter='{filter}'/></filterbinding>"
        )
    };
    let e = store.binding_create_xml(&binding("a"), 0).unwrap_err();
    assert_eq!(
        e.message,
        "internal error: referenced filter 'a' is missing"
    );
    store.define_xml(&doc("a", None, ""), 0).unwrap();
    let e = store.binding_create_xml(&binding("a"), 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::OPERATION_UNSUPPORTED);
    assert!(store.list_all_bindings(0).unwrap().is_empty());
    let e = store.binding_lookup_by_port_dev("vnet0").unwrap_err();
    assert_eq!(
        e.message,
        "Network filter binding not found: no nwfilter binding for port dev 'vnet0'"
    );
}
