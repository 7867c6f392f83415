//! `protocol/*.types` (written by `scripts/gen-xdr-types.py` from libvirt's
//! `.x` files) to Rust: one struct, enum or constant per declaration, with
//! `XdrEncode`/`XdrDecode` impls that check every `<MAX>` as libvirt's
//! rpcgen code does (a longer string, opaque or array fails to encode and to
//! decode).
//!
//! Names: `remote_domain_get_xml_desc_args` becomes `DomainGetXmlDescArgs`
//! (the program prefix goes, as the Rust module carries it), fields become
//! snake case (`maxMem` -> `max_mem`, `type` -> `type_`), constants lose
//! their `REMOTE_`/`QEMU_`/`ADMIN_`/`VIR_` prefix.

use std::collections::HashMap;
use std::fmt::Write as _;

/// A declaration's Rust shape, after typedefs are resolved.
#[derive(Clone, Debug)]
pub enum Ty {
    /// A scalar with its own `XdrEncode`/`XdrDecode` (`i32`, `u64`, `i8`...).
    Prim(&'static str),
    String(String),
    Opaque(String),
    FixedOpaque(String),
    Array(Box<Ty>, String),
    Fixed(Box<Ty>, String),
    Optional(Box<Ty>),
    /// A struct or union declared in some program: its Rust path.
    Named(String),
    /// `remote_typed_param x<MAX>`: rvirt_util's `TypedParams`, whose codec
    /// is written by hand in `remote/mod.rs` (it folds the
    /// `remote_typed_param_value` union into `TypedParamValue`).
    TypedParams(String),
    Void,
}

/// Types replaced by rvirt_util's own (see [`Ty::TypedParams`]).
const TYPED_PARAM: &[&str] = &["remote_typed_param", "admin_typed_param"];
const SKIPPED: &[&str] = &["remote_typed_param_value", "admin_typed_param_value"];

/// What one `.types` file declares, by libvirt name.
#[derive(Default)]
pub struct Program {
    pub module: String,
    pub lines: Vec<String>,
}

/// Every program's declarations, so `qemu_*` can use `remote_*` types.
#[derive(Default)]
pub struct Universe {
    /// libvirt type name -> (module, compact type or "struct"/"union"/"enum").
    types: HashMap<String, (String, String)>,
    /// libvirt constant name -> module.
    consts: HashMap<String, String>,
}

/// `remote_domain_get_xml_desc_args` -> `DomainGetXmlDescArgs`.
pub fn rust_type_name(name: &str) -> String {
    let bare = ["remote_", "qemu_", "admin_"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    bare.split('_').map(capitalise).collect()
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// `REMOTE_STRING_MAX` -> `STRING_MAX`.
pub fn rust_const_name(name: &str) -> &str {
    ["REMOTE_", "QEMU_", "ADMIN_", "VIR_"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

/// `callbackID` -> `callback_id`, `type` -> `type_`.
pub fn rust_field_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let prev_lower =
            i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
        if c.is_ascii_uppercase() && (prev_lower || (prev_upper && next_lower)) {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
        "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
        "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self",
        "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized",
        "use", "virtual", "where", "while", "yield",
    ];
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

impl Universe {
    pub fn add(&mut self, p: &Program) {
        for line in &p.lines {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["const", name, _] => {
                    self.consts.insert(name.to_string(), p.module.clone());
                }
                ["typedef", name, ty] => {
                    self.types
                        .insert(name.to_string(), (p.module.clone(), ty.to_string()));
                }
                [kind @ ("struct" | "union" | "enum"), name, ..] => {
                    self.types
                        .insert(name.to_string(), (p.module.clone(), kind.to_string()));
                }
                _ => {}
            }
        }
    }

    /// A constant as a Rust path from `module`.
    fn const_path(&self, name: &str, module: &str) -> Result<String, String> {
        if name.is_empty() {
            return Ok("u32::MAX as usize".into());
        }
        if name.chars().all(|c| c.is_ascii_digit()) {
            return Ok(name.into());
        }
        let m = self
            .consts
            .get(name)
            .ok_or(format!("unknown constant {name}"))?;
        Ok(qualify(m, module, rust_const_name(name)))
    }

    /// Resolve a compact type (`remote_nonnull_string<MAX>`, `int*`...).
    pub fn resolve(&self, ty: &str, module: &str) -> Result<Ty, String> {
        let (base, suffix) = split_suffix(ty);
        if let (Some(Bound::Var(max)), true) = (&suffix, TYPED_PARAM.contains(&base)) {
            return Ok(Ty::TypedParams(self.const_path(max, module)?));
        }
        let inner = match base {
            "string" | "opaque" => {
                return match (base, suffix) {
                    ("string", Some(Bound::Var(m))) => Ok(Ty::String(self.const_path(m, module)?)),
                    ("opaque", Some(Bound::Var(m))) => Ok(Ty::Opaque(self.const_path(m, module)?)),
                    ("opaque", Some(Bound::Fixed(n))) => {
                        Ok(Ty::FixedOpaque(self.const_path(n, module)?))
                    }
                    _ => Err(format!("{ty}: string and opaque need a length")),
                };
            }
            _ => self.resolve_base(base, module)?,
        };
        Ok(match suffix {
            None => inner,
            Some(Bound::Var(m)) => Ty::Array(Box::new(inner), self.const_path(m, module)?),
            Some(Bound::Fixed(n)) => match inner {
                Ty::Prim(_) => Ty::Fixed(Box::new(inner), self.const_path(n, module)?),
                _ => return Err(format!("{ty}: fixed arrays of non-scalars")),
            },
            Some(Bound::Pointer) => Ty::Optional(Box::new(inner)),
        })
    }

    fn resolve_base(&self, base: &str, module: &str) -> Result<Ty, String> {
        Ok(Ty::Prim(match base {
            "int" => "i32",
            "uint" => "u32",
            "hyper" => "i64",
            "uhyper" => "u64",
            "char" => "i8",
            "uchar" => "u8",
            "short" => "i16",
            "ushort" => "u16",
            "float" => "f32",
            "double" => "f64",
            "bool" => "bool",
            "void" => return Ok(Ty::Void),
            _ if TYPED_PARAM.contains(&base) => "rvirt_util::TypedParam",
            _ => {
                let (m, kind) = self.types.get(base).ok_or(format!("unknown type {base}"))?;
                return match kind.as_str() {
                    "enum" => Ok(Ty::Prim("i32")),
                    "struct" | "union" => Ok(Ty::Named(qualify(m, module, &rust_type_name(base)))),
                    typedef => self.resolve(typedef, module),
                };
            }
        }))
    }
}

fn qualify(decl_module: &str, module: &str, name: &str) -> String {
    if decl_module == module {
        name.to_string()
    } else {
        format!("crate::{decl_module}::{name}")
    }
}

enum Bound<'a> {
    Var(&'a str),
    Fixed(&'a str),
    Pointer,
}

fn split_suffix(ty: &str) -> (&str, Option<Bound<'_>>) {
    if let Some(b) = ty.strip_suffix('*') {
        return (b, Some(Bound::Pointer));
    }
    if let (Some(i), true) = (ty.find('<'), ty.ends_with('>')) {
        return (&ty[..i], Some(Bound::Var(&ty[i + 1..ty.len() - 1])));
    }
    if let (Some(i), true) = (ty.find('['), ty.ends_with(']')) {
        return (&ty[..i], Some(Bound::Fixed(&ty[i + 1..ty.len() - 1])));
    }
    (ty, None)
}

impl Ty {
    /// The Rust type of a field.
    pub fn rust(&self) -> String {
        match self {
            Ty::Prim(p) => p.to_string(),
            Ty::String(_) => "String".into(),
            Ty::Opaque(_) => "Vec<u8>".into(),
            Ty::FixedOpaque(n) => format!("[u8; {n}]"),
            Ty::Array(t, _) => format!("Vec<{}>", t.rust()),
            Ty::Fixed(t, n) => format!("[{}; {n}]", t.rust()),
            Ty::Optional(t) => format!("Option<{}>", t.rust()),
            Ty::Named(n) => n.clone(),
            Ty::TypedParams(_) => "rvirt_util::TypedParams".into(),
            Ty::Void => "()".into(),
        }
    }

    /// Statements encoding `v` (a reference) into `enc`; `d` names the
    /// loop variables of nested arrays apart.
    pub fn encode(&self, v: &str, d: usize) -> String {
        let x = format!("x{d}");
        // `v` is `&self.f` or a loop variable (already a reference): the
        // place itself, for method calls and copies.
        let place = v
            .strip_prefix('&')
            .map_or(format!("(*{v})"), str::to_string);
        match self {
            // `unsigned char` has no XdrEncode impl: Vec<u8> is opaque.
            Ty::Prim("u8") => format!("enc.put_u32(u32::from({place}));"),
            Ty::Prim(_) | Ty::Named(_) => format!("XdrEncode::encode({v}, enc)?;"),
            Ty::String(m) => format!("enc.put_string({v}, {m})?;"),
            Ty::Opaque(m) => format!("enc.put_opaque({v}, {m})?;"),
            Ty::FixedOpaque(_) => format!("enc.put_fixed_opaque({v});"),
            Ty::Array(t, m) => format!(
                "enc.put_count({place}.len(), {m})?; for {x} in {place}.iter() {{ {} }}",
                t.encode(&x, d + 1)
            ),
            Ty::Fixed(t, _) => format!("for {x} in {place}.iter() {{ {} }}", t.encode(&x, d + 1)),
            Ty::Optional(t) => format!(
                "match {v} {{ None => enc.put_bool(false), Some({x}) => {{ enc.put_bool(true); {} }} }}",
                t.encode(&x, d + 1)
            ),
            Ty::TypedParams(m) => format!("XdrBounded::encode_bounded({v}, enc, {m})?;"),
            Ty::Void => String::new(),
        }
    }

    /// An expression decoding this type from `dec`.
    pub fn decode(&self) -> String {
        match self {
            Ty::Prim("u8") => "dec.get_u32()? as u8".into(),
            Ty::Prim(_) | Ty::Named(_) | Ty::FixedOpaque(_) => {
                format!("<{} as XdrDecode>::decode(dec)?", self.rust())
            }
            Ty::String(m) => format!("dec.get_string({m})?"),
            Ty::Opaque(m) => format!("dec.get_opaque({m})?.to_vec()"),
            // Every XDR item takes at least 4 bytes: the count is checked
            // against the input left before anything is allocated.
            Ty::Array(t, m) => format!(
                "{{ let n = dec.get_count({m}, 4)?; let mut v = Vec::with_capacity(n); \
                 for _ in 0..n {{ v.push({}); }} v }}",
                t.decode()
            ),
            Ty::Fixed(t, n) => format!(
                "{{ let mut v = [{}::default(); {n}]; for x in v.iter_mut() {{ *x = {}; }} v }}",
                t.rust(),
                t.decode()
            ),
            Ty::Optional(t) => format!(
                "if dec.get_bool()? {{ Some({}) }} else {{ None }}",
                t.decode()
            ),
            Ty::TypedParams(m) => {
                format!("<rvirt_util::TypedParams as XdrBounded>::decode_bounded(dec, {m})?")
            }
            Ty::Void => "()".into(),
        }
    }
}

/// The Rust source for one program's types.
pub fn generate(p: &Program, all: &Universe) -> Result<String, String> {
    let mut out = String::new();
    let mut types = Vec::new();
    let mut i = 0;
    let lines = &p.lines;
    while i < lines.len() {
        let f: Vec<&str> = lines[i].split_whitespace().collect();
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.starts_with("  "))
            .map(|l| l.trim())
            .collect();
        i += 1 + body.len();
        match f.as_slice() {
            ["const", name, value] => emit_const(&mut out, name, value, p, all)?,
            ["typedef", ..] => {}
            ["enum", name, items @ ..] => emit_enum(&mut out, name, items),
            ["struct", name] if TYPED_PARAM.contains(name) => {}
            ["struct", name] => {
                emit_struct(&mut out, name, &body, p, all)?;
                types.push(rust_type_name(name));
            }
            ["union", name, ..] if SKIPPED.contains(name) => {}
            ["union", name, _, disc] => {
                emit_union(&mut out, name, disc, &body, p, all)?;
                types.push(rust_type_name(name));
            }
            _ => return Err(format!("cannot read {:?}", lines[i - 1 - body.len()])),
        }
    }
    emit_type_list(&mut out, &p.module, &types);
    Ok(out)
}

/// `MODULE_each_type!(mac, args...)` expands to `mac!(args...; T1, T2, ...)`
/// over every struct and union of the program, so tests and the fuzzer
/// cover the whole protocol without restating it.
fn emit_type_list(out: &mut String, module: &str, types: &[String]) {
    let list: Vec<String> = types
        .iter()
        .map(|t| format!("$crate::{module}::{t}"))
        .collect();
    writeln!(
        out,
        "/// Every struct and union of this program, for a macro: \
         `{module}_each_type!(m, args..)` is `m!(args..; T1, T2, ..)`.\n\
         #[doc(hidden)]\n#[macro_export]\nmacro_rules! {module}_each_type {{\n    \
         ($m:ident $(, $arg:expr)*) => {{ $m!($($arg),*; {}) }};\n}}",
        list.join(", ")
    )
    .unwrap();
}

fn emit_const(
    out: &mut String,
    name: &str,
    value: &str,
    p: &Program,
    all: &Universe,
) -> Result<(), String> {
    // Program and version numbers are u32 as in the packet header, union
    // case labels i32 as the discriminant; everything else is a length.
    let ty = if name.ends_with("_PROGRAM") || name.ends_with("_PROTOCOL_VERSION") {
        "u32"
    } else if name.starts_with("VIR_TYPED_PARAM_") {
        "i32"
    } else {
        "usize"
    };
    let value = if value.starts_with(|c: char| c.is_ascii_digit()) {
        value.to_string()
    } else {
        all.const_path(value, &p.module)?
    };
    writeln!(
        out,
        "/// `{name}`.\npub const {}: {ty} = {value};",
        rust_const_name(name)
    )
    .unwrap();
    Ok(())
}

/// XDR enums travel as `int` and rpcgen does not check their values, so
/// they are constants of type `i32` and fields of that type.
fn emit_enum(out: &mut String, name: &str, items: &[&str]) {
    writeln!(out, "// `enum {name}`.").unwrap();
    for item in items {
        let (n, v) = item.split_once('=').unwrap_or((item, "0"));
        writeln!(
            out,
            "/// `{n}`.\npub const {}: i32 = {v};",
            rust_const_name(n)
        )
        .unwrap();
    }
}

fn emit_struct(
    out: &mut String,
    name: &str,
    body: &[&str],
    p: &Program,
    all: &Universe,
) -> Result<(), String> {
    let rname = rust_type_name(name);
    let mut fields = Vec::new();
    for line in body {
        let (fname, ty) = line
            .split_once(' ')
            .ok_or(format!("{name}: field {line}"))?;
        fields.push((rust_field_name(fname), all.resolve(ty, &p.module)?));
    }
    writeln!(
        out,
        "/// `struct {name}`.\n#[derive(Clone, Debug, Default, PartialEq)]\npub struct {rname} {{"
    )
    .unwrap();
    for (f, t) in &fields {
        writeln!(out, "    pub {f}: {},", t.rust()).unwrap();
    }
    writeln!(out, "}}\nimpl XdrEncode for {rname} {{\n    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {{").unwrap();
    for (f, t) in &fields {
        writeln!(out, "        {}", t.encode(&format!("&self.{f}"), 0)).unwrap();
    }
    writeln!(out, "        let _ = enc;\n        Ok(())\n    }}\n}}").unwrap();
    writeln!(
        out,
        "impl XdrDecode for {rname} {{\n    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {{"
    )
    .unwrap();
    writeln!(out, "        let _ = &dec;\n        Ok({rname} {{").unwrap();
    for (f, t) in &fields {
        writeln!(out, "            {f}: {},", t.decode()).unwrap();
    }
    writeln!(out, "        }})\n    }}\n}}").unwrap();
    emit_domain_flags_args(out, &rname, &fields);
    Ok(())
}

/// `{ dom, flags }` structs implement `program::DomainFlagsArgs`.
fn emit_domain_flags_args(out: &mut String, rname: &str, fields: &[(String, Ty)]) {
    let [(dom, dom_ty), (flags, flags_ty)] = fields else {
        return;
    };
    let dom_ty = dom_ty.rust();
    let dom_and_flags = dom == "dom"
        && dom_ty.ends_with("NonnullDomain")
        && flags == "flags"
        && flags_ty.rust() == "u32";
    if !dom_and_flags {
        return;
    }
    writeln!(
        out,
        "impl crate::program::DomainFlagsArgs for {rname} {{\n    fn new(dom: {dom_ty}, flags: u32) -> Self {{\n        {rname} {{ dom, flags }}\n    }}\n}}"
    )
    .unwrap();
}

/// A union becomes an enum with one variant per arm, named after the case
/// label; `default:` keeps the discriminant it was sent with.
fn emit_union(
    out: &mut String,
    name: &str,
    disc: &str,
    body: &[&str],
    p: &Program,
    all: &Universe,
) -> Result<(), String> {
    let rname = rust_type_name(name);
    let mut arms = Vec::new();
    for line in body {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (label, ty) = match f.as_slice() {
            ["case", label, _, ty] => (Some(*label), *ty),
            ["default", _, ty] => (None, *ty),
            _ => return Err(format!("{name}: arm {line}")),
        };
        let ty = all.resolve(ty, &p.module)?;
        let variant = label.map_or("Default".to_string(), |l| {
            rust_const_name(l)
                .split('_')
                .map(|w| capitalise(&w.to_ascii_lowercase()))
                .collect()
        });
        let value = label.map(|l| all.const_path(l, &p.module)).transpose()?;
        arms.push((variant, value, ty));
    }
    writeln!(out, "/// `union {name}`, discriminated by `{disc}`.\n#[derive(Clone, Debug, PartialEq)]\npub enum {rname} {{").unwrap();
    for (v, value, t) in &arms {
        let disc = if value.is_none() { "i32, " } else { "" };
        match t {
            Ty::Void if value.is_some() => writeln!(out, "    {v},"),
            _ => writeln!(out, "    {v}({disc}{}),", t.rust()),
        }
        .unwrap();
    }
    writeln!(out, "}}\nimpl XdrEncode for {rname} {{\n    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {{\n        match self {{").unwrap();
    for (v, value, t) in &arms {
        let (pat, put) = match (value, t) {
            (Some(c), Ty::Void) => (v.clone(), format!("enc.put_i32({c} as i32);")),
            (Some(c), _) => (
                format!("{v}(x)"),
                format!("enc.put_i32({c} as i32); {}", t.encode("x", 1)),
            ),
            (None, _) => (
                format!("{v}(d, x)"),
                format!("enc.put_i32(*d); {}", t.encode("x", 1)),
            ),
        };
        writeln!(out, "            {rname}::{pat} => {{ {put} }}").unwrap();
    }
    writeln!(out, "        }}\n        Ok(())\n    }}\n}}").unwrap();
    writeln!(out, "impl XdrDecode for {rname} {{\n    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {{\n        let d = dec.get_i32()?;\n        Ok(match d {{").unwrap();
    for (v, value, t) in &arms {
        match (value, t) {
            (Some(c), Ty::Void) => {
                writeln!(out, "            d if d == {c} as i32 => {rname}::{v},")
            }
            (Some(c), _) => writeln!(
                out,
                "            d if d == {c} as i32 => {rname}::{v}({}),",
                t.decode()
            ),
            (None, _) => writeln!(out, "            d => {rname}::{v}(d, {}),", t.decode()),
        }
        .unwrap();
    }
    if arms.iter().all(|a| a.1.is_some()) {
        writeln!(
            out,
            "            d => return Err(XdrError::InvalidDiscriminant(d)),"
        )
        .unwrap();
    }
    writeln!(out, "        }})\n    }}\n}}").unwrap();
    Ok(())
}
