//! libvirt 9.0's own storage documents (tests/storagepoolxml2xml*,
//! storagevolxml2xml*, when the corpus cache holds them), parsed and
//! formatted by rvirt and compared with libvirt's expected output.

use rvirt_conf::storage::{volume_parse_flags, PoolDef, VolDef};
use std::path::PathBuf;

/// What rvirt does not model yet and refuses (CONFIG_UNSUPPORTED): pool
/// XML namespaces (fs mount options, rbd config options) and volume
/// encryption. The test checks they are refused.
const NOT_MODELLED: &[&str] = &[
    "pool-netfs-ns-mountopts",
    "pool-rbd-ns-configopts",
    "vol-qcow2-encryption",
    "vol-qcow2-luks",
    "vol-luks",
    "vol-luks-cipher",
];

/// storagevolxml2xmltest.c's cases: (pool, volume, parse flags).
const VOLUMES: &[(&str, &str, u32)] = &[
    ("pool-dir", "vol-file", 0),
    ("pool-dir", "vol-file-naming", 0),
    ("pool-dir", "vol-file-backing", 0),
    ("pool-dir", "vol-file-iso", 0),
    ("pool-dir", "vol-qcow2", 0),
    ("pool-dir", "vol-qcow2-1.1", 0),
    ("pool-dir", "vol-qcow2-lazy", 0),
    ("pool-dir", "vol-qcow2-0.10-lazy", 0),
    ("pool-dir", "vol-qcow2-nobacking", 0),
    ("pool-dir", "vol-qcow2-encryption", 0),
    ("pool-dir", "vol-qcow2-luks", 0),
    ("pool-dir", "vol-qcow2-clusterSize", 0),
    ("pool-dir", "vol-luks", 0),
    ("pool-dir", "vol-luks-cipher", 0),
    ("pool-disk", "vol-partition", 0),
    ("pool-logical", "vol-logical", 0),
    ("pool-logical", "vol-logical-backing", 0),
    ("pool-gluster", "vol-gluster-dir", 0),
    ("pool-gluster", "vol-gluster-dir-neg-uid", 0),
    (
        "pool-dir",
        "vol-qcow2-nocapacity",
        volume_parse_flags::NO_CAPACITY,
    ),
];

fn tests_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/libvirt-corpus/libvirt-9.0.0/tests");
    dir.is_dir().then_some(dir)
}

fn read(dir: &std::path::Path, sub: &str, name: &str) -> String {
    std::fs::read_to_string(dir.join(sub).join(format!("{name}.xml"))).unwrap()
}

#[test]
fn libvirts_pool_and_volume_documents_format_as_libvirt() {
    let Some(dir) = tests_dir() else {
        eprintln!("libvirt corpus not fetched: skipping");
        return;
    };
    let mut failures = Vec::new();
    let mut pools = 0;
    for entry in std::fs::read_dir(dir.join("storagepoolxml2xmlin")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let name = file.trim_end_matches(".xml");
        // Inputs without an expected output are other tests' (storagepoolxml2argv).
        let has_out = dir.join("storagepoolxml2xmlout").join(&file).exists();
        if !has_out {
            continue;
        }
        if NOT_MODELLED.contains(&name) {
            let refused = PoolDef::parse(&read(&dir, "storagepoolxml2xmlin", name));
            assert!(
                refused.is_err(),
                "{name} is not modelled yet: must be refused"
            );
            continue;
        }
        pools += 1;
        let got = PoolDef::parse(&read(&dir, "storagepoolxml2xmlin", name)).map(|p| p.format());
        let want = read(&dir, "storagepoolxml2xmlout", name);
        match got {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!("{name}:\n--- libvirt\n{want}--- rvirt\n{got}")),
            Err(e) => failures.push(format!("{name}: {}", e.message)),
        }
    }
    for (pool, vol, flags) in VOLUMES {
        let p = PoolDef::parse(&read(&dir, "storagepoolxml2xmlin", pool)).unwrap();
        if NOT_MODELLED.contains(vol) {
            let refused = VolDef::parse(&p, &read(&dir, "storagevolxml2xmlin", vol), *flags);
            assert!(
                refused.is_err(),
                "{vol} is not modelled yet: must be refused"
            );
            continue;
        }
        let got = VolDef::parse(&p, &read(&dir, "storagevolxml2xmlin", vol), *flags)
            .map(|v| v.format(&p));
        let want = read(&dir, "storagevolxml2xmlout", vol);
        match got {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!("{vol}:\n--- libvirt\n{want}--- rvirt\n{got}")),
            Err(e) => failures.push(format!("{vol}: {}", e.message)),
        }
    }
    assert!(pools > 30, "only {pools} pool documents found");
    eprintln!(
        "{pools} pool and {} volume documents compared",
        VOLUMES.len() - 4
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// storagepoolcapstest.c's "fs" case: a driver with only the fs backend.
#[test]
fn pool_capabilities_format_as_libvirt() {
    let Some(dir) = tests_dir() else {
        eprintln!("libvirt corpus not fetched: skipping");
        return;
    };
    let want = read(&dir, "storagepoolcapsschemadata", "poolcaps-fs");
    let got = rvirt_conf::storage::pool_capabilities(&[rvirt_conf::storage::PoolType::Fs]);
    assert_eq!(got, want);
}
