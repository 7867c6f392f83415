//! libvirt's nwfilterxml2xmltest and virnwfilterbindingxml2xmltest: each
//! document parsed and formatted back must be libvirt's output file byte
//! for byte, and each case libvirt expects to fail (`DO_TEST(name, true)`)
//! must be refused.

use rvirt_conf::nwfilter::binding::BindingDef;
use rvirt_conf::nwfilter::NWFilterDef;
use std::path::PathBuf;

fn tests_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/libvirt-corpus/libvirt-9.0.0/tests");
    dir.is_dir().then_some(dir)
}

/// `DO_TEST("name", expect_error)` lines of nwfilterxml2xmltest.c.
fn filter_cases(src: &str) -> Vec<(String, bool)> {
    src.lines()
        .filter_map(|l| l.trim().strip_prefix("DO_TEST(\""))
        .filter_map(|l| {
            let (name, rest) = l.split_once('"')?;
            Some((name.to_string(), rest.contains("true")))
        })
        .collect()
}

#[test]
fn libvirts_nwfilter_documents_format_as_libvirt() {
    let Some(dir) = tests_dir() else {
        eprintln!("libvirt corpus not fetched: skipping");
        return;
    };
    let src = std::fs::read_to_string(dir.join("nwfilterxml2xmltest.c")).unwrap();
    let cases = filter_cases(&src);
    assert!(cases.len() >= 40, "{cases:?}");
    let mut failures = Vec::new();
    let (mut same, mut refused) = (0, 0);
    for (name, expect_error) in &cases {
        let input =
            std::fs::read_to_string(dir.join(format!("nwfilterxml2xmlin/{name}.xml"))).unwrap();
        let got = NWFilterDef::parse(&input).map(|d| d.format());
        match (got, expect_error) {
            (Err(_), true) => refused += 1,
            (Ok(got), true) => {
                failures.push(format!("{name}: accepted, libvirt refuses it:\n{got}"))
            }
            (Err(e), false) => failures.push(format!("{name}: {}", e.message)),
            (Ok(got), false) => {
                let want =
                    std::fs::read_to_string(dir.join(format!("nwfilterxml2xmlout/{name}.xml")))
                        .unwrap();
                if got == want {
                    same += 1;
                } else {
                    failures.push(format!("{name}:\n--- libvirt\n{want}--- rvirt\n{got}"));
                }
            }
        }
    }
    eprintln!("nwfilterxml2xmltest: {same} identical, {refused} refused as libvirt refuses them");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn libvirts_nwfilter_binding_documents_format_as_libvirt() {
    let Some(dir) = tests_dir() else {
        eprintln!("libvirt corpus not fetched: skipping");
        return;
    };
    let data = dir.join("virnwfilterbindingxml2xmldata");
    for name in ["simple", "filter-vars"] {
        let text = std::fs::read_to_string(data.join(format!("{name}.xml"))).unwrap();
        let got = BindingDef::parse(&text)
            .map(|d| d.format())
            .map_err(|e| e.message);
        assert_eq!(got.as_deref(), Ok(text.as_str()), "{name}");
    }
}
