//! Turns `protocol/remote.procs` (the REMOTE program's procedures, generated
//! from libvirt 9.0 by `scripts/gen-remote-procs.py`) into the body of
//! `remote::procedure`'s table: one `procedures!` line per procedure.

use std::fmt::Write as _;
use std::path::Path;

const TABLE: &str = "protocol/remote.procs";

fn main() {
    println!("cargo:rerun-if-changed={TABLE}");
    let text = std::fs::read_to_string(TABLE).expect("read protocol/remote.procs");
    let out = match generate(&text) {
        Ok(out) => out,
        Err(e) => panic!("{TABLE}: {e}"),
    };
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(Path::new(&dir).join("remote_procedures.rs"), out).expect("write table");
}

/// `DOMAIN_GET_XML_DESC` -> `DomainGetXmlDesc`, the Rust variant name.
fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut c = lower.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn generate(text: &str) -> Result<String, String> {
    let mut domains = std::collections::HashMap::new();
    let mut out = String::from("procedures! {\n");
    let mut expect = 1;
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [] => {}
            [c, ..] if c.starts_with('#') => {}
            ["from", name, num] => {
                domains.insert(*name, *num);
            }
            [num, name, prio, access, api, from, _args, _ret, _stream, _acl] => {
                let num: i32 = num.parse().map_err(|_| format!("line {}: number", n + 1))?;
                if num != expect {
                    return Err(format!("line {}: {num} out of order", n + 1));
                }
                expect += 1;
                let prio = match *prio {
                    "high" => "High",
                    "low" => "Low",
                    p => return Err(format!("line {}: priority {p}", n + 1)),
                };
                let access = match *access {
                    "read" => "Read",
                    "flags" => "ReadUnlessFlags",
                    "write" => "Write",
                    "event" => "Event",
                    a => return Err(format!("line {}: access {a}", n + 1)),
                };
                let api = match *api {
                    "-" => "None".to_string(),
                    a => format!("Some({a:?})"),
                };
                let dom = domains
                    .get(from)
                    .ok_or_else(|| format!("line {}: unknown error domain {from}", n + 1))?;
                let variant = camel(name);
                writeln!(
                    out,
                    "    {variant} = {num}, {name:?}, {prio}, {access}, {api}, {dom};"
                )
                .expect("write to String");
            }
            _ => return Err(format!("line {}: {} fields", n + 1, f.len())),
        }
    }
    out.push_str("}\n");
    Ok(out)
}
