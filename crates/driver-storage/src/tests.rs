//! The driver on a scratch directory: pools defined, started, refreshed,
//! persisted across a restart of the driver; raw and qcow2 volumes made,
//! cloned, resized, wiped, streamed and removed on the real file system.

use crate::config::Paths;
use crate::driver::HostStorage;
use crate::probe::{self, format};
use rvirt::driver::storage::{PoolRef, VolRef};
use rvirt::driver::StorageDriver;
use rvirt_testkit::dirs::TempDir;
use rvirt_util::ErrorCode;

fn paths(dir: &TempDir) -> Paths {
    Paths {
        config_dir: dir.join("etc"),
        autostart_dir: dir.join("etc/autostart"),
        state_dir: dir.join("run"),
    }
}

fn pool_xml(name: &str, target: &std::path::Path) -> String {
    format!(
        "<pool type='dir'><name>{name}</name><target><path>{}</path></target></pool>",
        target.display()
    )
}

/// A driver with a defined, built and started `dir` pool `p`.
fn running(dir: &TempDir) -> (HostStorage, PoolRef) {
    let s = HostStorage::start(paths(dir)).unwrap();
    let p = s
        .pool_define_xml(&pool_xml("p", &dir.join("pool")), 0)
        .unwrap();
    s.pool_build(&p, 0).unwrap();
    s.pool_create(&p, 0).unwrap();
    (s, p)
}

fn vol_xml(name: &str, fmt: &str, capacity: u64) -> String {
    format!(
        "<volume><name>{name}</name><capacity>{capacity}</capacity>\
         <target><format type='{fmt}'/></target></volume>"
    )
}

#[test]
fn raw_volume_is_sparse_file_of_its_capacity() {
    let dir = TempDir::new("storage-raw");
    let (s, p) = running(&dir);
    let xml = "<volume><name>a.img</name><capacity unit='MiB'>4</capacity>\
               <allocation>0</allocation></volume>";
    let v = s.vol_create_xml(&p, xml, 0).unwrap();
    let path = dir.join("pool/a.img");
    assert_eq!(v.key, path.display().to_string());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 4 << 20);
    let info = s.vol_get_info(&v).unwrap();
    assert_eq!((info.kind, info.capacity), (0, 4 << 20));
    let dump = s.vol_get_xml_desc(&v, 0).unwrap();
    assert!(dump.contains("<format type='raw'/>"), "{dump}");
    assert!(dump.contains("<mode>0600</mode>"), "{dump}");
    assert!(dump.contains("<btime>0</btime>"), "{dump}");
    let e = s.vol_create_xml(&p, xml, 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::STORAGE_VOL_EXIST);
    assert_eq!(e.message, "storage volume 'a.img' exists already");
}

#[test]
fn qcow2_volume_header_is_read_back() {
    let dir = TempDir::new("storage-qcow2");
    let (s, p) = running(&dir);
    let v = s
        .vol_create_xml(&p, &vol_xml("q.qcow2", "qcow2", 8 << 20), 0)
        .unwrap();
    let path = dir.join("pool/q.qcow2");
    let header = probe::parse_header(&std::fs::read(&path).unwrap());
    assert_eq!((header.format, header.capacity), (format::QCOW2, 8 << 20));
    assert_eq!(header.compat, None, "compat=0.10 is a version 2 image");
    assert_eq!(header.cluster_size, 65536);
    s.pool_refresh(&p, 0).unwrap();
    let dump = s.vol_get_xml_desc(&v, 0).unwrap();
    assert!(dump.contains("<format type='qcow2'/>"), "{dump}");
    assert!(
        dump.contains("<capacity unit='bytes'>8388608</capacity>"),
        "{dump}"
    );
    assert!(
        dump.contains("<clusterSize unit='B'>65536</clusterSize>"),
        "{dump}"
    );
    s.vol_resize(&v, 16 << 20, 0).unwrap();
    assert_eq!(s.vol_get_info(&v).unwrap().capacity, 16 << 20);
    let e = s.vol_resize(&v, 1 << 20, 0).unwrap_err();
    assert_eq!(e.code, ErrorCode::INVALID_ARG);
}

#[test]
fn clone_converts_qcow2_to_raw_and_copies_raw() {
    let dir = TempDir::new("storage-clone");
    let (s, p) = running(&dir);
    let raw = s
        .vol_create_xml(&p, &vol_xml("r", "raw", 1 << 20), 0)
        .unwrap();
    std::fs::write(dir.join("pool/r"), vec![7u8; 1 << 20]).unwrap();
    let copy = s
        .vol_create_xml_from(&p, &vol_xml("r2", "raw", 0), &raw, 0)
        .unwrap();
    assert_eq!(
        std::fs::read(dir.join("pool/r2")).unwrap(),
        vec![7u8; 1 << 20]
    );
    let q = s
        .vol_create_xml_from(&p, &vol_xml("q", "qcow2", 0), &copy, 0)
        .unwrap();
    let header = probe::parse_header(&std::fs::read(dir.join("pool/q")).unwrap());
    assert_eq!((header.format, header.capacity), (format::QCOW2, 1 << 20));
    assert_eq!(s.vol_get_info(&q).unwrap().capacity, 1 << 20);
    let missing = VolRef {
        pool: "p".into(),
        name: "nope".into(),
        key: String::new(),
    };
    let e = s
        .vol_create_xml_from(&p, &vol_xml("x", "raw", 0), &missing, 0)
        .unwrap_err();
    assert_eq!(
        e.message,
        "Storage volume not found: no storage vol with matching name 'nope'"
    );
}

#[test]
fn wipe_zeroes_and_delete_removes() {
    let dir = TempDir::new("storage-wipe");
    let (s, p) = running(&dir);
    let xml = "<volume><name>w</name><capacity>65536</capacity></volume>";
    let v = s.vol_create_xml(&p, xml, 0).unwrap();
    std::fs::write(dir.join("pool/w"), vec![9u8; 65536]).unwrap();
    s.vol_wipe(&v, 0).unwrap();
    assert_eq!(std::fs::read(dir.join("pool/w")).unwrap(), vec![0u8; 65536]);
    let e = s.vol_wipe_pattern(&v, 10, 0).unwrap_err();
    assert_eq!(
        e.message,
        "invalid argument: wiping algorithm 10 not supported"
    );
    s.vol_delete(&v, 0).unwrap();
    assert!(!dir.join("pool/w").exists());
    assert_eq!(s.pool_num_of_volumes(&p).unwrap(), 0);
}

#[test]
fn definitions_and_running_pools_survive_a_restart() {
    let dir = TempDir::new("storage-restart");
    let (s, p) = running(&dir);
    s.pool_set_autostart(&p, true).unwrap();
    s.vol_create_xml(&p, &vol_xml("keep", "raw", 4096), 0)
        .unwrap();
    let t = s
        .pool_create_xml(&pool_xml("t", &dir.join("pool")), 0)
        .unwrap_err();
    assert_eq!(
        t.message,
        "operation failed: Storage source conflict with pool: 'p'"
    );
    assert!(paths(&dir).config_file("p").exists());
    assert!(paths(&dir).state_file("p").exists());
    drop(s);
    let s = HostStorage::start(paths(&dir)).unwrap();
    let p2 = s.pool_lookup_by_name("p").unwrap();
    assert_eq!(p2, p);
    assert!(s.pool_is_active(&p).unwrap() && s.pool_is_persistent(&p).unwrap());
    assert!(s.pool_get_autostart(&p).unwrap());
    assert_eq!(
        s.pool_list_volumes(&p, 10).unwrap(),
        vec!["keep".to_string()]
    );
    s.pool_destroy(&p).unwrap();
    assert!(!paths(&dir).state_file("p").exists());
    let e = s
        .pool_undefine(&p)
        .map(|_| ())
        .and_then(|_| s.pool_lookup_by_name("p").map(drop));
    assert_eq!(e.unwrap_err().code, ErrorCode::NO_STORAGE_POOL);
    assert!(!paths(&dir).config_file("p").exists());
    assert!(!paths(&dir).autostart_link("p").exists());
}

#[test]
fn transient_pool_goes_when_destroyed() {
    let dir = TempDir::new("storage-transient");
    let s = HostStorage::start(paths(&dir)).unwrap();
    std::fs::create_dir(dir.join("t")).unwrap();
    let t = s
        .pool_create_xml(&pool_xml("t", &dir.join("t")), 0)
        .unwrap();
    assert!(!s.pool_is_persistent(&t).unwrap());
    let e = s.pool_set_autostart(&t, true).unwrap_err();
    assert_eq!(e.message, "internal error: pool has no config file");
    s.pool_destroy(&t).unwrap();
    let e = s.pool_lookup_by_name("t").unwrap_err();
    assert_eq!(
        e.message,
        "Storage pool not found: no storage pool with matching name 't'"
    );
    let missing = s
        .pool_create_xml(&pool_xml("m", &dir.join("missing")), 0)
        .unwrap_err();
    assert!(
        missing.message.starts_with("cannot open directory"),
        "{}",
        missing.message
    );
    assert!(
        s.pool_lookup_by_name("m").is_err(),
        "a failed start leaves no transient pool"
    );
}

#[test]
fn qcow2_v3_features_and_backing_format_are_parsed() {
    let mut h = vec![0u8; 512];
    h[..4].copy_from_slice(b"QFI\xfb");
    h[4..8].copy_from_slice(&3u32.to_be_bytes());
    h[8..16].copy_from_slice(&200u64.to_be_bytes());
    h[16..20].copy_from_slice(&4u32.to_be_bytes());
    h[20..24].copy_from_slice(&16u32.to_be_bytes());
    h[24..32].copy_from_slice(&(1u64 << 30).to_be_bytes());
    h[80..88].copy_from_slice(&1u64.to_be_bytes());
    h[100..104].copy_from_slice(&104u32.to_be_bytes());
    h[104..108].copy_from_slice(&0xE279_2ACAu32.to_be_bytes());
    h[108..112].copy_from_slice(&3u32.to_be_bytes());
    h[112..115].copy_from_slice(b"raw");
    h[200..204].copy_from_slice(b"base");
    let header = probe::parse_header(&h);
    assert_eq!(header.capacity, 1 << 30);
    assert_eq!(header.cluster_size, 1 << 16);
    assert_eq!(header.compat.as_deref(), Some("1.1"));
    assert_eq!(header.features, Some(vec![0]));
    assert_eq!(header.backing, Some(("base".into(), Some(format::RAW))));
}
