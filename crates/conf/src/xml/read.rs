//! Reading a document into the tiny DOM: quick-xml tokenizes, this builder
//! keeps the open elements on an explicit stack (no recursion per element,
//! so nesting cannot exhaust the thread's stack), checks what libxml2
//! checks and quick-xml does not (see `markup`), expands the internal
//! subset's entities (see `dtd`), and enforces the bounds below.
//!
//! Everything is one pass: element lines come from a cursor that only moves
//! forward, so the whole read is linear in the document's size.

use std::collections::HashMap;

use quick_xml::errors::{Error as QxError, IllFormedError, SyntaxError as QxSyntax};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::dtd::{self, Entity};
use super::markup::{self, err, fault, PResult};
use super::{Element, Node, SyntaxError};

/// libxml2's `xmlParserMaxDepth` (parser.c): without `XML_PARSE_HUGE`, an
/// element that starts while more than 256 are open is refused with
/// "Excessive depth in document: 256 use XML_PARSE_HUGE option".
pub const MAX_DEPTH: usize = 256;

/// libxml2's `XML_MAX_TEXT_LENGTH` and `XML_MAX_LOOKUP_LIMIT`
/// (include/libxml/parserInternals.h), both 10,000,000: without
/// `XML_PARSE_HUGE` no text node, attribute value or lookahead may exceed
/// them. We bound the whole document by that figure (libvirt's RPC caps a
/// domain XML string at 4 MiB, `REMOTE_STRING_MAX`, so no client reaches
/// it), refusing with libxml2's "Huge input lookup" internal error.
pub const MAX_SIZE: usize = 10_000_000;

/// libxml2 keeps no node count of its own (memory is its only bound). Ours
/// caps the DOM at one node per 10 bytes of `MAX_SIZE`: a domain definition
/// has hundreds, the 250,000-element benchmark fits, and the worst case
/// stays near 100 MB. The message follows libxml2's depth wording.
pub const MAX_NODES: usize = 1_000_000;

/// libxml2 2.9's entity nesting bound (parser.c, `xmlParseReference`:
/// `ctxt->depth > 40` without `XML_PARSE_HUGE`).
const MAX_ENTITY_DEPTH: usize = 40;

/// libxml2 2.9's amplification check (parser.c, `xmlParserEntityCheck`,
/// `XML_PARSER_BIG_ENTITY` and `XML_PARSER_NON_LINEAR`): entity expansion
/// past 1000 bytes may not exceed ten times the document. Both this and a
/// self-reference end with "Detected an entity reference loop".
const BIG_ENTITY: usize = 1000;
const NON_LINEAR: usize = 10;

/// Parse a whole document into its root element.
pub(super) fn document(text: &str) -> PResult<Element> {
    if text.is_empty() {
        return err("Document is empty", 0);
    }
    if text.len() > MAX_SIZE {
        return err("Internal error: Huge input lookup", 0);
    }
    // quick-xml drops a byte-order mark but not from its offsets; read
    // past it here so offsets stay the document's.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    body(&text[bom..]).map_err(|mut e| {
        if e.entity.is_none() {
            e.pos += bom;
        }
        e
    })
}

fn body(text: &str) -> PResult<Element> {
    let mut b = Builder {
        doc_len: text.len(),
        lines: Vec::new(),
        stack: Vec::new(),
        root: None,
        nodes: 0,
        entities: HashMap::new(),
        doctype_seen: false,
        expanding: Vec::new(),
        expanded: 0,
    };
    b.run(Input {
        text,
        in_entity: false,
    })?;
    if let Some(open) = b.stack.last() {
        let msg = format!(
            "Premature end of data in tag {} line {}",
            open.name, open.line
        );
        return err(msg, text.len());
    }
    b.root
        .ok_or_else(|| fault("Start tag expected, '<' not found", text.len()))
}

/// Line numbers from a cursor that only moves forward through one input
/// (the document, or an entity's text): O(n) in total.
struct Lines {
    pos: usize,
    line: usize,
}

impl Lines {
    fn at(&mut self, text: &str, pos: usize) -> usize {
        if pos < self.pos {
            *self = Lines { pos: 0, line: 1 };
        }
        let pos = pos.min(text.len());
        self.line += text.as_bytes()[self.pos..pos]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        self.pos = pos;
        self.line
    }
}

/// What events are read from: the document, or an entity's replacement
/// text (then errors show that text, as libxml2's do).
#[derive(Clone, Copy)]
struct Input<'s> {
    text: &'s str,
    in_entity: bool,
}

impl Input<'_> {
    fn locate(&self, mut e: SyntaxError) -> SyntaxError {
        if self.in_entity && e.entity.is_none() {
            e.entity = Some(self.text.to_string());
        }
        e
    }
}

struct Builder {
    doc_len: usize,
    /// One line cursor per input being read, innermost last.
    lines: Vec<Lines>,
    stack: Vec<Element>,
    root: Option<Element>,
    nodes: usize,
    entities: HashMap<String, Entity>,
    doctype_seen: bool,
    /// Entities being expanded, innermost last (loop detection).
    expanding: Vec<String>,
    /// Bytes of replacement text read so far (amplification check).
    expanded: usize,
}

impl Builder {
    fn run(&mut self, inp: Input) -> PResult<()> {
        self.lines.push(Lines { pos: 0, line: 1 });
        let r = self.read(inp);
        self.lines.pop();
        r
    }

    fn read(&mut self, inp: Input) -> PResult<()> {
        let base_depth = self.stack.len();
        // quick-xml drops a leading U+FEFF as a byte-order mark and leaves
        // it out of its offsets; here it can only be content (the
        // document's own mark is gone already), so it is read as text
        // and quick-xml starts after it, its offsets shifted back by `skip`.
        let mut skip = 0;
        while inp.text[skip..].starts_with('\u{feff}') {
            self.text(inp, skip, skip + 3).map_err(|e| inp.locate(e))?;
            skip += 3;
        }
        let mut reader = Reader::from_str(&inp.text[skip..]);
        let cfg = reader.config_mut();
        // Tag matching is ours, to word it as libxml2 does.
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.check_comments = true;
        loop {
            let at = skip + reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let pos = skip + reader.error_position() as usize;
                    return Err(inp.locate(self.tokenizer_error(inp, e, pos)));
                }
            };
            let end = skip + reader.buffer_position() as usize;
            if let Event::Eof = event {
                break;
            }
            self.event(inp, &event, at, end, base_depth)
                .map_err(|e| inp.locate(e))?;
        }
        if inp.in_entity && self.stack.len() > base_depth {
            let open = &self.stack[self.stack.len() - 1];
            let msg = format!(
                "Premature end of data in tag {} line {}",
                open.name, open.line
            );
            return Err(inp.locate(fault(msg, inp.text.len())));
        }
        Ok(())
    }

    fn event(
        &mut self,
        inp: Input,
        event: &Event,
        at: usize,
        end: usize,
        base: usize,
    ) -> PResult<()> {
        let text = inp.text;
        match event {
            Event::Start(_) | Event::Empty(_) => self.open(inp, at),
            Event::End(_) => self.close(inp, at, end, base),
            Event::Text(_) => self.text(inp, at, end),
            Event::GeneralRef(_) => self.reference(inp, at, end),
            Event::CData(_) => self.leaf(Node::CData(text[at + 9..end - 3].to_string())),
            Event::Comment(_) => self.leaf(Node::Comment(text[at + 4..end - 3].to_string())),
            Event::PI(_) => self.pi(text, at, end),
            Event::Decl(_) if at == 0 && !inp.in_entity => Ok(()),
            Event::Decl(_) => err(
                "XML declaration allowed only at the start of the document",
                at + 5,
            ),
            Event::DocType(_) => self.doctype(inp, at, end),
            Event::Eof => Ok(()),
        }
    }

    /// The line of `pos` in the input being read (libxml2 numbers the
    /// lines of an entity's text from 1, as its own input).
    fn line(&mut self, inp: Input, pos: usize) -> usize {
        match self.lines.last_mut() {
            Some(cursor) => cursor.at(inp.text, pos),
            None => 1,
        }
    }

    fn count(&mut self, pos: usize) -> PResult<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return err(
                format!("Excessive number of nodes in document: {MAX_NODES}"),
                pos,
            );
        }
        Ok(())
    }

    /// The error for content outside the root element at `pos`.
    fn outside_root<T>(&self, pos: usize) -> PResult<T> {
        if self.root.is_some() {
            err("Extra content at the end of the document", pos)
        } else {
            err("Start tag expected, '<' not found", pos)
        }
    }

    fn open(&mut self, inp: Input, at: usize) -> PResult<()> {
        // Checked before anything else, as libxml2's xmlParseElementStart.
        if self.stack.len() > MAX_DEPTH {
            let msg = format!("Excessive depth in document: {MAX_DEPTH} use XML_PARSE_HUGE option");
            return err(msg, at);
        }
        if self.stack.is_empty() && self.root.is_some() {
            return self.outside_root(at);
        }
        let line = self.line(inp, at);
        let tag = markup::start_tag(inp.text, at, line)?;
        let mut attrs = Vec::with_capacity(tag.attrs.len());
        for &(name, raw, pos) in &tag.attrs {
            let mut value = String::with_capacity(raw.len());
            self.attr_chars(inp, raw, pos, &mut value)?;
            attrs.push((name.to_string(), value));
        }
        self.count(at)?;
        let el = Element {
            name: tag.name.to_string(),
            attrs,
            children: Vec::new(),
            line,
        };
        if tag.empty {
            self.attach(Node::Element(el));
        } else {
            self.stack.push(el);
        }
        Ok(())
    }

    /// Add a finished node to the open element, or make it the root.
    fn attach(&mut self, node: Node) {
        match (self.stack.last_mut(), node) {
            (Some(parent), node) => parent.children.push(node),
            (None, Node::Element(e)) => self.root = Some(e),
            // Comments and PIs around the root are not part of it.
            (None, _) => {}
        }
    }

    fn close(&mut self, inp: Input, at: usize, end: usize, base: usize) -> PResult<()> {
        let name = markup::end_tag(inp.text, at)?;
        if self.stack.len() <= base {
            if inp.in_entity {
                return err("chunk is not well balanced", at);
            }
            return self.outside_root(at);
        }
        let open = self.stack.pop().expect("stack is deeper than base");
        if open.name != name {
            let msg = format!(
                "Opening and ending tag mismatch: {} line {} and {name}",
                open.name, open.line
            );
            return err(msg, end);
        }
        self.attach(Node::Element(open));
        Ok(())
    }

    fn text(&mut self, inp: Input, at: usize, end: usize) -> PResult<()> {
        let raw = &inp.text[at..end];
        if self.stack.is_empty() {
            return match raw.bytes().position(|c| !markup::is_blank(c)) {
                Some(off) => self.outside_root(at + off),
                None => Ok(()),
            };
        }
        let text = markup::char_data(raw, at)?;
        self.push_text(&text, at)
    }

    /// Append character data, merged with a text node just before it.
    fn push_text(&mut self, text: &str, pos: usize) -> PResult<()> {
        let Some(parent) = self.stack.last_mut() else {
            return self.outside_root(pos);
        };
        if let Some(Node::Text(t)) = parent.children.last_mut() {
            t.push_str(text);
            return Ok(());
        }
        parent.children.push(Node::Text(text.to_string()));
        self.count(pos)
    }

    fn leaf(&mut self, node: Node) -> PResult<()> {
        if !self.stack.is_empty() {
            self.count(0)?;
            self.attach(node);
        }
        Ok(())
    }

    fn pi(&mut self, text: &str, at: usize, end: usize) -> PResult<()> {
        let Some(stop) = markup::name_end(text.as_bytes(), at + 2) else {
            return err("xmlParsePI : no target name", at + 2);
        };
        let data = markup::skip_blanks(text.as_bytes(), stop).min(end - 2);
        self.leaf(Node::Pi(
            text[at + 2..stop].to_string(),
            text[data..end - 2].to_string(),
        ))
    }

    fn doctype(&mut self, inp: Input, at: usize, end: usize) -> PResult<()> {
        if inp.in_entity || !self.stack.is_empty() {
            return err("StartTag: invalid element name", at + 1);
        }
        if self.root.is_some() || self.doctype_seen {
            return self.outside_root(at);
        }
        self.doctype_seen = true;
        let start = at + "<!DOCTYPE".len();
        self.entities = dtd::entities(&inp.text[start..end - 1], start)?;
        Ok(())
    }

    /// A `&...;` reference in content.
    fn reference(&mut self, inp: Input, at: usize, end: usize) -> PResult<()> {
        if self.stack.is_empty() {
            return self.outside_root(at);
        }
        let body = &inp.text[at + 1..end - 1];
        if let Some(num) = body.strip_prefix('#') {
            let c = markup::char_ref(num, at, end)?;
            return self.push_text(c.encode_utf8(&mut [0; 4]), at);
        }
        if markup::name_end(body.as_bytes(), 0) != Some(body.len()) {
            return markup::bad_reference(inp.text, at);
        }
        if let Some(c) = markup::predefined(body) {
            return self.push_text(c.encode_utf8(&mut [0; 4]), at);
        }
        match self.entities.get(body).cloned() {
            None => err(format!("Entity '{body}' not defined"), end),
            Some(Entity::External) => Ok(()),
            Some(Entity::Internal(value)) => {
                self.enter(body, value.len(), end)?;
                let sub = Input {
                    text: &value,
                    in_entity: true,
                };
                let r = self.run(sub);
                self.expanding.pop();
                r
            }
        }
    }

    /// Start expanding entity `name`, unless that loops or amplifies.
    fn enter(&mut self, name: &str, len: usize, end: usize) -> PResult<()> {
        self.expanded += len;
        let amplified = self.expanded > BIG_ENTITY && self.expanded > NON_LINEAR * self.doc_len;
        if amplified
            || self.expanding.len() >= MAX_ENTITY_DEPTH
            || self.expanding.iter().any(|n| n == name)
        {
            return err("Detected an entity reference loop", end);
        }
        self.expanding.push(name.to_string());
        Ok(())
    }

    /// Normalise attribute value `raw` (at `pos` in `inp`) into `out` as
    /// libxml2 does: references replaced, white space made spaces.
    fn attr_chars(&mut self, inp: Input, raw: &str, pos: usize, out: &mut String) -> PResult<()> {
        let mut k = 0;
        while let Some(ch) = raw[k..].chars().next() {
            match ch {
                '&' => k = self.attr_reference(inp, raw, pos, k, out)?,
                '<' => return err("Unescaped '<' not allowed in attributes values", pos + k),
                c if !markup::is_xml_char(c) => {
                    return err("invalid character in attribute value", pos + k)
                }
                '\r' if raw[k + 1..].starts_with('\n') => k += 1,
                '\t' | '\n' | '\r' => {
                    out.push(' ');
                    k += 1;
                }
                c => {
                    out.push(c);
                    k += c.len_utf8();
                }
            }
        }
        Ok(())
    }

    /// The reference at `raw[k]` inside an attribute value; returns the
    /// offset after it.
    fn attr_reference(
        &mut self,
        inp: Input,
        raw: &str,
        pos: usize,
        k: usize,
        out: &mut String,
    ) -> PResult<usize> {
        let Some(semi) = raw[k..].find(';') else {
            return markup::bad_reference(inp.text, pos + k);
        };
        let body = &raw[k + 1..k + semi];
        let end = pos + k + semi + 1;
        if let Some(num) = body.strip_prefix('#') {
            out.push(markup::char_ref(num, pos + k, end)?);
        } else if markup::name_end(body.as_bytes(), 0) != Some(body.len()) {
            return markup::bad_reference(inp.text, pos + k);
        } else if let Some(c) = markup::predefined(body) {
            out.push(c);
        } else {
            match self.entities.get(body).cloned() {
                None => return err(format!("Entity '{body}' not defined"), end),
                Some(Entity::External) => {
                    return err(
                        format!("Attribute references external entity '{body}'"),
                        end,
                    )
                }
                Some(Entity::Internal(v)) => {
                    if v.contains('<') {
                        let msg =
                            format!("'<' in entity '{body}' is not allowed in attributes values");
                        return err(msg, end);
                    }
                    self.enter(body, v.len(), end)?;
                    let sub = Input {
                        text: &v,
                        in_entity: true,
                    };
                    let r = self.attr_chars(sub, &v, 0, out).map_err(|e| sub.locate(e));
                    self.expanding.pop();
                    r?;
                }
            }
        }
        Ok(k + semi + 1)
    }

    /// Word a quick-xml tokenizer error as libxml2 would, at `pos` (where
    /// quick-xml stopped: the construct's `<` or `&`).
    fn tokenizer_error(&mut self, inp: Input, e: QxError, pos: usize) -> SyntaxError {
        let text = inp.text;
        let eof = text.len();
        let pos = pos.min(eof);
        if !text.is_char_boundary(pos) {
            return fault("Start tag expected, '<' not found", pos);
        }
        let found = match e {
            // End of input inside a tag: walk it as libxml2 does, which
            // names the first fault (or the missing end).
            QxError::Syntax(QxSyntax::UnclosedTag) if text[pos..].starts_with("</") => {
                markup::end_tag(text, pos).map(|_| ())
            }
            QxError::Syntax(QxSyntax::UnclosedTag) => {
                let line = self.line(inp, pos);
                markup::start_tag(text, pos, line).and_then(|t| {
                    err(
                        format!("Couldn't find end of Start Tag {} line {line}", t.name),
                        eof,
                    )
                })
            }
            QxError::Syntax(QxSyntax::UnclosedComment) => err("Comment not terminated", eof),
            QxError::Syntax(QxSyntax::UnclosedCData) => {
                // libxml2 quotes what it gathered, less its two-character
                // lookahead, up to 50 bytes (`"...not finished\n%.50s"`).
                // quick-xml also says this of a `<![` that is not a whole
                // `<![CDATA[`, so the ninth byte may sit inside a character.
                let mut start = (pos + 9).min(eof);
                while !text.is_char_boundary(start) {
                    start += 1;
                }
                let gathered = &text[start..];
                let keep = gathered.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
                let quoted = clip(&gathered[..keep], 50);
                err(format!("CData section not finished\n{quoted}"), eof)
            }
            QxError::Syntax(QxSyntax::UnclosedDoctype) => err("DOCTYPE improperly terminated", eof),
            QxError::Syntax(QxSyntax::UnclosedPIOrXmlDecl) => {
                match markup::name_end(text.as_bytes(), pos + 2) {
                    Some(stop) => err(
                        format!("ParsePI: PI {} never end ...", &text[pos + 2..stop]),
                        eof,
                    ),
                    None => err("xmlParsePI : no target name", pos + 2),
                }
            }
            QxError::Syntax(QxSyntax::InvalidBangMarkup) => {
                err("StartTag: invalid element name", pos + 1)
            }
            QxError::IllFormed(IllFormedError::UnclosedReference) => {
                markup::bad_reference(text, pos)
            }
            QxError::IllFormed(IllFormedError::DoubleHyphenInComment) => {
                // `pos` is the first '-' of the pair; libxml2 quotes the
                // comment up to it (`"...comment: <!--%.50s"`).
                let open = text[..pos].rfind("<!--").map_or(pos, |o| o + 4);
                let quoted = clip(&text[open..pos], 50);
                err(format!("Double hyphen within comment: <!--{quoted}"), pos)
            }
            QxError::IllFormed(IllFormedError::MissingDoctypeName) => {
                err("xmlParseDocTypeDecl : no DOCTYPE name !", pos)
            }
            QxError::IllFormed(IllFormedError::MissingDeclVersion(_)) => {
                err("Malformed declaration expecting version", pos)
            }
            other => err(other.to_string(), pos),
        };
        found
            .err()
            .unwrap_or_else(|| fault("Start tag expected, '<' not found", pos))
    }
}

/// At most `max` bytes of `s`, cut on a character boundary (C's `%.50s`).
fn clip(s: &str, max: usize) -> &str {
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}
