//! Node descriptions: the built-in `test:///default` host and the files a
//! `test:///ABSOLUTE/PATH.xml` URI names (libvirt's docs/drvtest.rst format:
//! `<node>` with `<cpu>`, `<memory>` and `<domain>` children, inline or
//! `file=` relative to the node file).

use rvirt::types::NodeInfo;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::path::{Path, PathBuf};

/// The host that `test:///default` describes: libvirt's default figures.
pub const DEFAULT_NODE_XML: &str = r#"<node>
  <cpu>
    <mhz>1400</mhz>
    <model>i686</model>
    <nodes>2</nodes>
    <sockets>2</sockets>
    <cores>2</cores>
    <threads>2</threads>
  </cpu>
  <memory>3145728</memory>
  <domain type='test'>
    <name>test</name>
    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
    <memory>8388608</memory>
    <currentMemory>2097152</currentMemory>
    <vcpu>2</vcpu>
    <os>
      <type>hvm</type>
    </os>
    <clock offset='utc'/>
    <on_poweroff>destroy</on_poweroff>
    <on_reboot>restart</on_reboot>
    <on_crash>destroy</on_crash>
    <devices>
      <disk type='file' device='disk'>
        <source file='/guest/diskimage1'/>
        <target dev='vda' bus='virtio'/>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
      </disk>
      <interface type='network'>
        <mac address='aa:bb:cc:dd:ee:ff'/>
        <source network='default'/>
        <target dev='testnet0'/>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
      </interface>
      <memballoon model='virtio'>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
      </memballoon>
    </devices>
  </domain>
</node>
"#;

/// What a node description yields: host figures and domain XML documents.
pub struct NodeDescription {
    pub info: NodeInfo,
    pub domains: Vec<String>,
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
    pub fn parse(text: &str, origin: &str, base: Option<&Path>) -> Result<NodeDescription> {
        let doc = roxmltree::Document::parse(text).map_err(|e| bad_file(origin, e.to_string()))?;
        let root = doc.root_element();
        if root.tag_name().name() != "node" {
            return Err(bad_file(origin, "Root element is not 'node'"));
        }
        let mut info = default_info();
        let mut domains = Vec::new();
        for child in root.children().filter(|n| n.is_element()) {
            match child.tag_name().name() {
                "cpu" => read_cpu(&child, &mut info, origin)?,
                "memory" => info.memory = number(&child, origin)?,
                "domain" => domains.push(domain_text(text, &child, base, origin)?),
                _ => {}
            }
        }
        Ok(NodeDescription { info, domains })
    }

    pub fn load(path: &str) -> Result<NodeDescription> {
        // libvirt hands the path to libxml2, whose failure reads this way.
        let text = std::fs::read_to_string(path).map_err(|_| {
            Error::new(
                ErrorDomain::TEST,
                ErrorCode::XML_ERROR,
                format!("failed to parse xml document '{path}'"),
            )
        })?;
        let base = Path::new(path).parent().map(Path::to_path_buf);
        NodeDescription::parse(&text, path, base.as_deref())
    }
}

fn read_cpu(cpu: &roxmltree::Node, info: &mut NodeInfo, origin: &str) -> Result<()> {
    let mut active = None;
    for field in cpu.children().filter(|n| n.is_element()) {
        match field.tag_name().name() {
            "mhz" => info.mhz = number(&field, origin)?,
            "model" => info.model = field.text().unwrap_or("").trim().chars().take(31).collect(),
            "nodes" => info.nodes = number(&field, origin)?,
            "sockets" => info.sockets = number(&field, origin)?,
            "cores" => info.cores = number(&field, origin)?,
            "threads" => info.threads = number(&field, origin)?,
            "active" => active = Some(number::<u32>(&field, origin)?),
            _ => {}
        }
    }
    let total = info.nodes * info.sockets * info.cores * info.threads;
    info.cpus = active.map_or(total, |a| a.min(total));
    Ok(())
}

fn number<T: std::str::FromStr>(node: &roxmltree::Node, origin: &str) -> Result<T> {
    let text = node.text().unwrap_or("").trim();
    text.parse().map_err(|_| {
        bad_file(
            origin,
            format!("invalid node {} '{text}'", node.tag_name().name()),
        )
    })
}

/// The XML text of one `<domain>`: inline, or read from its `file=`.
fn domain_text(
    text: &str,
    node: &roxmltree::Node,
    base: Option<&Path>,
    origin: &str,
) -> Result<String> {
    match node.attribute("file") {
        Some(file) => {
            let path: PathBuf = match base {
                Some(dir) if !Path::new(file).is_absolute() => dir.join(file),
                _ => PathBuf::from(file),
            };
            std::fs::read_to_string(&path).map_err(|e| {
                Error::system(
                    ErrorDomain::TEST,
                    format!("Failed to open file '{}'", path.display()),
                    &e,
                )
            })
        }
        None => {
            let range = node.range();
            text.get(range)
                .map(str::to_string)
                .ok_or_else(|| bad_file(origin, "domain element out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_node_has_libvirt_figures() {
        let node = NodeDescription::parse(DEFAULT_NODE_XML, "default", None).unwrap();
        assert_eq!(node.info, default_info());
        assert_eq!(node.domains.len(), 1);
        assert!(node.domains[0].starts_with("<domain type='test'>"));
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
}
