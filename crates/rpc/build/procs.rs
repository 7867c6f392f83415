//! `protocol/*.procs` (written by `scripts/gen-remote-procs.py`) to Rust:
//! the `Procedure` table (through the `procedures!` macro of
//! `src/program.rs`), one marker type per procedure in `procs` naming its
//! argument and return types (`crate::Proc`), and the client stubs, a trait
//! with one `call_*` method per procedure over `crate::Call`.

use super::types::rust_type_name;
use std::collections::HashMap;
use std::fmt::Write as _;

/// One line of a `.procs` file.
pub struct Decl<'a> {
    pub num: i32,
    pub name: &'a str,
    pub prio: &'static str,
    pub access: &'static str,
    pub api: &'a str,
    pub domain: &'a str,
    pub args: &'a str,
    pub ret: &'a str,
    pub stream: &'a str,
    /// libvirt's `@acl` checks, comma-joined; `-` where the program has
    /// none (the admin program).
    pub acl: &'a str,
}

/// `DOMAIN_GET_XML_DESC` -> `DomainGetXmlDesc`, the Rust variant name.
pub fn camel(name: &str) -> String {
    rust_type_name(&name.to_ascii_lowercase())
}

pub fn parse(text: &str) -> Result<Vec<Decl<'_>>, String> {
    let mut domains = HashMap::new();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let err = |what: &str| format!("line {}: {what}", n + 1);
        match f.as_slice() {
            [] => {}
            [c, ..] if c.starts_with('#') => {}
            ["from", name, num] => {
                domains.insert(*name, *num);
            }
            [num, name, prio, access, api, from, args, ret, stream, acl] => {
                let num: i32 = num.parse().map_err(|_| err("number"))?;
                if num != out.len() as i32 + 1 {
                    return Err(err(&format!("{num} out of order")));
                }
                out.push(Decl {
                    num,
                    name,
                    prio: match *prio {
                        "high" => "High",
                        "low" => "Low",
                        p => return Err(err(&format!("priority {p}"))),
                    },
                    access: match *access {
                        "read" => "Read",
                        "flags" => "ReadUnlessFlags",
                        "write" => "Write",
                        "event" => "Event",
                        a => return Err(err(&format!("access {a}"))),
                    },
                    api,
                    domain: domains
                        .get(from)
                        .ok_or_else(|| err(&format!("unknown error domain {from}")))?,
                    args,
                    ret,
                    stream,
                    acl,
                });
            }
            _ => return Err(err(&format!("{} fields", f.len()))),
        }
    }
    Ok(out)
}

fn rust_ty(name: &str) -> String {
    match name {
        "-" => "()".into(),
        n => rust_type_name(n),
    }
}

/// The table, the markers and the stubs of one program. `prefix` is
/// libvirt's constant prefix (`REMOTE_PROC_`), `stubs` the stub trait's
/// name.
pub fn generate(decls: &[Decl<'_>], prefix: &str, stubs: &str) -> String {
    let mut out = format!("procedures! {{ {prefix:?};\n");
    for d in decls {
        let api = match d.api {
            "-" => "None".to_string(),
            a => format!("Some({a:?})"),
        };
        let variant = camel(d.name);
        let (num, name, prio, access, dom) = (d.num, d.name, d.prio, d.access, d.domain);
        let acl: Vec<String> = match d.acl {
            "-" => Vec::new(),
            a => a.split(',').map(|check| format!("{check:?}")).collect(),
        };
        let acl = acl.join(", ");
        writeln!(
            out,
            "    {variant} = {num}, {name:?}, {prio}, {access}, {api}, {dom}, [{acl}];"
        )
        .unwrap();
    }
    out.push_str("}\n\n");
    out += &markers(decls, prefix);
    out += &client_stubs(decls, prefix, stubs);
    out
}

fn markers(decls: &[Decl<'_>], prefix: &str) -> String {
    let mut out = String::from(
        "/// One type per procedure: its number and its argument and return\n\
         /// types, as the protocol declares them (events: the message as `Args`).\n\
         pub mod procs {\n    use super::*;\n",
    );
    for d in decls {
        let v = camel(d.name);
        let (args, ret) = (rust_ty(d.args), rust_ty(d.ret));
        writeln!(
            out,
            "    /// `{prefix}{}` ({}).\n    #[derive(Clone, Copy, Debug)]\n    pub struct {v};\n    \
             impl crate::Proc for {v} {{\n        \
             type Id = Procedure;\n        const ID: Procedure = Procedure::{v};\n        \
             const PROGRAM: u32 = PROGRAM;\n        const VERSION: u32 = PROTOCOL_VERSION;\n        \
             const NUMBER: i32 = {};\n        type Args = {args};\n        type Ret = {ret};\n    }}",
            d.name, d.num, d.num
        )
        .unwrap();
    }
    out.push_str("}\n\n");
    out += &requests(decls);
    out += &args_decode(decls);
    out
}

/// Whether a client calls the procedure with a plain call: not an event
/// (the server sends it) nor a stream's opening (the caller sets up the
/// stream).
fn is_plain_call(d: &Decl<'_>) -> bool {
    d.access != "Event" && d.stream == "-"
}

/// `crate::Request` for the argument struct of each plain call that has
/// one (no two procedures share an argument struct).
fn requests(decls: &[Decl<'_>]) -> String {
    let mut out = String::new();
    for d in decls.iter().filter(|d| is_plain_call(d) && d.args != "-") {
        writeln!(
            out,
            "impl crate::Request for {} {{\n    type Proc = procs::{};\n}}",
            rust_type_name(d.args),
            camel(d.name)
        )
        .unwrap();
    }
    out.push('\n');
    out
}

/// `Procedure::args_decode`: whether a payload decodes as the procedure's
/// arguments, each procedure with its own type (libvirtd decodes a call's
/// arguments before it looks for the API).
fn args_decode(decls: &[Decl<'_>]) -> String {
    let mut out = String::from(
        "impl Procedure {\n    \
         /// Whether `payload` decodes as this procedure's arguments.\n    \
         pub fn args_decode(self, payload: &[u8]) -> bool {\n        \
         fn check<P: crate::Proc>(payload: &[u8]) -> bool {\n            \
         let mut d = crate::xdr::Decoder::new(payload);\n            \
         <P::Args as crate::xdr::XdrDecode>::decode(&mut d).is_ok()\n        }\n        \
         match self {\n",
    );
    for d in decls {
        let v = camel(d.name);
        writeln!(
            out,
            "            Procedure::{v} => check::<procs::{v}>(payload),"
        )
        .unwrap();
    }
    out.push_str("        }\n    }\n}\n\n");
    out
}

/// Stubs for the plain calls a client makes.
fn client_stubs(decls: &[Decl<'_>], prefix: &str, stubs: &str) -> String {
    let mut out = format!(
        "/// A typed method per procedure over [`crate::Call`]: `call_domain_get_xml_desc(&args)`.\n\
         pub trait {stubs}: crate::Call {{\n"
    );
    for d in decls.iter().filter(|d| is_plain_call(d)) {
        let method = format!("call_{}", d.name.to_ascii_lowercase());
        let v = camel(d.name);
        let ret = rust_ty(d.ret);
        let api = if d.api == "-" {
            String::new()
        } else {
            format!(": `{}`", d.api)
        };
        let (params, pass) = match d.args {
            "-" => (String::new(), "&()".to_string()),
            a => (
                format!(", args: &{}", rust_type_name(a)),
                "args".to_string(),
            ),
        };
        writeln!(
            out,
            "    /// `{prefix}{}`{api}.\n    fn {method}(&self{params}) -> rvirt_util::Result<{ret}> {{\n        \
             self.call_proc::<procs::{v}>({pass})\n    }}",
            d.name
        )
        .unwrap();
    }
    writeln!(out, "}}\nimpl<T: crate::Call + ?Sized> {stubs} for T {{}}").unwrap();
    out
}
