//! Documents for the per-family unit tests, and their expectations.

use super::{DomainDef, FormatOptions};

/// Parse a whole document and format it back.
pub fn round_trip(doc: &str) -> Result<String, String> {
    DomainDef::parse(doc)
        .map(|d| d.format(&FormatOptions::default()))
        .map_err(|e| e.to_string())
}

/// A minimal test domain: `head` goes before its `<os>`, `tail` after.
pub fn dump_around_os(head: &str, tail: &str) -> Result<String, String> {
    round_trip(&format!(
        "<domain type='test'><name>p</name>{head}<os><type>hvm</type></os>{tail}</domain>"
    ))
}

/// A 1 MiB test domain with `body` before its `<os>`.
pub fn dump_before_os(body: &str) -> Result<String, String> {
    dump_around_os(&format!("<memory>1024</memory>{body}"), "")
}

/// A 1 MiB test domain with `body` after its `<os>`.
pub fn dump_after_os(body: &str) -> Result<String, String> {
    dump_around_os("<memory>1024</memory>", body)
}

/// A 1 MiB test domain with `devices` in its `<devices>`.
pub fn dump_devices(devices: &str) -> Result<String, String> {
    dump_after_os(&format!("<devices>{devices}</devices>"))
}

/// `dump` refuses each document of `cases` with the message beside it.
pub fn assert_errors(dump: impl Fn(&str) -> Result<String, String>, cases: &[(&str, &str)]) {
    for (doc, message) in cases {
        assert_eq!(dump(doc).unwrap_err(), *message, "for {doc}");
    }
}

/// `dump` accepts `doc`, and its output holds `want`.
pub fn assert_dump_holds(dump: impl Fn(&str) -> Result<String, String>, doc: &str, want: &str) {
    let out = dump(doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
    assert!(out.contains(want), "{out}");
}
