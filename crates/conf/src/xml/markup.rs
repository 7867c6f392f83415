//! The lexical checks libxml2 makes and quick-xml leaves to its caller:
//! names, start tags with their attributes, end tags, character data and
//! character references, each failing with libxml2's message at the byte
//! where libxml2's cursor stands when it raises it.
//!
//! quick-xml finds where each piece of markup ends (quotes, comments,
//! CDATA, DOCTYPE brackets); its attribute iterator, though, accepts
//! `a='1'b='2'` and reports no positions on success, so the start tag's
//! inside is walked here, once, left to right (linear, no recursion).

use std::collections::HashSet;

use super::SyntaxError;

pub(super) type PResult<T> = std::result::Result<T, SyntaxError>;

pub(super) fn fault(message: impl Into<String>, pos: usize) -> SyntaxError {
    SyntaxError {
        message: message.into(),
        pos,
        entity: None,
    }
}

pub(super) fn err<T>(message: impl Into<String>, pos: usize) -> PResult<T> {
    Err(fault(message, pos))
}

pub(crate) fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == b'-' || c == b'.'
}

pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// End of the XML name starting at `i`, or `None` when none starts there.
pub(super) fn name_end(s: &[u8], i: usize) -> Option<usize> {
    if !s.get(i).copied().is_some_and(is_name_start) {
        return None;
    }
    let mut j = i + 1;
    while j < s.len() && is_name_char(s[j]) {
        j += 1;
    }
    Some(j)
}

pub(super) fn skip_blanks(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_blank(s[i]) {
        i += 1;
    }
    i
}

/// A start tag as written: its name, its attributes with the raw value and
/// the value's offset, and whether it closed itself.
pub(super) struct StartTag<'s> {
    pub name: &'s str,
    pub attrs: Vec<(&'s str, &'s str, usize)>,
    pub empty: bool,
}

/// Walk the start tag whose `<` is at `open` in `src` as libxml2's
/// `xmlParseStartTag2` does; `line` is the tag's line, for the message.
pub(super) fn start_tag(src: &str, open: usize, line: usize) -> PResult<StartTag<'_>> {
    let s = src.as_bytes();
    let Some(mut i) = name_end(s, open + 1) else {
        return err("StartTag: invalid element name", open + 1);
    };
    let name = &src[open + 1..i];
    let mut attrs: Vec<(&str, &str, usize)> = Vec::new();
    let mut seen: Option<HashSet<&str>> = None;
    i = skip_blanks(s, i);
    while i < s.len() && s[i] != b'>' && !s[i..].starts_with(b"/>") {
        let Some(name_stop) = name_end(s, i) else {
            return err("error parsing attribute name", i);
        };
        let aname = &src[i..name_stop];
        i = skip_blanks(s, name_stop);
        if s.get(i) != Some(&b'=') {
            return err(
                format!("Specification mandates value for attribute {aname}"),
                i,
            );
        }
        i = skip_blanks(s, i + 1);
        let (value, after) = att_value(src, i)?;
        // A linear scan per attribute: elements carry a handful of them;
        // past 32 a set keeps a hostile tag with thousands linear.
        let dup = if attrs.len() < 32 {
            attrs.iter().any(|(n, _, _)| *n == aname)
        } else {
            let set = seen.get_or_insert_with(|| attrs.iter().map(|a| a.0).collect());
            !set.insert(aname)
        };
        if dup {
            return err(format!("Attribute {aname} redefined"), after);
        }
        attrs.push((aname, value, i + 1));
        i = after;
        if i < s.len() && (s[i] == b'>' || s[i..].starts_with(b"/>")) {
            break;
        }
        let next = skip_blanks(s, i);
        if next == i {
            return err("attributes construct error", i);
        }
        i = next;
    }
    if s[i..].starts_with(b"/>") {
        return Ok(StartTag {
            name,
            attrs,
            empty: true,
        });
    }
    if i >= s.len() {
        return err(
            format!("Couldn't find end of Start Tag {name} line {line}"),
            i,
        );
    }
    Ok(StartTag {
        name,
        attrs,
        empty: false,
    })
}

/// A quoted attribute value at `i`: the raw text between the quotes and the
/// offset after the closing quote.
fn att_value(src: &str, i: usize) -> PResult<(&str, usize)> {
    let s = src.as_bytes();
    let q = s.get(i).copied().unwrap_or(0);
    if q != b'"' && q != b'\'' {
        return err("AttValue: \" or ' expected", i);
    }
    let mut j = i + 1;
    while j < s.len() && s[j] != q {
        if s[j] == b'<' {
            return err("Unescaped '<' not allowed in attributes values", j);
        }
        j += 1;
    }
    if j >= s.len() {
        return err("AttValue: ' expected", j);
    }
    Ok((&src[i + 1..j], j + 1))
}

/// Check an end tag `</NAME BLANKS>` starting at `open`; returns its name.
pub(super) fn end_tag(src: &str, open: usize) -> PResult<&str> {
    let s = src.as_bytes();
    let stop = name_end(s, open + 2).unwrap_or(open + 2);
    let i = skip_blanks(s, stop);
    if s.get(i) != Some(&b'>') {
        return err("expected '>'", i);
    }
    Ok(&src[open + 2..stop])
}

/// Character data as libxml2 stores it: valid XML characters only, no
/// `]]>`, line ends normalised to `\n`. `pos` is `text`'s offset.
pub(super) fn char_data(text: &str, pos: usize) -> PResult<String> {
    if text.contains("]]>") {
        return err("Sequence ']]>' not allowed in content", pos);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        if !is_xml_char(ch) {
            return err(format!("PCDATA invalid Char value {}", ch as u32), pos + at);
        }
        if ch == '\r' {
            if chars.peek().map(|&(_, c)| c) != Some('\n') {
                out.push('\n');
            }
            continue;
        }
        out.push(ch);
    }
    Ok(out)
}

/// The character of a `&#...;` reference, as libxml2's `xmlParseCharRef`
/// reads it: `body` is what stands between `&#` and `;`, `amp` the offset
/// of the `&`, `end` the offset after the `;`. Digits accumulate with the
/// value capped just past Unicode, as libxml2 caps it, so a long run of
/// digits reads "out of bounds" rather than overflowing.
pub(super) fn char_ref(body: &str, amp: usize, end: usize) -> PResult<char> {
    let (digits, radix, kind) = match body.strip_prefix('x') {
        Some(h) => (h, 16, "hexadecimal"),
        None => (body, 10, "decimal"),
    };
    let mut value: u32 = 0;
    for d in digits.chars() {
        let Some(v) = d.to_digit(radix) else {
            // libxml2's cursor has stepped one past `&#` when it gives up.
            return err(format!("CharRef: invalid {kind} value"), amp + 3);
        };
        value = (value * radix + v).min(0x110000);
    }
    if value >= 0x110000 {
        return err("xmlParseCharRef: character reference out of bounds", end);
    }
    match char::from_u32(value) {
        Some(c) if is_xml_char(c) && !digits.is_empty() => Ok(c),
        _ => err(
            format!("xmlParseCharRef: invalid xmlChar value {value}"),
            end,
        ),
    }
}

/// The replacement of a predefined entity.
pub(super) fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

/// The libxml2 error for a `&` at `amp` that does not start a proper
/// reference.
pub(super) fn bad_reference<T>(src: &str, amp: usize) -> PResult<T> {
    match name_end(src.as_bytes(), amp + 1) {
        None => err("xmlParseEntityRef: no name", amp + 1),
        Some(stop) => err("EntityRef: expecting ';'", stop),
    }
}
