//! Node descriptions: the built-in `test:///default` host and the files a
//! `test:///ABSOLUTE/PATH.xml` URI names (libvirt's docs/drvtest.rst format:
//! `<node>` with `<cpu>`, `<memory>` and `<domain>` children, inline or
//! `file=` relative to the node file).

use rvirt::types::NodeInfo;
use rvirt_conf::xml::{self, Element};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The most a node file, or a file it names, may hold: 10 MiB, virsh's own
/// `VSH_MAX_XML_FILE` for the XML files it reads, and libxml2's
/// `XML_MAX_TEXT_LENGTH` without `XML_PARSE_HUGE` (which libvirt never sets).
/// A document over it cannot be one libvirt would accept, and reading it
/// whole would let a read-only client make the daemon hold gigabytes.
pub const MAX_NODE_FILE: u64 = 10 * 1024 * 1024;

/// The host that `test:///default` describes: libvirt's default figures.
pub const DEFAULT_NODE_XML: &str = concat!(
    r#"<node>
  <cpu>
    <mhz>1400</mhz>
    <model>i686</model>
    <nodes>2</nodes>
    <sockets>2</sockets>
    <cores>2</cores>
    <threads>2</threads>
  </cpu>
  <memory>3145728</memory>
"#,
    include_str!("defaults/domain-test.xml"),
    include_str!("defaults/network.xml"),
    include_str!("defaults/default-pool.xml"),
    "</node>\n"
);

/// What a node description yields: host figures, `<domain>` and `<pool>`
/// elements (a pool's `<volume>` children included), and the users of its
/// `<auth>` section.
pub struct NodeDescription {
    pub info: NodeInfo,
    pub domains: Vec<Element>,
    pub networks: Vec<Element>,
    pub pools: Vec<Element>,
    pub auth_users: Vec<AuthUser>,
}

/// A `<node><auth><user password='...'>NAME</user></auth>` entry: a node
/// file with any makes its connections authenticate (libvirt's
/// `testConnectAuthenticate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub username: String,
    /// Optional, as in libvirt: a user without one is asked for none.
    pub password: Option<String>,
}

/// The users of `<auth>` (libvirt's `testParseAuthUsers`: every
/// `/node/auth/user`, each with a non-empty name).
fn auth_users(auth: &Element) -> Result<Vec<AuthUser>> {
    auth.elements()
        .filter(|e| e.local_name() == "user")
        .map(|user| {
            let username = user.text();
            if username.is_empty() {
                return Err(Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::XML_ERROR,
                    "missing username in /node/auth/user field",
                ));
            }
            Ok(AuthUser {
                username,
                password: user.attr_string("password"),
            })
        })
        .collect()
}

fn default_info() -> NodeInfo {
    NodeInfo {
        model: "i686".into(),
        memory: 3_145_728,
        cpus: 16,
        mhz: 1400,
        nodes: 2,
        sockets: 2,
        cores: 2,
        threads: 2,
    }
}

fn bad_file(path: &str, detail: impl AsRef<str>) -> Error {
    Error::new(
        ErrorDomain::TEST,
        ErrorCode::XML_ERROR,
        format!("{} ({path})", detail.as_ref()),
    )
}

impl NodeDescription {
    /// Parse a node description. `base` resolves relative `file=` references.
    /// The document goes through conf's bounded reader (depth, size, node
    /// count), so a read-only client's node file is held to libxml2's limits
    /// and refused in its words, with `origin` as the document's name.
    pub fn parse(text: &str, origin: &str, base: Option<&Path>) -> Result<NodeDescription> {
        let root = xml::parse(text, origin, ErrorDomain::TEST)?;
        if root.local_name() != "node" {
            return Err(bad_file(origin, "Root element is not 'node'"));
        }
        let mut info = default_info();
        let mut domains = Vec::new();
        let mut networks = Vec::new();
        let mut pools = Vec::new();
        let mut users = Vec::new();
        for child in root.elements() {
            match child.local_name() {
                "cpu" => read_cpu(child, &mut info, origin)?,
                "memory" => info.memory = number(child, origin)?,
                "domain" => domains.push(domain_element(child, base)?),
                "network" => networks.push(referenced(child, base)?),
                "pool" => pools.push(pool_element(child, base)?),
                "auth" => users.extend(auth_users(child)?),
                _ => {}
            }
        }
        Ok(NodeDescription {
            info,
            domains,
            networks,
            pools,
            auth_users: users,
        })
    }

    pub fn load(path: &str) -> Result<NodeDescription> {
        let text = read_node_file(Path::new(path))?;
        let base = Path::new(path).parent().map(Path::to_path_buf);
        NodeDescription::parse(&text, path, base.as_deref())
    }
}

/// Read a node file, or a domain file it names, with the bounds above.
///
/// Only a regular file is read. libvirt hands the path to libxml2, which
/// reports a directory, `/dev/null` or `/dev/zero` as an empty document (and
/// blocks forever on a FIFO); we refuse them all with that same message
/// instead of reading, so `test:///dev/zero` costs nothing. The open uses
/// `O_NONBLOCK` so a FIFO cannot block it, and the type is checked on the
/// opened descriptor so the file cannot be swapped after the check.
pub fn read_node_file(path: &Path) -> Result<String> {
    let shown = path.display().to_string();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        // libxml2's failure to load the file, as libvirt reports it.
        .map_err(|_| {
            Error::new(
                ErrorDomain::TEST,
                ErrorCode::XML_ERROR,
                format!("failed to parse xml document '{shown}'"),
            )
        })?;
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    if !regular {
        return Err(Error::raw(
            ErrorDomain::TEST,
            ErrorCode::XML_DETAIL,
            format!("{shown}:1: Document is empty\n(null)\n^"),
        ));
    }
    let mut bytes = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it",
    // as virFileReadLimFD does; a file that grows while read stops here too.
    let read = file.take(MAX_NODE_FILE + 1).read_to_end(&mut bytes);
    let failed = |err: &std::io::Error| {
        Error::system(
            ErrorDomain::TEST,
            format!("Failed to read file '{shown}'"),
            err,
        )
    };
    read.map_err(|e| failed(&e))?;
    if bytes.len() as u64 > MAX_NODE_FILE {
        // virFileReadAll's answer for a file over its maxlen (EOVERFLOW).
        return Err(failed(&std::io::Error::from_raw_os_error(libc::EOVERFLOW)));
    }
    String::from_utf8(bytes).map_err(|_| bad_file(&shown, "invalid UTF-8 in document"))
}

fn read_cpu(cpu: &Element, info: &mut NodeInfo, origin: &str) -> Result<()> {
    let mut active = None;
    for field in cpu.elements() {
        match field.local_name() {
            "mhz" => info.mhz = number(field, origin)?,
            "model" => info.model = field.text().trim().chars().take(31).collect(),
            "nodes" => info.nodes = number(field, origin)?,
            "sockets" => info.sockets = number(field, origin)?,
            "cores" => info.cores = number(field, origin)?,
            "threads" => info.threads = number(field, origin)?,
            "active" => active = Some(number::<u32>(field, origin)?),
            _ => {}
        }
    }
    let total = info.nodes * info.sockets * info.cores * info.threads;
    info.cpus = active.map_or(total, |a| a.min(total));
    Ok(())
}

fn number<T: std::str::FromStr>(node: &Element, origin: &str) -> Result<T> {
    let text = node.text();
    let text = text.trim();
    text.parse().map_err(|_| {
        bad_file(
            origin,
            format!("invalid node {} '{text}'", node.local_name()),
        )
    })
}

/// One `<domain>`: inline, or the document its `file=` names (read with
/// the same bounds, parsed under its own name).
fn domain_element(node: &Element, base: Option<&Path>) -> Result<Element> {
    let mut dom = referenced(node, base)?;
    // A domain's <test:domainsnapshot file=...> is read the same way.
    let scope = dom.clone();
    for child in dom.children.iter_mut() {
        if let rvirt_conf::xml::Node::Element(e) = child {
            if is_test_snapshot(e, &scope) && e.attr("file").is_some() {
                // The document's root stands in, under the element's name
                // and namespace so it is still found as a snapshot.
                let mut root = referenced(e, base)?;
                root.name = e.name.clone();
                root.attrs.extend(
                    e.attrs
                        .iter()
                        .filter(|(k, _)| k.starts_with("xmlns"))
                        .cloned(),
                );
                *e = root;
            }
        }
    }
    Ok(dom)
}

/// One `<pool>` and its `<volume>`s, each inline or from its `file=`
/// (libvirt's testParseStorage and testOpenVolumesForPool).
fn pool_element(node: &Element, base: Option<&Path>) -> Result<Element> {
    let mut pool = referenced(node, base)?;
    for child in pool.children.iter_mut() {
        if let rvirt_conf::xml::Node::Element(e) = child {
            if e.name == "volume" && e.attr("file").is_some() {
                *e = referenced(e, base)?;
            }
        }
    }
    Ok(pool)
}

/// The test driver's XML namespace (`xmlns:test=`).
pub const TEST_NS: &str = "http://libvirt.org/schemas/domain/test/1.0";

/// `<test:domainsnapshot>` in the test namespace, as libvirt's XPath
/// `./test:domainsnapshot` selects it.
pub fn is_test_snapshot(e: &Element, domain: &Element) -> bool {
    e.name.contains(':')
        && e.local_name() == "domainsnapshot"
        && e.namespace(&[domain]) == Some(TEST_NS)
}

/// An element, or the root of the document its `file=` names (relative
/// to the node file's directory).
fn referenced(node: &Element, base: Option<&Path>) -> Result<Element> {
    let Some(file) = node.attr("file") else {
        return Ok(node.clone());
    };
    let path: PathBuf = match base {
        Some(dir) if !Path::new(file).is_absolute() => dir.join(file),
        _ => PathBuf::from(file),
    };
    let text = read_node_file(&path)?;
    xml::parse(&text, &path.display().to_string(), ErrorDomain::TEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_node_has_libvirt_figures() {
        let node = NodeDescription::parse(DEFAULT_NODE_XML, "default", None).unwrap();
        assert_eq!(node.info, default_info());
        assert_eq!(node.domains.len(), 1);
        assert_eq!(node.domains[0].child_text("name").as_deref(), Some("test"));
    }

    #[test]
    fn deep_node_files_are_refused_in_libxml2s_words() {
        // Deep enough to overflow a recursive reader's stack.
        let xml = format!(
            "<node>{}{}</node>",
            "<a>".repeat(50_000),
            "</a>".repeat(50_000)
        );
        let err = NodeDescription::parse(&xml, "/n.xml", None)
            .err()
            .expect("refused");
        assert!(
            err.message
                .starts_with("/n.xml:1: Excessive depth in document: 256"),
            "{}",
            err.message
        );
    }

    #[test]
    fn cpu_overrides_and_active() {
        let xml = "<node><cpu><mhz>6000</mhz><model>i986</model><nodes>4</nodes>\
                   <sockets>4</sockets><cores>4</cores><threads>2</threads><active>50</active></cpu>\
                   <memory>8192000</memory></node>";
        let node = NodeDescription::parse(xml, "x", None).unwrap();
        assert_eq!(node.info.mhz, 6000);
        assert_eq!(node.info.model, "i986");
        assert_eq!(node.info.cpus, 50);
        assert_eq!(node.info.memory, 8192000);
    }

    #[test]
    fn bad_files_are_errors() {
        assert!(NodeDescription::parse("<nodes/>", "x", None).is_err());
        assert!(NodeDescription::parse("<node><cpu><mhz>x</mhz></cpu></node>", "x", None).is_err());
        assert!(NodeDescription::parse("<node", "x", None).is_err());
        assert!(NodeDescription::load("/nonexistent/node.xml").is_err());
    }

    fn scratch(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("rvirt-node-{}-{tag}", std::process::id()))
    }

    /// `test:///dev/zero` used to be read whole (gigabytes); now any
    /// non-regular file is refused unread, with libxml2's wording as libvirt
    /// reports it (`virsh -c test:///dev/zero list`).
    #[test]
    fn non_regular_files_are_refused_unread() {
        for path in ["/dev/zero", "/dev/null", "/tmp"] {
            let err = NodeDescription::load(path).err().expect(path);
            assert_eq!(err.code, ErrorCode::XML_DETAIL, "{path}");
            assert_eq!(err.domain, ErrorDomain::TEST, "{path}");
            assert_eq!(
                err.message,
                format!("{path}:1: Document is empty\n(null)\n^")
            );
        }
    }

    /// A FIFO would block libxml2 (and a plain open) forever.
    #[test]
    fn fifo_is_refused_without_blocking() {
        let path = scratch("fifo");
        let _ = std::fs::remove_file(&path);
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: c is a valid NUL-terminated path for the call's duration.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_node_file(&path).expect_err("fifo refused");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(err.code, ErrorCode::XML_DETAIL);
    }

    #[test]
    fn files_over_the_limit_are_refused() {
        let path = scratch("big.xml");
        let file = std::fs::File::create(&path).unwrap();
        // Sparse: MAX_NODE_FILE + 1 bytes without writing them.
        file.set_len(MAX_NODE_FILE + 1).unwrap();
        let err = NodeDescription::load(path.to_str().unwrap())
            .err()
            .expect("too big");
        file.set_len(MAX_NODE_FILE).unwrap();
        let at_limit = read_node_file(&path).map(|t| t.len());
        std::fs::remove_file(&path).unwrap();
        assert_eq!(err.code, ErrorCode::SYSTEM_ERROR);
        assert_eq!(
            err.message,
            format!(
                "Failed to read file '{}': Value too large for defined data type",
                path.display()
            )
        );
        assert_eq!(at_limit.unwrap(), MAX_NODE_FILE as usize);
    }

    /// A `<domain file=...>` reference goes through the same reader.
    #[test]
    fn referenced_domain_files_are_bounded_too() {
        let xml = "<node><domain file='/dev/zero'/></node>";
        let err = NodeDescription::parse(xml, "x", None)
            .err()
            .expect("refused");
        assert_eq!(err.code, ErrorCode::XML_DETAIL);
        assert!(err.message.starts_with("/dev/zero:1: Document is empty"));
    }
}
