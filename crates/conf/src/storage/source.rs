//! A pool's `<source>` (`virStoragePoolSource`): hosts, devices, directory,
//! SCSI/FC adapter, name, initiator, format, auth, protocol, vendor and
//! product, as `virStoragePoolDefParseSource` reads them and
//! `virStoragePoolSourceFormat` writes them.

use super::{flag, path_attr, path_text, sanitize_path, unsupported, xml_error, PoolType};
use crate::domain::props::{self, TriBool};
use crate::xml::{escape, Attrs, Element, Writer};
use rvirt_util::{Error, ErrorCode, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceHost {
    pub name: String,
    /// 0: unset.
    pub port: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceDevice {
    pub path: String,
    pub part_separator: Option<TriBool>,
}

/// `virStorageAdapter`: a SCSI pool's host adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Adapter {
    ScsiHost {
        name: Option<String>,
        /// `<parentaddr unique_id>` and its PCI address
        /// (domain, bus, slot, function).
        parent: Option<(i32, [u32; 4])>,
    },
    FcHost {
        parent: Option<String>,
        parent_wwnn: Option<String>,
        parent_wwpn: Option<String>,
        parent_fabric_wwn: Option<String>,
        managed: Option<TriBool>,
        wwnn: Option<String>,
        wwpn: Option<String>,
    },
}

crate::domain::props::vir_enum! {
    /// `virStorageAuthType` ("none" stands for no `type=`).
    pub enum AuthType { None = "none", Chap = "chap", Ceph = "ceph" }
}

/// How an `<auth>` names its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    Uuid(String),
    Usage(String),
}

/// `virStorageAuthDef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    pub kind: AuthType,
    pub username: String,
    pub secret_type: Option<String>,
    pub secret: SecretRef,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolSource {
    pub hosts: Vec<SourceHost>,
    pub devices: Vec<SourceDevice>,
    pub dir: Option<String>,
    pub adapter: Option<Adapter>,
    pub name: Option<String>,
    pub initiator_iqn: Option<String>,
    /// Index in the pool type's format table, when it has one.
    pub format: Option<usize>,
    pub auth: Option<Auth>,
    pub protocol_ver: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
}

impl PoolSource {
    /// `virStoragePoolDefParseSourceString`: a `<source>` document, as
    /// `virConnectFindStoragePoolSources` takes it.
    pub fn parse_spec(text: &str, pool_type: PoolType) -> Result<PoolSource> {
        let root = super::parse_root(text, "(storage_source_specification)", "source")?;
        PoolSource::parse(&root, pool_type)
    }

    /// `virStoragePoolDefParseSource`.
    pub fn parse(e: &Element, pool_type: PoolType) -> Result<PoolSource> {
        let mut s = PoolSource {
            name: path_text(e, &["name"]),
            ..PoolSource::default()
        };
        if pool_type == PoolType::Rbd && s.name.is_none() {
            return Err(xml_error("element 'name' is mandatory for RBD pool"));
        }
        if let Some(formats) = pool_type.source_formats() {
            s.format = Some(match path_attr(e, &["format"], "type") {
                None => formats.default,
                Some(f) => formats
                    .index(&f)
                    .ok_or_else(|| unsupported(format!("unknown pool format type {f}")))?,
            });
        }
        for h in e.children_named("host") {
            let name = h
                .attr_string("name")
                .ok_or_else(|| xml_error("missing storage pool host name"))?;
            let port = props::int(h, "port")?.unwrap_or(0);
            s.hosts.push(SourceHost { name, port });
        }
        s.initiator_iqn = path_attr(e, &["initiator", "iqn"], "name");
        for d in e.children_named("device") {
            let path = d
                .attr_string("path")
                .ok_or_else(|| xml_error("missing storage pool source device path"))?;
            let part_separator = props::tribool(d, "part_separator")?;
            s.devices.push(SourceDevice {
                path,
                part_separator,
            });
        }
        s.dir = path_attr(e, &["dir"], "path").map(|d| sanitize_path(&d));
        if s.dir.is_none() && pool_type == PoolType::Gluster {
            s.dir = Some("/".into());
        }
        if let Some(a) = e.child("adapter") {
            s.adapter = parse_adapter(a)?;
        }
        if let Some(a) = e.child("auth") {
            let auth = parse_auth(a)?;
            if auth.kind == AuthType::None {
                return Err(unsupported("storage pool missing auth type"));
            }
            s.auth = Some(auth);
        }
        s.protocol_ver = path_attr(e, &["protocol"], "ver");
        if let Some(ver) = &s.protocol_ver {
            // NFS's and "auto"'s indexes in the netfs table.
            // libvirt compares the plain number to NFS's and "auto"'s.
            let fmt = s.format.unwrap_or(0);
            if fmt > 1 {
                let name = super::NETFS_FORMATS.get(fmt).copied().unwrap_or("(null)");
                return Err(unsupported(format!(
                    "storage pool protocol ver unsupported for pool type '{name}'"
                )));
            }
            if ver.contains(',') {
                return Err(rvirt_util::Error::new(
                    super::ERROR_DOMAIN,
                    ErrorCode::XML_DETAIL,
                    format!("storage pool protocol ver '{ver}' must not contain ','"),
                ));
            }
        }
        s.vendor = path_attr(e, &["vendor"], "name");
        s.product = path_attr(e, &["product"], "name");
        Ok(s)
    }

    /// `virStoragePoolSourceFormat`.
    pub fn format(&self, w: &mut Writer, pool_type: PoolType) {
        let flags = pool_type.source_flags();
        w.block("source", "", |w| {
            if flags & flag::HOST != 0 {
                for h in &self.hosts {
                    let mut a = Attrs::new();
                    a.add("name", &h.name);
                    if h.port != 0 {
                        a.add("port", h.port);
                    }
                    w.line(&format!("<host{}/>", a.as_str()));
                }
            }
            if flags & flag::DEVICE != 0 {
                for d in &self.devices {
                    let mut a = Attrs::new();
                    a.add("path", &d.path)
                        .opt("part_separator", d.part_separator);
                    w.line(&format!("<device{}/>", a.as_str()));
                }
            }
            if flags & flag::DIR != 0 {
                if let Some(d) = &self.dir {
                    w.line(&format!("<dir path='{}'/>", escape(d)));
                }
            }
            if flags & flag::ADAPTER != 0 {
                if let Some(a) = &self.adapter {
                    format_adapter(w, a);
                }
            }
            if flags & flag::NAME != 0 {
                w.text_elem("name", self.name.as_deref());
            }
            if flags & flag::INITIATOR_IQN != 0 {
                if let Some(iqn) = &self.initiator_iqn {
                    w.block("initiator", "", |w| {
                        w.line(&format!("<iqn name='{}'/>", escape(iqn)))
                    });
                }
            }
            if let (Some(formats), Some(i)) = (pool_type.source_formats(), self.format) {
                w.line(&format!("<format type='{}'/>", formats.names[i]));
            }
            if let Some(a) = &self.auth {
                format_auth(w, a);
            }
            for (el, attr, v) in [
                ("protocol", "ver", &self.protocol_ver),
                ("vendor", "name", &self.vendor),
                ("product", "name", &self.product),
            ] {
                if let Some(v) = v {
                    w.line(&format!("<{el} {attr}='{}'/>", escape(v)));
                }
            }
        });
    }
}

/// `virStorageAdapterParseXML` (`None`: a legacy adapter without a name).
fn parse_adapter(a: &Element) -> Result<Option<Adapter>> {
    let managed = props::tribool(a, "managed");
    match a.attr("type") {
        None => {
            if a.attr("wwnn").is_some() || a.attr("wwpn").is_some() || a.attr("parent").is_some() {
                return Err(xml_error(
                    "Use of 'wwnn', 'wwpn', and 'parent' attributes requires use of the adapter 'type'",
                ));
            }
            if a.child("parentaddr").is_some() {
                return Err(xml_error(
                    "Use of 'parentaddr' element requires use of the adapter 'type'",
                ));
            }
            Ok(a.attr_string("name").map(|name| Adapter::ScsiHost {
                name: Some(name),
                parent: None,
            }))
        }
        Some("fc_host") => Ok(Some(Adapter::FcHost {
            managed: managed?,
            parent: a.attr_string("parent"),
            parent_wwnn: a.attr_string("parent_wwnn"),
            parent_wwpn: a.attr_string("parent_wwpn"),
            parent_fabric_wwn: a.attr_string("parent_fabric_wwn"),
            wwnn: a.attr_string("wwnn"),
            wwpn: a.attr_string("wwpn"),
        })),
        Some("scsi_host") => {
            let parent = match a.child("parentaddr") {
                None => None,
                Some(p) => Some(parse_parent_addr(p)?),
            };
            Ok(Some(Adapter::ScsiHost {
                name: a.attr_string("name"),
                parent,
            }))
        }
        Some(v) => Err(crate::domain::xml_invalid_attr("type", "adapter", v)),
    }
}

fn parse_parent_addr(p: &Element) -> Result<(i32, [u32; 4])> {
    let addr = p
        .child("address")
        .ok_or_else(|| xml_error("Missing scsi_host PCI address element"))?;
    let mut out = [0u32; 4];
    for (slot, name) in ["domain", "bus", "slot", "function"].iter().enumerate() {
        out[slot] = props::uint_base0(addr, name, false, false)?.unwrap_or(0);
    }
    let unique_id = p
        .attr("unique_id")
        .and_then(|v| v.trim_start().parse::<i32>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| xml_error("Missing or invalid scsi adapter 'unique_id' value"))?;
    Ok((unique_id, out))
}

/// `virStorageAdapterValidate`.
pub(crate) fn validate_adapter(a: Option<&Adapter>) -> Result<()> {
    match a {
        None => Err(xml_error("missing storage pool source adapter")),
        Some(Adapter::ScsiHost { name, parent }) => match (name, parent) {
            (None, None) => Err(xml_error(
                "Either 'name' or 'parent' must be specified for the 'scsi_host' adapter",
            )),
            (Some(_), Some(_)) => Err(xml_error(
                "Both 'name' and 'parent' cannot be specified for the 'scsi_host' adapter",
            )),
            _ => Ok(()),
        },
        Some(Adapter::FcHost {
            wwnn,
            wwpn,
            parent_wwnn,
            parent_wwpn,
            parent_fabric_wwn,
            ..
        }) => {
            let (Some(wwnn), Some(wwpn)) = (wwnn, wwpn) else {
                return Err(xml_error(
                    "'wwnn' and 'wwpn' must be specified for adapter type 'fchost'",
                ));
            };
            check_wwn(wwnn)?;
            check_wwn(wwpn)?;
            match (parent_wwnn, parent_wwpn) {
                (Some(n), None) => Err(xml_error(format!(
                    "when providing parent_wwnn='{n}', the parent_wwpn must also be provided"
                ))),
                (None, Some(p)) => Err(xml_error(format!(
                    "when providing parent_wwpn='{p}', the parent_wwnn must also be provided"
                ))),
                _ => {
                    for w in [parent_wwnn, parent_wwpn, parent_fabric_wwn]
                        .into_iter()
                        .flatten()
                    {
                        check_wwn(w)?;
                    }
                    Ok(())
                }
            }
        }
    }
}

/// `virValidateWWN`: sixteen hex digits, optionally after `0x`.
fn check_wwn(wwn: &str) -> Result<()> {
    let digits = wwn.strip_prefix("0x").unwrap_or(wwn);
    if digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(());
    }
    Err(Error::new(
        super::ERROR_DOMAIN,
        ErrorCode::INTERNAL_ERROR,
        format!("Malformed wwn: {wwn}"),
    ))
}

fn format_adapter(w: &mut Writer, a: &Adapter) {
    match a {
        Adapter::FcHost {
            parent,
            parent_wwnn,
            parent_wwpn,
            parent_fabric_wwn,
            managed,
            wwnn,
            wwpn,
        } => {
            let mut at = Attrs::new();
            at.add("type", "fc_host")
                .opt("parent", parent.as_ref())
                .opt("parent_wwnn", parent_wwnn.as_ref())
                .opt("parent_wwpn", parent_wwpn.as_ref())
                .opt("parent_fabric_wwn", parent_fabric_wwn.as_ref())
                .opt("managed", *managed)
                .raw("wwnn", wwnn.as_deref().unwrap_or("(null)"))
                .raw("wwpn", wwpn.as_deref().unwrap_or("(null)"));
            w.line(&format!("<adapter{}/>", at.as_str()));
        }
        Adapter::ScsiHost {
            name: Some(name), ..
        } => w.line(&format!("<adapter type='scsi_host' name='{name}'/>")),
        Adapter::ScsiHost { name: None, parent } => {
            let (id, [d, b, s, f]) = parent.unwrap_or((0, [0; 4]));
            w.block("adapter", " type='scsi_host'", |w| {
                w.block("parentaddr", &format!(" unique_id='{id}'"), |w| {
                    w.line(&format!(
                        "<address domain='0x{d:04x}' bus='0x{b:02x}' slot='0x{s:02x}' function='0x{f:x}'/>"
                    ));
                });
            });
        }
    }
}

/// `virStorageAuthDefParse`.
fn parse_auth(a: &Element) -> Result<Auth> {
    let username = a
        .attr("username")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| xml_error("missing username for auth"))?
        .to_string();
    let kind = match a.attr("type").filter(|t| !t.is_empty()) {
        None => AuthType::None,
        Some(t) => <AuthType as props::VirEnum>::from_str_opt(t)
            .ok_or_else(|| unsupported(format!("unknown auth type '{t}'")))?,
    };
    let s = a
        .child("secret")
        .ok_or_else(|| xml_error("Missing <secret> element in auth"))?;
    let secret = match (s.attr("uuid"), s.attr("usage")) {
        (None, None) => return Err(xml_error("missing secret uuid or usage attribute")),
        (Some(_), Some(_)) => return Err(xml_error("either secret uuid or usage expected")),
        (Some(u), None) => SecretRef::Uuid(
            rvirt_util::uuid::parse(u)
                .ok_or_else(|| xml_error(format!("invalid secret uuid '{u}'")))?
                .to_string(),
        ),
        (None, Some(u)) => SecretRef::Usage(u.to_string()),
    };
    Ok(Auth {
        kind,
        username,
        secret_type: s.attr_string("type"),
        secret,
    })
}

fn format_auth(w: &mut Writer, a: &Auth) {
    let open = match a.kind {
        AuthType::None => format!(" username='{}'", escape(&a.username)),
        k => format!(" type='{k}' username='{}'", escape(&a.username)),
    };
    w.block("auth", &open, |w| {
        let ty = a
            .secret_type
            .as_ref()
            .map(|t| format!(" type='{t}'"))
            .unwrap_or_default();
        match &a.secret {
            SecretRef::Uuid(u) => w.line(&format!("<secret{ty} uuid='{u}'/>")),
            SecretRef::Usage(u) => w.line(&format!("<secret{ty} usage='{}'/>", escape(u))),
        }
    });
}
