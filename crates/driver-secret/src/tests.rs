use super::*;
use rvirt::events_nodedev::SecretEventCallback;
use std::sync::Arc;

const UUID: &str = "f52a81b2-424e-490c-823d-6bd4235bc573";

fn private_ceph() -> String {
    format!(
        "<secret ephemeral='no' private='yes'><uuid>{UUID}</uuid>\
         <usage type='ceph'><name>client.admin</name></usage></secret>"
    )
}

#[test]
fn private_values_are_never_read_back_by_a_client() {
    let store = SecretStore::default();
    let s = store.define_xml(&private_ceph(), 0).unwrap();
    assert_eq!(s.uuid_string(), UUID);
    assert_eq!((s.usage_type, s.usage_id.as_str()), (2, "client.admin"));
    // The private check comes first, as in libvirt's secretGetValue.
    let err = store.get_value(&s, 0, false).unwrap_err();
    assert_eq!(err.message, "Invalid secret: secret is private");
    let err = store.get_value(&s, 0, true).unwrap_err();
    assert_eq!(
        err.message,
        format!("Secret not found: secret '{UUID}' does not have a value")
    );
    store.set_value(&s, b"foo", 0).unwrap();
    let err = store.get_value(&s, 0, false).unwrap_err();
    assert_eq!(err.code, ErrorCode::INVALID_SECRET);
    assert_eq!(err.message, "Invalid secret: secret is private");
    assert_eq!(store.get_value(&s, 0, true).unwrap(), b"foo");
}

#[test]
fn definitions_follow_libvirts_rules() {
    let store = SecretStore::default();
    store.define_xml(&private_ceph(), 0).unwrap();
    let public = private_ceph().replace("private='yes'", "private='no'");
    let err = store.define_xml(&public, 0).unwrap_err();
    assert_eq!(
        err.message,
        "internal error: cannot change private flag on existing secret"
    );
    let moved = private_ceph().replace("client.admin", "client.other");
    let err = store.define_xml(&moved, 0).unwrap_err();
    assert_eq!(
        err.message,
        format!("internal error: a secret with UUID {UUID} is already defined for use with client.admin")
    );
    let other = private_ceph().replace(UUID, "11111111-2222-3333-4444-555555555555");
    let err = store.define_xml(&other, 0).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "internal error: a secret with UUID {UUID} already defined for use with client.admin"
        )
    );
    let err = store.define_xml("<secret/>", 2).unwrap_err();
    assert_eq!(
        err.message,
        "unsupported flags (0x2) in function secretDefineXML"
    );
}

#[test]
fn lookups_lists_and_undefine() {
    let store = SecretStore::default();
    let s = store.define_xml(&private_ceph(), 0).unwrap();
    store
        .define_xml(
            "<secret ephemeral='yes'><usage type='volume'><volume>/v</volume></usage></secret>",
            0,
        )
        .unwrap();
    assert_eq!(store.lookup_by_usage(2, "client.admin").unwrap(), s);
    let err = store.lookup_by_usage(2, "nope").unwrap_err();
    assert_eq!(
        err.message,
        "Secret not found: no secret with matching usage 'nope'"
    );
    assert_eq!(store.num_of_secrets().unwrap(), 2);
    assert_eq!(store.list_all(list_flags::EPHEMERAL).unwrap().len(), 1);
    assert_eq!(
        store.list_all(list_flags::PRIVATE).unwrap(),
        vec![s.clone()]
    );
    assert_eq!(
        store
            .list_all(list_flags::NO_PRIVATE | list_flags::NO_EPHEMERAL)
            .unwrap()
            .len(),
        0
    );
    store.undefine(&s).unwrap();
    let err = store.get_xml_desc(&s, 0).unwrap_err();
    assert_eq!(
        err.message,
        format!("Secret not found: no secret with matching uuid '{UUID}'")
    );
}

#[test]
fn lifecycle_and_value_events() {
    let store = SecretStore::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    for id in [secret_event::ID_LIFECYCLE, secret_event::ID_VALUE_CHANGED] {
        let log = seen.clone();
        let cb: SecretEventCallback = Arc::new(move |s: &SecretRef, e: &SecretEvent| {
            log.lock().push((s.uuid_string(), e.clone()));
        });
        store.event_register_any(None, id, cb).unwrap();
    }
    let s = store.define_xml(&private_ceph(), 0).unwrap();
    store.set_value(&s, b"x", 0).unwrap();
    store.undefine(&s).unwrap();
    let got: Vec<SecretEvent> = seen.lock().iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        got,
        [
            SecretEvent::Lifecycle {
                event: secret_event::DEFINED,
                detail: 0
            },
            SecretEvent::ValueChanged,
            SecretEvent::Lifecycle {
                event: secret_event::UNDEFINED,
                detail: 0
            },
        ]
    );
}

/// A scratch secrets directory, removed when dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new(tag: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(format!("rvirt-secrets-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        ScratchDir(dir)
    }
    fn store(&self) -> SecretStore {
        SecretStore::persistent(SecretFiles::open(&self.0).unwrap())
    }
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn persistent_secrets_are_kept_as_libvirt_keeps_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = ScratchDir::new("persist");
    let store = dir.store();
    let s = store.define_xml(&private_ceph(), 0).unwrap();
    assert_eq!(dir.names(), [format!("{UUID}.xml")]);
    store.set_value(&s, b"foo", 0).unwrap();
    let (xml, value) = (
        dir.0.join(format!("{UUID}.xml")),
        dir.0.join(format!("{UUID}.base64")),
    );
    assert_eq!(std::fs::read_to_string(&value).unwrap(), "Zm9v");
    assert_eq!(
        std::fs::read_to_string(&xml).unwrap(),
        store.get_xml_desc(&s, 0).unwrap()
    );
    for path in [&xml, &value] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    let mode = std::fs::metadata(&dir.0).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);

    // A new store (a restarted daemon) has the secret and its value.
    let again = dir.store();
    let s2 = again.lookup_by_usage(2, "client.admin").unwrap();
    assert_eq!(s2.uuid_string(), UUID);
    assert_eq!(again.get_value(&s2, 0, true).unwrap(), b"foo");

    // Ephemeral: the files go, and a new value never reaches the disk.
    let ephemeral = private_ceph().replace("ephemeral='no'", "ephemeral='yes'");
    again.define_xml(&ephemeral, 0).unwrap();
    assert!(dir.names().is_empty(), "{:?}", dir.names());
    again.set_value(&s2, b"bar", 0).unwrap();
    assert!(dir.names().is_empty(), "{:?}", dir.names());
    // Persistent again: definition and the value it has now.
    again.define_xml(&private_ceph(), 0).unwrap();
    assert_eq!(std::fs::read_to_string(&value).unwrap(), "YmFy");
    again.undefine(&s2).unwrap();
    assert!(dir.names().is_empty(), "{:?}", dir.names());
    assert_eq!(dir.store().num_of_secrets().unwrap(), 0);
}

#[test]
fn files_not_named_by_their_uuid_are_skipped() {
    let dir = ScratchDir::new("misnamed");
    drop(dir.store());
    std::fs::write(dir.0.join("other.xml"), private_ceph()).unwrap();
    std::fs::write(dir.0.join("junk.xml"), "<secret").unwrap();
    assert_eq!(dir.store().num_of_secrets().unwrap(), 0);
}
