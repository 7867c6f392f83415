//! `--xpath` and `--wrap` of virsh's XML dumps (virshDumpXML): the XPath
//! subset a node-set query uses (location paths with `/`, `//`, `.`, `..`,
//! `*`, `@name`, `@*`, `text()`, `node()`, `|`, and predicates `[N]`,
//! `[last()]`, `[@a]`, `[@a='v']`, `[child]`, `[child='v']`,
//! `[text()='v']`), evaluated against the document read without blank
//! text, each hit printed as libxml2's `xmlNodeDump` prints it.

use rvirt_conf::xml::{self, dump_node, Element, Node};
use std::collections::HashMap;

/// One node a query selects.
#[derive(Clone, Copy)]
enum Hit<'a> {
    Elem(&'a Element),
    Text(&'a str),
    Attr(&'a str, &'a str),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Axis {
    Child,
    Descendant,
    Attribute,
    /// `//@name`: the attributes of the context and all its descendants.
    DescendantAttribute,
    SelfNode,
    Parent,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Test {
    Name(String),
    Any,
    Text,
    Node,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Pred {
    Position(usize),
    Last,
    HasAttr(String),
    AttrIs(String, String),
    HasChild(String),
    ChildIs(String, String),
    TextIs(String),
}

#[derive(Clone, Debug)]
struct Step {
    axis: Axis,
    test: Test,
    preds: Vec<Pred>,
}

#[derive(Clone, Debug)]
struct Path {
    absolute: bool,
    steps: Vec<Step>,
}

/// What a query cannot be: a non-node-set result (libvirt's "Incorrect
/// xpath") or an expression libxml2 refuses.
#[derive(Debug, PartialEq, Eq)]
pub enum XPathError {
    NotNodeSet,
    Invalid,
}

fn parse(expr: &str) -> Result<Vec<Path>, XPathError> {
    let e = expr.trim();
    if e.is_empty() {
        return Err(XPathError::Invalid);
    }
    // A function call or a literal yields a string, number or boolean.
    let head: String = e
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-')
        .collect();
    let rest = e[head.len()..].trim_start();
    if (!head.is_empty() && rest.starts_with('(') && !matches!(head.as_str(), "text" | "node"))
        || e.starts_with(['\'', '"'])
        || e.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(XPathError::NotNodeSet);
    }
    e.split('|').map(|p| parse_path(p.trim())).collect()
}

fn parse_path(p: &str) -> Result<Path, XPathError> {
    if p.is_empty() {
        return Err(XPathError::Invalid);
    }
    let absolute = p.starts_with('/');
    let mut steps = Vec::new();
    let mut rest = p;
    let mut descend = false;
    if let Some(r) = rest.strip_prefix("//") {
        descend = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('/') {
        rest = r;
        if rest.is_empty() {
            return Ok(Path { absolute, steps });
        }
    }
    loop {
        let (step_text, tail, next_descend) = split_step(rest)?;
        steps.push(parse_step(step_text, descend)?);
        match tail {
            None => break,
            Some(t) => {
                rest = t;
                descend = next_descend;
            }
        }
    }
    Ok(Path { absolute, steps })
}

/// The first step of `p` (up to a `/` outside brackets and quotes), what
/// follows it, and whether that is `//`.
fn split_step(p: &str) -> Result<(&str, Option<&str>, bool), XPathError> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in p.char_indices() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('[', None) => depth += 1,
            (']', None) => depth = depth.checked_sub(1).ok_or(XPathError::Invalid)?,
            ('/', None) if depth == 0 => {
                let tail = &p[i + 1..];
                return match tail.strip_prefix('/') {
                    Some(t) if !t.is_empty() => Ok((&p[..i], Some(t), true)),
                    None if !tail.is_empty() => Ok((&p[..i], Some(tail), false)),
                    _ => Err(XPathError::Invalid),
                };
            }
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return Err(XPathError::Invalid);
    }
    Ok((p, None, false))
}

fn parse_step(s: &str, descend: bool) -> Result<Step, XPathError> {
    let (head, preds_text) = match s.find('[') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let head = head.trim();
    let (axis, name) = match head {
        "." => (Axis::SelfNode, "node()"),
        ".." => (Axis::Parent, "node()"),
        h if h.starts_with('@') => (Axis::Attribute, &h[1..]),
        h => (Axis::Child, h),
    };
    let test = match name {
        "*" => Test::Any,
        "text()" => Test::Text,
        "node()" => Test::Node,
        n if !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || "-_.:".contains(c)) => {
            Test::Name(n.to_string())
        }
        _ => return Err(XPathError::Invalid),
    };
    let axis = match (descend, axis) {
        (true, Axis::Child) => Axis::Descendant,
        (true, Axis::Attribute) => Axis::DescendantAttribute,
        (true, _) => return Err(XPathError::Invalid),
        (false, a) => a,
    };
    let mut preds = Vec::new();
    let mut rest = preds_text;
    while !rest.is_empty() {
        let inner_end = rest.find(']').ok_or(XPathError::Invalid)?;
        if !rest.starts_with('[') {
            return Err(XPathError::Invalid);
        }
        preds.push(parse_pred(rest[1..inner_end].trim())?);
        rest = &rest[inner_end + 1..];
    }
    Ok(Step { axis, test, preds })
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    let q = s.chars().next()?;
    (matches!(q, '\'' | '"') && s.len() >= 2 && s.ends_with(q))
        .then(|| s[1..s.len() - 1].to_string())
}

fn parse_pred(p: &str) -> Result<Pred, XPathError> {
    if let Ok(n) = p.parse::<usize>() {
        return Ok(Pred::Position(n));
    }
    if p == "last()" {
        return Ok(Pred::Last);
    }
    if let Some((lhs, rhs)) = p.split_once('=') {
        let value = unquote(rhs).ok_or(XPathError::Invalid)?;
        let lhs = lhs.trim();
        return Ok(match lhs.strip_prefix('@') {
            Some(a) => Pred::AttrIs(a.to_string(), value),
            None if lhs == "text()" => Pred::TextIs(value),
            None => Pred::ChildIs(lhs.to_string(), value),
        });
    }
    Ok(match p.strip_prefix('@') {
        Some(a) => Pred::HasAttr(a.to_string()),
        None if !p.is_empty() => Pred::HasChild(p.to_string()),
        None => return Err(XPathError::Invalid),
    })
}

/// The document: each element's parent and pre-order position.
struct Doc<'a> {
    root: &'a Element,
    parent: HashMap<*const Element, &'a Element>,
    order: HashMap<*const Element, usize>,
}

impl<'a> Doc<'a> {
    fn new(root: &'a Element) -> Doc<'a> {
        let mut d = Doc {
            root,
            parent: HashMap::new(),
            order: HashMap::new(),
        };
        let mut stack = vec![root];
        while let Some(e) = stack.pop() {
            let n = d.order.len();
            d.order.insert(e as *const _, n);
            for c in e.elements().collect::<Vec<_>>().into_iter().rev() {
                d.parent.insert(c as *const _, e);
                stack.push(c);
            }
        }
        d
    }

    fn key(&self, h: &Hit<'a>, owner: &'a Element) -> (usize, usize) {
        let base = self.order.get(&(owner as *const _)).copied().unwrap_or(0);
        match h {
            Hit::Elem(e) => (self.order.get(&(*e as *const _)).copied().unwrap_or(0), 0),
            _ => (base, 1),
        }
    }
}

fn matches_pred(e: &Element, p: &Pred) -> bool {
    match p {
        Pred::HasAttr(a) => a == "*" && !e.attrs.is_empty() || e.attr(a).is_some(),
        Pred::AttrIs(a, v) => e.attr(a) == Some(v.as_str()),
        Pred::HasChild(c) => e.child(c).is_some(),
        Pred::ChildIs(c, v) => e.children_named(c).any(|k| k.text() == *v),
        Pred::TextIs(v) => e
            .children
            .iter()
            .any(|n| matches!(n, Node::Text(t) if t == v)),
        Pred::Position(_) | Pred::Last => true,
    }
}

type Hits<'a> = Vec<(Hit<'a>, &'a Element)>;

/// One step from one context element: its hits, each with the element
/// that owns it (for document order of texts and attributes). Predicates
/// apply among the hits that share a parent, as XPath's positions count.
fn step_from<'a>(doc: &Doc<'a>, ctx: &'a Element, s: &Step) -> Hits<'a> {
    let name_ok = |e: &Element| match &s.test {
        Test::Name(n) => e.name == *n,
        Test::Any | Test::Node => true,
        Test::Text => false,
    };
    let children_of = |e: &'a Element| -> Hits<'a> {
        let mut out = Vec::new();
        for n in &e.children {
            match n {
                Node::Element(c) if name_ok(c) => out.push((Hit::Elem(c), e)),
                Node::Text(t) | Node::CData(t) if matches!(s.test, Test::Text | Test::Node) => {
                    out.push((Hit::Text(t), e))
                }
                _ => {}
            }
        }
        out
    };
    let attrs_of = |owner: &'a Element| -> Hits<'a> {
        owner
            .attrs
            .iter()
            .filter(|(k, _)| match &s.test {
                Test::Any | Test::Node => !k.starts_with("xmlns"),
                Test::Name(n) => k == n,
                Test::Text => false,
            })
            .map(|(k, v)| (Hit::Attr(k, v), owner))
            .collect()
    };
    let subtree = |top: &'a Element| -> Vec<&'a Element> {
        let mut all = Vec::new();
        let mut stack = vec![top];
        while let Some(e) = stack.pop() {
            all.push(e);
            stack.extend(e.elements().collect::<Vec<_>>().into_iter().rev());
        }
        all
    };
    let groups: Vec<Hits<'a>> = match s.axis {
        Axis::Child => vec![children_of(ctx)],
        Axis::Descendant => subtree(ctx).into_iter().map(children_of).collect(),
        Axis::Attribute => vec![attrs_of(ctx)],
        Axis::DescendantAttribute => subtree(ctx).into_iter().map(attrs_of).collect(),
        Axis::SelfNode => vec![vec![(Hit::Elem(ctx), ctx)]],
        Axis::Parent => vec![doc
            .parent
            .get(&(ctx as *const _))
            .map(|p| (Hit::Elem(p), *p))
            .into_iter()
            .collect()],
    };
    groups
        .into_iter()
        .flat_map(|g| apply_preds(g, &s.preds))
        .collect()
}

fn apply_preds<'a>(mut hits: Hits<'a>, preds: &[Pred]) -> Hits<'a> {
    for p in preds {
        let len = hits.len();
        hits = match p {
            Pred::Position(n) => hits
                .into_iter()
                .skip(n.saturating_sub(1))
                .take(usize::from(*n > 0))
                .collect(),
            Pred::Last => hits.into_iter().skip(len.saturating_sub(1)).collect(),
            p => hits
                .into_iter()
                .filter(|(h, _)| matches!(h, Hit::Elem(e) if matches_pred(e, p)))
                .collect(),
        };
    }
    hits
}

fn eval<'a>(doc: &Doc<'a>, paths: &[Path]) -> Vec<Hit<'a>> {
    let mut all: Vec<(Hit<'a>, &'a Element)> = Vec::new();
    for path in paths {
        // The context is the root element; an absolute path starts above
        // it, at the document node.
        let mut hits: Vec<(Hit<'a>, &'a Element)> = Vec::new();
        let mut first = true;
        for s in &path.steps {
            let contexts: Vec<&'a Element> = if first {
                first = false;
                if path.absolute {
                    // The document node's only child is the root element.
                    hits = match s.axis {
                        Axis::Child => {
                            let ok = match &s.test {
                                Test::Name(n) => doc.root.name == *n,
                                Test::Any | Test::Node => true,
                                Test::Text => false,
                            };
                            let root = if ok {
                                vec![(Hit::Elem(doc.root), doc.root)]
                            } else {
                                Vec::new()
                            };
                            apply_preds(root, &s.preds)
                        }
                        Axis::Descendant => {
                            let self_step = Step {
                                axis: Axis::SelfNode,
                                ..s.clone()
                            };
                            let mut v = Vec::new();
                            let root_named = match &s.test {
                                Test::Name(n) => doc.root.name == *n,
                                Test::Any | Test::Node => true,
                                Test::Text => false,
                            };
                            if root_named {
                                v.extend(step_from(doc, doc.root, &self_step));
                            }
                            v.extend(step_from(doc, doc.root, s));
                            v
                        }
                        Axis::DescendantAttribute => step_from(doc, doc.root, s),
                        _ => Vec::new(),
                    };
                    continue;
                }
                vec![doc.root]
            } else {
                hits.iter()
                    .filter_map(|(h, _)| match h {
                        Hit::Elem(e) => Some(*e),
                        _ => None,
                    })
                    .collect()
            };
            let mut next = Vec::new();
            for c in contexts {
                next.extend(step_from(doc, c, s));
            }
            hits = next;
        }
        if path.steps.is_empty() && path.absolute {
            hits.push((Hit::Elem(doc.root), doc.root));
        }
        all.extend(hits);
    }
    all.sort_by_key(|(h, owner)| doc.key(h, owner));
    let mut seen = std::collections::HashSet::new();
    all.retain(|(h, owner)| {
        let id = match h {
            Hit::Elem(e) => (*e as *const Element as usize, 0usize),
            Hit::Text(t) => (t.as_ptr() as usize, 1),
            Hit::Attr(k, _) => (
                k.as_ptr() as usize,
                2 + (*owner as *const Element as usize % 2),
            ),
        };
        seen.insert(id)
    });
    all.into_iter().map(|(h, _)| h).collect()
}

fn dump(h: &Hit) -> String {
    let mut s = String::new();
    match h {
        Hit::Elem(e) => dump_node(&Node::Element((*e).clone()), 0, &mut s),
        Hit::Text(t) => dump_node(&Node::Text(t.to_string()), 0, &mut s),
        Hit::Attr(k, v) => {
            let holder = Element {
                name: "x".into(),
                attrs: vec![(k.to_string(), v.to_string())],
                ..Element::default()
            };
            dump_node(&Node::Element(holder), 0, &mut s);
            s = s["<x".len()..s.len() - "/>".len()].to_string();
        }
    }
    s
}

/// virshDumpXML with an XPath: each hit on its own line, or all of them
/// inside `<nodes>` with `wrap`.
pub fn dump_xpath(doc_text: &str, url: &str, expr: &str, wrap: bool) -> Result<String, XPathError> {
    let paths = parse(expr)?;
    let Ok(mut root) = xml::parse_raw(doc_text) else {
        let _ = url;
        return Err(XPathError::Invalid);
    };
    xml::strip_blanks(&mut root);
    let doc = Doc::new(&root);
    if !wrap && paths.iter().all(|p| p.absolute && p.steps.is_empty()) {
        // `/` is the document node, dumped with its declaration.
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        dump_node(&Node::Element(root.clone()), 0, &mut s);
        return Ok(format!("{s}\n\n"));
    }
    let hits = eval(&doc, &paths);
    if !wrap {
        return Ok(hits.iter().map(|h| format!("{}\n", dump(h))).collect());
    }
    let mut nodes = Element {
        name: "nodes".into(),
        ..Element::default()
    };
    for h in &hits {
        match h {
            Hit::Elem(e) => nodes.children.push(Node::Element((*e).clone())),
            Hit::Text(t) => nodes.children.push(Node::Text(t.to_string())),
            // xmlAddChild drops an attribute of the same name first.
            Hit::Attr(k, v) => {
                nodes.attrs.retain(|(n, _)| n != k);
                nodes.attrs.push((k.to_string(), v.to_string()));
            }
        }
    }
    let mut s = String::new();
    dump_node(&Node::Element(nodes), 0, &mut s);
    Ok(format!("{s}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "<domainsnapshot>\n  <name>s1</name>\n  <disks>\n    \
                       <disk name='vda' snapshot='internal'/>\n    <disk name='vdb'/>\n  </disks>\n  \
                       <domain type='test'>\n    <devices>\n      <disk type='file'>\n        \
                       <target dev='vda'/>\n      </disk>\n    </devices>\n  </domain>\n\
                       </domainsnapshot>\n";

    fn q(expr: &str, wrap: bool) -> String {
        dump_xpath(DOC, "(x)", expr, wrap).unwrap_or_else(|e| panic!("{expr}: {e:?}"))
    }

    #[test]
    fn selects_as_libxml2() {
        assert_eq!(q("/domainsnapshot/name/text()", false), "s1\n");
        assert_eq!(q("//@name", false), " name=\"vda\"\n name=\"vdb\"\n");
        assert_eq!(
            q("//disk[@name='vda']", false),
            "<disk name=\"vda\" snapshot=\"internal\"/>\n"
        );
        assert_eq!(q("//disk", false).lines().count(), 5);
        assert_eq!(q("//nosuch", false), "");
        assert_eq!(q("//nosuch", true), "<nodes/>\n");
        assert_eq!(q("disks/disk[2]", false), "<disk name=\"vdb\"/>\n");
        assert_eq!(q("//disk[last()]/@name", false), " name=\"vdb\"\n");
        assert_eq!(
            q("name | disks/disk[1]", true),
            "<nodes>\n  <name>s1</name>\n  <disk name=\"vda\" snapshot=\"internal\"/>\n</nodes>\n"
        );
        assert_eq!(
            dump_xpath(DOC, "(x)", "string(//name)", false),
            Err(XPathError::NotNodeSet)
        );
        assert_eq!(
            dump_xpath(DOC, "(x)", "((", false),
            Err(XPathError::Invalid)
        );
    }
}
