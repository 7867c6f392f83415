//! The XML reader (`rvirt_conf::xml::parse`) and domain definitions
//! (`DomainDef::parse`, what define and create run): no input panics, and a
//! definition that parses formats to XML that parses again.

use super::{mix, Target};
use rvirt_conf::domain::interface::NetSource;
use rvirt_conf::{DomainDef, FormatOptions};
use rvirt_util::ErrorDomain;

pub struct Xml;

/// libvirt writes a few interface values with `%s`, unescaped (socket
/// addresses, filter names, virtualport profile ids), so its own output of
/// such a value holding markup is malformed; rvirt writes the same bytes.
fn writes_raw_markup(def: &DomainDef) -> bool {
    let markup = |s: &str| s.contains(['&', '<', '\'']);
    def.devices.interfaces.iter().any(|n| {
        let socket = match &n.source {
            NetSource::Socket(s) => {
                s.address.as_deref().is_some_and(markup)
                    || s.local.as_ref().is_some_and(|(a, _)| markup(a))
            }
            _ => false,
        };
        let filter = n.filterref.as_ref().is_some_and(|f| markup(&f.filter));
        let profile = n
            .virtualport
            .as_ref()
            .and_then(|v| v.profile_id.as_deref())
            .is_some_and(markup);
        socket || filter || profile
    })
}

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../conf/tests/corpus/domain");

impl Target for Xml {
    fn name(&self) -> &'static str {
        "xml"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(CORPUS)
            .map(|dir| {
                let mut files: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
                files.sort();
                files
                    .into_iter()
                    .filter(|p| !p.to_string_lossy().ends_with(".expected.xml"))
                    .filter_map(|p| std::fs::read(p).ok())
                    .collect()
            })
            .unwrap_or_default();
        seeds.push(b"<domain type='test'><name>a</name><memory>1</memory><os><type>hvm</type></os></domain>".to_vec());
        seeds.push(b"<?xml version='1.0'?><!-- c --><a x='&amp;&#x41;'><![CDATA[<]]></a>".to_vec());
        seeds
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        // The daemon only ever hands the reader UTF-8 (XDR strings are
        // checked), so invalid UTF-8 is cut at the first bad byte.
        let text = match std::str::from_utf8(input) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&input[..e.valid_up_to()]).unwrap_or(""),
        };
        let tree = rvirt_conf::xml::parse(text, "(fuzz)", ErrorDomain::DOMAIN);
        let mut sig = match &tree {
            Ok(root) => mix(1, root.local_name().len() as u64),
            Err(e) => mix(2, e.message.split(':').nth(2).map_or(0, |m| m.len() as u64)),
        };
        match DomainDef::parse(text) {
            Ok(def) => {
                let opts = FormatOptions::default();
                let xml = def.format(&opts);
                // Not checked yet: that `again` formats to `xml` again (it
                // need not: the disk order of findings/xml-disk-order.xml
                // changes on the second round; reported, not ours to fix).
                let again = match DomainDef::parse(&xml) {
                    Ok(again) => again,
                    Err(_) if writes_raw_markup(&def) => return mix(sig, 4),
                    Err(e) => panic!("formatted definition parses: {e}"),
                };
                sig = mix(sig, again.devices.disks.len() as u64);
                sig = mix(sig, 3);
            }
            Err(e) => {
                sig = mix(
                    sig,
                    (e.code.0 as u64) << 16 | e.message.len().min(200) as u64,
                )
            }
        }
        sig
    }
}
