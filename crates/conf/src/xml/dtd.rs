//! The entity declarations of a DOCTYPE's internal subset.
//!
//! libvirt parses with `XML_PARSE_NONET | XML_PARSE_NOWARNING` (virxml.c,
//! `virXMLParseHelper`): no DTD loading, no validation, but libxml2 still
//! reads the internal subset, so `<!DOCTYPE domain [<!ENTITY x "y">]>`
//! followed by `&x;` is accepted and reads as `y`. An external entity
//! (`SYSTEM`/`PUBLIC`) is never fetched: a reference to it reads as nothing.
//!
//! quick-xml hands the DOCTYPE over as one raw event and no maintained
//! crate exposes the declarations of an internal subset (roxmltree parses
//! them but keeps them private, and refuses namespace prefixes libxml2
//! accepts), so this scanner reads them: one linear pass, no recursion.
//! Markup declarations other than ENTITY (ELEMENT, ATTLIST, NOTATION),
//! comments and PIs are skipped as libxml2 without validation ignores them.

use std::collections::HashMap;
use std::rc::Rc;

use super::markup::{char_ref, err, name_end, skip_blanks, PResult};

/// A general entity as declared.
#[derive(Clone, Debug)]
pub(super) enum Entity {
    /// Replacement text, character references already substituted (as
    /// libxml2 does at declaration time), entity references kept.
    Internal(Rc<str>),
    External,
}

/// Read the general entities declared in DOCTYPE content `doctype` (what
/// follows `<!DOCTYPE` up to the closing `>`); `base` is its offset in the
/// document, for error positions. The first declaration of a name wins.
pub(super) fn entities(doctype: &str, base: usize) -> PResult<HashMap<String, Entity>> {
    let mut out = HashMap::new();
    let Some(open) = doctype.find('[') else {
        return Ok(out);
    };
    let s = doctype.as_bytes();
    let mut i = open + 1;
    loop {
        i = skip_blanks(s, i);
        let rest = &doctype[i..];
        if rest.is_empty() || rest.starts_with(']') {
            return Ok(out);
        }
        i = if rest.starts_with("<!ENTITY") {
            declaration(doctype, i, base, &mut out)?
        } else if rest.starts_with("<!--") {
            skip_past(doctype, i, "-->", base)?
        } else if rest.starts_with("<?") {
            skip_past(doctype, i, "?>", base)?
        } else if rest.starts_with("<!") {
            markup_decl_end(doctype, i, base)?
        } else if rest.starts_with('%') {
            // A parameter-entity reference: libxml2 would splice the
            // declarations it holds; we take none from it.
            skip_past(doctype, i, ";", base)?
        } else {
            return err(
                "internal error: xmlParseInternalSubset: error detected in Markup declaration",
                base + i,
            );
        };
    }
}

fn skip_past(doc: &str, i: usize, pat: &str, base: usize) -> PResult<usize> {
    match doc[i..].find(pat) {
        Some(off) => Ok(i + off + pat.len()),
        None => err("DOCTYPE improperly terminated", base + doc.len()),
    }
}

/// End of a `<!ELEMENT ...>`-like declaration, quotes respected.
fn markup_decl_end(doc: &str, mut i: usize, base: usize) -> PResult<usize> {
    let s = doc.as_bytes();
    let mut quote = 0u8;
    while i < s.len() {
        match s[i] {
            b'"' | b'\'' if quote == 0 => quote = s[i],
            c if c == quote => quote = 0,
            b'>' if quote == 0 => return Ok(i + 1),
            _ => {}
        }
        i += 1;
    }
    err("DOCTYPE improperly terminated", base + doc.len())
}

/// One `<!ENTITY [%] NAME (VALUE | SYSTEM ... | PUBLIC ...) >` at `i`.
fn declaration(
    doc: &str,
    i: usize,
    base: usize,
    out: &mut HashMap<String, Entity>,
) -> PResult<usize> {
    let s = doc.as_bytes();
    let mut j = skip_blanks(s, i + "<!ENTITY".len());
    let parameter = s.get(j) == Some(&b'%');
    if parameter {
        j = skip_blanks(s, j + 1);
    }
    let Some(stop) = name_end(s, j) else {
        return err("xmlParseEntityDecl: no name", base + j);
    };
    let name = &doc[j..stop];
    j = skip_blanks(s, stop);
    let entity = match s.get(j) {
        Some(&q) if q == b'"' || q == b'\'' => {
            let Some(len) = doc[j + 1..].find(q as char) else {
                return err("EntityValue: \" or ' expected", base + doc.len());
            };
            let raw = &doc[j + 1..j + 1 + len];
            j += len + 2;
            Entity::Internal(substitute_char_refs(raw, base + j)?.into())
        }
        _ if doc[j..].starts_with("SYSTEM") || doc[j..].starts_with("PUBLIC") => {
            // Ends with the declaration; quoted literals may hold '>'.
            let end = markup_decl_end(doc, j, base)?;
            j = end - 1;
            Entity::External
        }
        _ => return err("Entity value required", base + j),
    };
    j = skip_blanks(s, j);
    if s.get(j) != Some(&b'>') {
        return err(
            format!("xmlParseEntityDecl: entity {name} not terminated"),
            base + j,
        );
    }
    // Parameter entities only serve the subset itself; see `entities`.
    if !parameter && !out.contains_key(name) {
        out.insert(name.to_string(), entity);
    }
    Ok(j + 1)
}

/// Replace `&#...;` in an entity value, keep `&name;` for use time.
fn substitute_char_refs(raw: &str, end: usize) -> PResult<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let Some(semi) = rest[at..].find(';') else {
            return err("EntityRef: expecting ';'", end);
        };
        let c = char_ref(&rest[at + 2..at + semi], end, end + 1)?;
        // A character reference to '&' or '<' stays markup-free text:
        // libxml2 keeps it escaped until the entity is used.
        match c {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            c => out.push(c),
        }
        rest = &rest[at + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
