//! Output side: libvirt's buffer with indentation, escaping, and
//! libxml2-style node dumping.

use super::{is_blank, Element, Node};

/// `virBufferEscapeString`'s escaping, used for attribute values and text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// libvirt's `virBuffer` as formatters use it: lines indented by the current
/// level (two spaces per step).
#[derive(Default, Debug)]
pub struct Writer {
    buf: String,
    indent: usize,
    /// The runtime alias of the device being written, until its device
    /// info takes it (`<alias>` goes just before `<address>`).
    device_alias: Option<String>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn indent(&mut self) {
        self.indent += 2;
    }

    pub fn dedent(&mut self) {
        self.indent = self.indent.saturating_sub(2);
    }

    /// One line at the current indentation (a newline is appended).
    pub fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.buf.push(' ');
        }
        self.buf.push_str(s);
        self.buf.push('\n');
    }

    /// Raw text, no indentation.
    pub fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    /// `<name>escaped text</name>` when `value` is set.
    pub fn text_elem(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.line(&format!("<{name}>{}</{name}>", escape(v)));
        }
    }

    /// `<name attrs/>` when there are attributes, else nothing
    /// (`virXMLFormatElement` of an element without children).
    pub fn attrs_elem(&mut self, name: &str, attrs: &str) {
        if !attrs.is_empty() {
            self.line(&format!("<{name}{attrs}/>"));
        }
    }

    /// Start `<name attrs` and close it either as `/>` (no children) or
    /// with `>` + indentation; returns a child writer.
    pub fn elem_with(&mut self, name: &str, attrs: &str, body: impl FnOnce(&mut Writer)) {
        let mut child = Writer {
            buf: String::new(),
            indent: self.indent + 2,
            device_alias: self.device_alias.take(),
        };
        body(&mut child);
        self.device_alias = child.device_alias.take();
        if child.buf.is_empty() {
            self.line(&format!("<{name}{attrs}/>"));
        } else {
            self.line(&format!("<{name}{attrs}>"));
            self.buf.push_str(&child.buf);
            self.line(&format!("</{name}>"));
        }
    }

    /// `<NAME ATTRS>`, `body` one level in, `</NAME>`: the elements libvirt
    /// always closes, even when nothing is inside.
    pub fn block(&mut self, name: &str, attrs: &str, body: impl FnOnce(&mut Writer)) {
        self.line(&format!("<{name}{attrs}>"));
        self.indent();
        body(self);
        self.dedent();
        self.line(&format!("</{name}>"));
    }

    /// Set (or clear) the runtime alias of the device about to be written.
    pub fn set_device_alias(&mut self, alias: Option<String>) {
        self.device_alias = alias;
    }

    /// The pending device alias, once.
    pub fn take_device_alias(&mut self) -> Option<String> {
        self.device_alias.take()
    }

    pub fn current_indent(&self) -> usize {
        self.indent
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

/// Builder for an attribute list: ` a='v' b='w'` with libvirt escaping.
#[derive(Default, Debug)]
pub struct Attrs(pub String);

impl Attrs {
    pub fn new() -> Attrs {
        Attrs::default()
    }

    pub fn add(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Attrs {
        self.0
            .push_str(&format!(" {name}='{}'", escape(&value.to_string())));
        self
    }

    pub fn opt(&mut self, name: &str, value: Option<impl std::fmt::Display>) -> &mut Attrs {
        if let Some(v) = value {
            self.add(name, v);
        }
        self
    }

    /// An attribute written as is, where libvirt formats a value with
    /// `%s` rather than escaping it.
    pub fn raw(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Attrs {
        self.0.push_str(&format!(" {name}='{value}'"));
        self
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// libxml2's escaping when it dumps a node: `<`, `>`, `&` and `\r` in
/// text, and in attribute values also `"`, newline and tab.
fn escape_dump(s: &str, in_attr: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            '"' if in_attr => out.push_str("&quot;"),
            '\n' if in_attr => out.push_str("&#10;"),
            '\t' if in_attr => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Remove whitespace-only text nodes (libxml2's "no blanks" parsing) from
/// elements that have element children.
pub fn strip_blanks(el: &mut Element) {
    let is_blank_text = |n: &Node| matches!(n, Node::Text(t) if t.bytes().all(is_blank));
    let is_text = |n: &Node| matches!(n, Node::Text(_) | Node::CData(_));
    let old = std::mem::take(&mut el.children);
    let count = old.len();
    for (i, n) in old.into_iter().enumerate() {
        if is_blank_text(&n) {
            let only = el.children.is_empty() && i + 1 == count;
            let after_text = el.children.last().is_some_and(is_text);
            let first_text = el.children.first().is_some_and(is_text);
            if !only && !after_text && !first_text {
                continue;
            }
        }
        el.children.push(n);
    }
    for c in el.children.iter_mut() {
        if let Node::Element(e) = c {
            strip_blanks(e);
        }
    }
}

/// libxml2's `xmlNodeDump(..., level, format=1)`: the node with its
/// children, nested elements on their own lines when the element holds no
/// text, indented two spaces per level. No trailing newline.
pub fn dump_node(node: &Node, level: usize, out: &mut String) {
    match node {
        Node::Text(t) => out.push_str(&escape_dump(t, false)),
        Node::CData(t) => {
            out.push_str("<![CDATA[");
            out.push_str(t);
            out.push_str("]]>");
        }
        Node::Comment(c) => {
            out.push_str("<!--");
            out.push_str(c);
            out.push_str("-->");
        }
        Node::Pi(t, d) => {
            out.push_str("<?");
            out.push_str(t);
            if !d.is_empty() {
                out.push(' ');
                out.push_str(d);
            }
            out.push_str("?>");
        }
        Node::Element(e) => {
            out.push('<');
            out.push_str(&e.name);
            let ns = e
                .attrs
                .iter()
                .filter(|(k, _)| k == "xmlns" || k.starts_with("xmlns:"));
            let plain = e
                .attrs
                .iter()
                .filter(|(k, _)| k != "xmlns" && !k.starts_with("xmlns:"));
            for (k, v) in ns.chain(plain) {
                out.push_str(&format!(" {k}=\"{}\"", escape_dump(v, true)));
            }
            if e.children.is_empty() {
                out.push_str("/>");
                return;
            }
            out.push('>');
            let format = e
                .children
                .iter()
                .all(|n| !matches!(n, Node::Text(_) | Node::CData(_)));
            for c in &e.children {
                if format {
                    out.push('\n');
                    out.push_str(&"  ".repeat(level + 1));
                }
                dump_node(c, level + 1, out);
            }
            if format {
                out.push('\n');
                out.push_str(&"  ".repeat(level));
            }
            out.push_str("</");
            out.push_str(&e.name);
            out.push('>');
        }
    }
}
