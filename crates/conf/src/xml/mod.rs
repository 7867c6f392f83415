//! A small XML toolkit shaped after what libvirt gets from libxml2:
//!
//! * [`parse`]: a well-formedness checking parser into a tiny DOM, whose
//!   errors carry libxml2's wording, line and position, formatted the way
//!   libvirt's `catchXMLError` prints them (message, context line, caret);
//! * [`Writer`]: libvirt's `virBuffer` with two-space auto indentation and
//!   `virBufferEscapeString` escaping;
//! * [`dump_node`]: libxml2's `xmlNodeDump` with formatting, used for
//!   `<metadata>` content.

mod write;

pub use write::{dump_node, escape, strip_blanks, Attrs, Writer};

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// One node of the tiny DOM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
    Comment(String),
    CData(String),
    Pi(String, String),
}

/// An element: qualified name as written, attributes in document order
/// (namespace declarations included), children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub line: usize,
}

impl Element {
    /// Value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// First child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// All child elements called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.name == name)
    }

    /// Concatenated text content (libxml2's `xmlNodeGetContent`).
    pub fn text(&self) -> String {
        let mut out = String::new();
        fn walk(e: &Element, out: &mut String) {
            for c in &e.children {
                match c {
                    Node::Text(t) | Node::CData(t) => out.push_str(t),
                    Node::Element(e) => walk(e, out),
                    _ => {}
                }
            }
        }
        walk(self, &mut out);
        out
    }

    /// Text content of child `name`, if the child exists.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|e| e.text())
    }

    /// Local part of the name (after any prefix).
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// Namespace URI bound to this element's prefix, searching `scope`
    /// (ancestors' declarations, innermost last) and the element itself.
    pub fn namespace<'a>(&'a self, scope: &[&'a Element]) -> Option<&'a str> {
        let key = match self.name.split_once(':') {
            Some((p, _)) => format!("xmlns:{p}"),
            None => "xmlns".to_string(),
        };
        if let Some(v) = self.attr(&key) {
            return Some(v);
        }
        scope.iter().rev().find_map(|e| e.attr(&key))
    }
}

/// A well-formedness error: libxml2's message and the byte offset where
/// libxml2's input cursor stood when it raised it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub pos: usize,
}

impl SyntaxError {
    /// Render as libvirt's `catchXMLError` does:
    /// `URL:LINE: MESSAGE\nCONTEXT\n----^`.
    pub fn render(&self, text: &str, url: &str) -> String {
        let b = text.as_bytes();
        let pos = self.pos.min(b.len());
        let line = 1 + b[..pos].iter().filter(|&&c| c == b'\n').count();
        let at = |i: usize| if i < b.len() { b[i] } else { 0 };
        let mut cur = pos;
        while cur > 0 && (at(cur) == b'\n' || at(cur) == b'\r') {
            cur -= 1;
        }
        while cur > 0 && at(cur) != b'\n' && at(cur) != b'\r' {
            cur -= 1;
        }
        if at(cur) == b'\n' || at(cur) == b'\r' {
            cur += 1;
        }
        let col = pos - cur;
        let mut end = cur;
        while end < b.len() && b[end] != b'\n' && b[end] != b'\r' {
            end += 1;
        }
        let ctx = String::from_utf8_lossy(&b[cur..end]).into_owned();
        let mut pointer = String::new();
        for &c in b[cur..end].iter().take(col) {
            pointer.push(if c == b'\t' { '\t' } else { '-' });
        }
        pointer.push('^');
        let ctx = if ctx.is_empty() {
            "(null)".to_string()
        } else {
            ctx
        };
        format!("{url}:{line}: {}\n{ctx}\n{pointer}", self.message)
    }
}

/// Parse `text` into its root element. Errors are `VIR_ERR_XML_DETAIL`
/// in `domain`, with libvirt's rendering (`url` is e.g. `(domain_definition)`).
pub fn parse(text: &str, url: &str, domain: ErrorDomain) -> Result<Element> {
    parse_raw(text).map_err(|e| Error::raw(domain, ErrorCode::XML_DETAIL, e.render(text, url)))
}

/// Parse without converting the error.
pub fn parse_raw(text: &str) -> std::result::Result<Element, SyntaxError> {
    let mut p = Parser {
        s: text.as_bytes(),
        src: text,
        i: 0,
    };
    p.document()
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

type PResult<T> = std::result::Result<T, SyntaxError>;

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == b'-' || c == b'.'
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

impl<'a> Parser<'a> {
    fn err<T>(&self, msg: impl Into<String>, pos: usize) -> PResult<T> {
        Err(SyntaxError {
            message: msg.into(),
            pos,
        })
    }

    fn peek(&self) -> u8 {
        self.s.get(self.i).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn starts(&self, pat: &str) -> bool {
        self.s[self.i..].starts_with(pat.as_bytes())
    }

    fn skip_blanks(&mut self) -> usize {
        let start = self.i;
        while !self.at_end() && is_blank(self.peek()) {
            self.i += 1;
        }
        self.i - start
    }

    fn line_of(&self, pos: usize) -> usize {
        1 + self.s[..pos].iter().filter(|&&c| c == b'\n').count()
    }

    fn name(&mut self) -> Option<String> {
        if !is_name_start(self.peek()) || self.at_end() {
            return None;
        }
        let start = self.i;
        while !self.at_end() && is_name_char(self.peek()) {
            self.i += 1;
        }
        Some(self.src[start..self.i].to_string())
    }

    fn document(&mut self) -> PResult<Element> {
        if self.s.is_empty() {
            return self.err("Document is empty", 0);
        }
        self.misc(true)?;
        if self.at_end() || self.peek() != b'<' {
            return self.err("Start tag expected, '<' not found", self.i);
        }
        let root = self.element()?;
        self.misc(false)?;
        if !self.at_end() {
            return self.err("Extra content at the end of the document", self.i);
        }
        Ok(root)
    }

    /// Blanks, comments, processing instructions (and a DOCTYPE in the prolog).
    fn misc(&mut self, prolog: bool) -> PResult<()> {
        loop {
            self.skip_blanks();
            if self.starts("<!--") {
                self.comment()?;
            } else if self.starts("<?") {
                self.pi()?;
            } else if prolog && self.starts("<!DOCTYPE") {
                let mut depth = 0i32;
                while !self.at_end() {
                    match self.peek() {
                        b'[' => depth += 1,
                        b']' => depth -= 1,
                        b'>' if depth <= 0 => break,
                        _ => {}
                    }
                    self.i += 1;
                }
                if self.at_end() {
                    return self.err("DOCTYPE improperly terminated", self.i);
                }
                self.i += 1;
            } else {
                return Ok(());
            }
        }
    }

    fn comment(&mut self) -> PResult<String> {
        self.i += 4;
        let start = self.i;
        match self.src[start..].find("-->") {
            Some(off) => {
                self.i = start + off + 3;
                Ok(self.src[start..start + off].to_string())
            }
            None => {
                self.i = self.s.len();
                self.err("Comment not terminated", self.i)
            }
        }
    }

    fn pi(&mut self) -> PResult<(String, String)> {
        self.i += 2;
        let Some(target) = self.name() else {
            return self.err("xmlParsePI : no target name", self.i);
        };
        self.skip_blanks();
        let start = self.i;
        match self.src[start..].find("?>") {
            Some(off) => {
                self.i = start + off + 2;
                Ok((target, self.src[start..start + off].to_string()))
            }
            None => {
                self.i = self.s.len();
                self.err(format!("ParsePI: PI {target} never end ..."), self.i)
            }
        }
    }

    /// A reference after `&`; returns the replacement text.
    fn reference(&mut self) -> PResult<String> {
        self.i += 1;
        if self.peek() == b'#' {
            self.i += 1;
            let hex = self.peek() == b'x';
            if hex {
                self.i += 1;
            }
            let start = self.i;
            while !self.at_end() && self.peek().is_ascii_alphanumeric() {
                self.i += 1;
            }
            let digits = &self.src[start..self.i];
            if self.peek() != b';' {
                return self.err("xmlParseCharRef: invalid decimal value", self.i);
            }
            self.i += 1;
            let value = u32::from_str_radix(digits, if hex { 16 } else { 10 }).unwrap_or(0);
            return match char::from_u32(value) {
                Some(c) if is_xml_char(c) => Ok(c.to_string()),
                _ => self.err(
                    format!("xmlParseCharRef: invalid xmlChar value {value}"),
                    self.i,
                ),
            };
        }
        let Some(name) = self.name() else {
            return self.err("xmlParseEntityRef: no name", self.i);
        };
        if self.peek() != b';' {
            return self.err("EntityRef: expecting ';'", self.i);
        }
        self.i += 1;
        Ok(match name.as_str() {
            "lt" => "<",
            "gt" => ">",
            "amp" => "&",
            "apos" => "'",
            "quot" => "\"",
            _ => return self.err(format!("Entity '{name}' not defined"), self.i),
        }
        .to_string())
    }

    fn att_value(&mut self) -> PResult<String> {
        let q = self.peek();
        if q != b'"' && q != b'\'' {
            return self.err("AttValue: \" or ' expected", self.i);
        }
        self.i += 1;
        let mut out = String::new();
        loop {
            if self.at_end() {
                return self.err("AttValue: ' expected", self.i);
            }
            let c = self.peek();
            if c == q {
                self.i += 1;
                return Ok(out);
            }
            match c {
                b'<' => return self.err("Unescaped '<' not allowed in attributes values", self.i),
                b'&' => out.push_str(&self.reference()?),
                _ => {
                    let ch = self.src[self.i..].chars().next().unwrap_or('\0');
                    if !is_xml_char(ch) {
                        return self.err("invalid character in attribute value", self.i);
                    }
                    if ch == '\r' && self.src[self.i + 1..].starts_with('\n') {
                        self.i += 1;
                        continue;
                    }
                    out.push(if matches!(ch, '\t' | '\n' | '\r') {
                        ' '
                    } else {
                        ch
                    });
                    self.i += ch.len_utf8();
                }
            }
        }
    }

    fn element(&mut self) -> PResult<Element> {
        let open = self.i;
        self.i += 1;
        let Some(name) = self.name() else {
            return self.err("StartTag: invalid element name", self.i);
        };
        let line = self.line_of(open);
        let mut el = Element {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
            line,
        };
        self.skip_blanks();
        while !self.at_end() && self.peek() != b'>' && !self.starts("/>") {
            let Some(aname) = self.name() else {
                return self.err("error parsing attribute name", self.i);
            };
            self.skip_blanks();
            if self.peek() != b'=' {
                return self.err(
                    format!("Specification mandates value for attribute {aname}"),
                    self.i,
                );
            }
            self.i += 1;
            self.skip_blanks();
            let value = self.att_value()?;
            if el.attr(&aname).is_some() {
                return self.err(format!("Attribute {aname} redefined"), self.i);
            }
            el.attrs.push((aname, value));
            if self.peek() == b'>' || self.starts("/>") {
                break;
            }
            if self.skip_blanks() == 0 {
                return self.err("attributes construct error", self.i);
            }
        }
        if self.starts("/>") {
            self.i += 2;
            return Ok(el);
        }
        if self.peek() != b'>' || self.at_end() {
            return self.err(
                format!("Couldn't find end of Start Tag {} line {}", el.name, line),
                self.i,
            );
        }
        self.i += 1;
        self.content(&mut el)?;
        Ok(el)
    }

    fn push_text(el: &mut Element, text: &str) {
        if let Some(Node::Text(t)) = el.children.last_mut() {
            t.push_str(text);
        } else {
            el.children.push(Node::Text(text.to_string()));
        }
    }

    fn content(&mut self, el: &mut Element) -> PResult<()> {
        loop {
            if self.at_end() {
                return self.err(
                    format!("Premature end of data in tag {} line {}", el.name, el.line),
                    self.i,
                );
            }
            if self.starts("</") {
                self.i += 2;
                let name = self.name().unwrap_or_default();
                self.skip_blanks();
                if self.peek() != b'>' || self.at_end() {
                    return self.err("expected '>'", self.i);
                }
                self.i += 1;
                if name != el.name {
                    return self.err(
                        format!(
                            "Opening and ending tag mismatch: {} line {} and {}",
                            el.name, el.line, name
                        ),
                        self.i,
                    );
                }
                return Ok(());
            } else if self.starts("<!--") {
                let c = self.comment()?;
                el.children.push(Node::Comment(c));
            } else if self.starts("<![CDATA[") {
                self.i += 9;
                let start = self.i;
                match self.src[start..].find("]]>") {
                    Some(off) => {
                        self.i = start + off + 3;
                        el.children
                            .push(Node::CData(self.src[start..start + off].to_string()));
                    }
                    None => {
                        self.i = self.s.len();
                        return self.err("Unregistered error message", self.i);
                    }
                }
            } else if self.starts("<?") {
                let (t, d) = self.pi()?;
                el.children.push(Node::Pi(t, d));
            } else if self.peek() == b'<' {
                let child = self.element()?;
                el.children.push(Node::Element(child));
            } else if self.peek() == b'&' {
                let t = self.reference()?;
                Self::push_text(el, &t);
            } else {
                let start = self.i;
                let mut out = String::new();
                while !self.at_end() && self.peek() != b'<' && self.peek() != b'&' {
                    if self.starts("]]>") {
                        return self.err("Sequence ']]>' not allowed in content", start);
                    }
                    let ch = self.src[self.i..].chars().next().unwrap_or('\0');
                    if !is_xml_char(ch) {
                        return self
                            .err(format!("PCDATA invalid Char value {}", ch as u32), self.i);
                    }
                    self.i += ch.len_utf8();
                    if ch == '\r' && self.peek() == b'\n' {
                        continue;
                    }
                    out.push(if ch == '\r' { '\n' } else { ch });
                }
                Self::push_text(el, &out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> String {
        parse_raw(text)
            .unwrap_err()
            .render(text, "(domain_definition)")
    }

    #[test]
    fn libxml2_messages() {
        assert_eq!(
            render("<domain"),
            "(domain_definition):1: Couldn't find end of Start Tag domain line 1\n<domain\n-------^"
        );
        assert_eq!(
            render("<domain\n"),
            "(domain_definition):2: Couldn't find end of Start Tag domain line 1\n(null)\n^"
        );
        assert_eq!(
            render("<domain type=\"test\"><name>a</name></domin>"),
            "(domain_definition):1: Opening and ending tag mismatch: domain line 1 and domin\n<domain type=\"test\"><name>a</name></domin>\n------------------------------------------^"
        );
        assert_eq!(
            render(""),
            "(domain_definition):1: Document is empty\n(null)\n^"
        );
        assert_eq!(
            render("<a type=\"t\" type=\"x\"/>"),
            "(domain_definition):1: Attribute type redefined\n<a type=\"t\" type=\"x\"/>\n--------------------^"
        );
        assert_eq!(
            render("<a>\n\t<b>a</b>\t</c>\n</a>\n"),
            "(domain_definition):2: Opening and ending tag mismatch: a line 1 and c\n\t<b>a</b>\t</c>\n\t--------\t----^"
        );
        assert!(render("<a>&foo;</a>").contains("Entity 'foo' not defined"));
        assert!(render("<a/><b/>").contains("Extra content at the end of the document"));
        assert!(render("<a>x</a").contains("expected '>'"));
    }

    #[test]
    fn parses_entities_and_attrs() {
        let e = parse_raw("<a x='1&amp;&#65;' y=\"2\">t&lt;<b/><![CDATA[<>]]></a>").unwrap();
        assert_eq!(e.attr("x"), Some("1&A"));
        assert_eq!(e.attr("y"), Some("2"));
        assert_eq!(e.text(), "t<<>");
        assert_eq!(e.child("b").unwrap().name, "b");
    }

    #[test]
    fn dump_formats_like_libxml2() {
        let mut e = parse_raw("<a:x xmlns:a='u' q='&quot;'>  <a:y>t</a:y><a:z/> </a:x>").unwrap();
        strip_blanks(&mut e);
        let mut out = String::new();
        dump_node(&Node::Element(e), 0, &mut out);
        assert_eq!(
            out,
            "<a:x xmlns:a=\"u\" q=\"&quot;\">\n  <a:y>t</a:y>\n  <a:z/>\n</a:x>"
        );
    }

    #[test]
    fn writer_escapes() {
        let mut w = Writer::new();
        w.indent();
        w.text_elem("d", Some("a<'\"&>"));
        assert_eq!(w.finish(), "  <d>a&lt;&apos;&quot;&amp;&gt;</d>\n");
    }
}
