//! Domain XML that libxml2 refuses or treats specially (issue 11): rvirsh
//! must print what stock virsh prints for `define FILE` (and for
//! `create FILE` where the test driver differs), byte for byte.

use rvirt_testkit::tools::{compare_shells, Normalise};

fn run_both(uri: &str, commands: &str) -> Option<String> {
    compare_shells(uri, commands, &[Normalise::CpuTime])
}
use std::path::PathBuf;

const HEAD: &str =
    "<domain type='test'><name>t1</name><uuid>1f8a2b1e-52a8-4a3e-9c55-7f1c3ad4e001</uuid><memory>1024</memory><os><type>hvm</type></os>";

fn documents() -> Vec<(&'static str, String)> {
    let nest = |n: usize| format!("<x:a>{}{}</x:a>", "<x:a>".repeat(n), "</x:a>".repeat(n));
    let meta = |inner: String| {
        format!("{HEAD}<metadata><x:r xmlns:x='http://x/'>{inner}</x:r></metadata></domain>\n")
    };
    vec![
        ("deep300.xml", meta(nest(300))),
        ("deep5000.xml", meta(nest(5000))),
        ("depth257.xml", meta(nest(252))),
        ("depth258.xml", meta(nest(253))),
        ("entity.xml", format!("<!DOCTYPE domain [<!ENTITY n \"ent1\">]>\n{}<description>&n;</description></domain>", HEAD.replace("t1", "&n;"))),
        ("loop.xml", format!("<!DOCTYPE domain [<!ENTITY a \"&b;\"><!ENTITY b \"&a;\">]>\n{HEAD}<description>&a;</description></domain>")),
        ("undefined.xml", format!("{HEAD}<description>&zz;</description></domain>")),
        ("charref.xml", format!("{HEAD}<description>&#xZZ;</description></domain>")),
        ("hyphen.xml", format!("{HEAD}<!-- a -- b --></domain>")),
        ("cdata.xml", format!("{HEAD}<![CDATA[x</domain>")),
        ("slash.xml", format!("{HEAD}</domain>").replace("t1", "a/b")),
        ("newline.xml", format!("{HEAD}</domain>").replace("t1", "a\nb")),
    ]
}

#[test]
fn malformed_and_bounded_xml_matches_virsh() {
    let dir = std::env::temp_dir().join(format!("rvirsh-xml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| -> PathBuf { dir.join(name) };
    let mut commands = Vec::new();
    for (name, text) in documents() {
        std::fs::write(path(name), text).unwrap();
        commands.push(format!("define {}; list --all", path(name).display()));
    }
    commands.push(format!(
        "define {0}; dumpxml ent1",
        path("entity.xml").display()
    ));
    // The test driver checks the newline at define time only.
    commands.push(format!("create {}", path("newline.xml").display()));
    let failures: Vec<String> = commands
        .iter()
        .filter_map(|c| run_both("test:///default", c))
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
