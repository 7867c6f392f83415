//! A small XML toolkit shaped after what libvirt gets from libxml2:
//!
//! * [`parse`]: a well-formedness checking parser into a tiny DOM, whose
//!   errors carry libxml2's wording, line and position, formatted the way
//!   libvirt's `catchXMLError` prints them (message, context line, caret);
//! * [`Writer`]: libvirt's `virBuffer` with two-space auto indentation and
//!   `virBufferEscapeString` escaping;
//! * [`dump_node`]: libxml2's `xmlNodeDump` with formatting, used for
//!   `<metadata>` content.

mod dtd;
mod markup;
mod read;
mod write;

pub(crate) use markup::is_blank;
pub use read::{MAX_DEPTH, MAX_NODES, MAX_SIZE};
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

    /// The attribute's value, owned (for a model's `Option<String>`).
    pub fn attr_string(&self, name: &str) -> Option<String> {
        self.attr(name).map(str::to_string)
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

    /// The `name` children of every `parent` child: XPath `./parent/name`.
    pub fn grandchildren<'a>(
        &'a self,
        parent: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> {
        self.children_named(parent)
            .flat_map(move |p| p.children_named(name))
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
    /// Offset in the document, or in `entity` when set.
    pub pos: usize,
    /// The replacement text of the entity being read when the error arose:
    /// libxml2's cursor is then in that text, which has no file name.
    pub entity: Option<String>,
}

impl SyntaxError {
    /// Render as libvirt's `catchXMLError` does:
    /// `URL:LINE: MESSAGE\nCONTEXT\n----^`, or `at line LINE: ...` when
    /// the cursor is in an entity's text (libxml2 then has no file name).
    pub fn render(&self, text: &str, url: &str) -> String {
        let text = self.entity.as_deref().unwrap_or(text);
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
        match self.entity {
            Some(_) => format!("at line {line}: {}\n{ctx}\n{pointer}", self.message),
            None => format!("{url}:{line}: {}\n{ctx}\n{pointer}", self.message),
        }
    }
}

/// Parse `text` into its root element. Errors are `VIR_ERR_XML_DETAIL`
/// in `domain`, with libvirt's rendering (`url` is e.g. `(domain_definition)`).
pub fn parse(text: &str, url: &str, domain: ErrorDomain) -> Result<Element> {
    parse_raw(text).map_err(|e| Error::raw(domain, ErrorCode::XML_DETAIL, e.render(text, url)))
}

/// Parse without converting the error.
pub fn parse_raw(text: &str) -> std::result::Result<Element, SyntaxError> {
    read::document(text)
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
