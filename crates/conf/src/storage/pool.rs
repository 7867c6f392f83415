//! `<pool>` (`virStoragePoolDef`): `virStoragePoolDefParseXML` and
//! `virStoragePoolDefFormatBuf`.

use super::source::{validate_adapter, PoolSource};
use super::{flag, parse_root, path_attr, path_text, sanitize_path, unsupported, xml_error};
use super::{Perms, PoolType, ERROR_DOMAIN};
use crate::domain::props::{self, TriBool, VirEnum};
use crate::xml::{Element, Writer};
use rvirt_util::uuid::Uuid;
use rvirt_util::{Error, ErrorCode, Result};

/// `<features>`: only copy-on-write today.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolFeatures {
    pub cow: Option<TriBool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolDef {
    pub pool_type: PoolType,
    pub name: String,
    pub uuid: [u8; 16],
    /// Bytes; never read from XML, set by the driver.
    pub capacity: u64,
    pub allocation: u64,
    pub available: u64,
    pub features: PoolFeatures,
    pub source: PoolSource,
    /// `None` for pools without a local target (rbd, sheepdog, gluster,
    /// iscsi-direct).
    pub target_path: Option<String>,
    pub perms: Perms,
    /// `<refresh><volume allocation=>`: "default" or "capacity".
    pub refresh_allocation: Option<String>,
}

impl PoolDef {
    /// Capacity, allocation and available bytes, in `virStoragePoolInfo`'s
    /// order.
    pub fn figures(&self) -> [u64; 3] {
        [self.capacity, self.allocation, self.available]
    }

    /// `virStoragePoolDefParse` of a document.
    pub fn parse(text: &str) -> Result<PoolDef> {
        let root = parse_root(text, "(storage_pool_definition)", "pool")?;
        PoolDef::from_element(&root)
    }

    /// `virStoragePoolDefParseXML`.
    pub fn from_element(root: &Element) -> Result<PoolDef> {
        let pool_type: PoolType =
            props::enumeration(root, "type", true)?.ok_or_else(|| props::missing(root, "type"))?;
        let flags = pool_type.source_flags();
        let mut source = match root.child("source") {
            Some(s) => PoolSource::parse(s, pool_type)?,
            None => PoolSource {
                format: pool_type.source_formats().map(|f| f.default),
                ..PoolSource::default()
            },
        };
        let mut name = path_text(root, &["name"]);
        if name.is_none() && flags & flag::NAME != 0 {
            name = source.name.clone();
        }
        let name = name.ok_or_else(|| xml_error("missing pool source name element"))?;
        if name.contains('/') {
            return Err(xml_error(format!("name {name} cannot contain '/'")));
        }
        let uuid = match path_text(root, &["uuid"]) {
            None => rvirt_util::uuid::generate(),
            Some(u) => {
                rvirt_util::uuid::parse(&u).ok_or_else(|| xml_error("malformed uuid element"))?
            }
        };
        let features = parse_features(root, pool_type)?;
        check_source(&mut source, flags, &name)?;
        let (target_path, perms) = if flags & flag::NETWORK == 0 {
            let path = match pool_type {
                PoolType::Logical => format!("/dev/{}", source.name.as_deref().unwrap_or("")),
                PoolType::Zfs => format!("/dev/zvol/{}", source.name.as_deref().unwrap_or("")),
                _ => path_text(root, &["target", "path"])
                    .ok_or_else(|| xml_error("missing storage pool target path"))?,
            };
            let perms_node = root.child("target").and_then(|t| t.child("permissions"));
            (Some(sanitize_path(&path)), Perms::parse(perms_node)?)
        } else {
            (None, Perms::default())
        };
        if pool_type == PoolType::IscsiDirect && source.initiator_iqn.is_none() {
            return Err(unsupported("missing initiator IQN"));
        }
        check_namespaces(root, pool_type)?;
        let refresh_allocation = match path_attr(root, &["refresh", "volume"], "allocation") {
            None => None,
            Some(a) if a == "default" || a == "capacity" => Some(a),
            Some(a) => {
                return Err(unsupported(format!(
                    "unknown storage pool volume refresh allocation type {a}"
                )))
            }
        };
        Ok(PoolDef {
            pool_type,
            name,
            uuid: *uuid.as_bytes(),
            capacity: 0,
            allocation: 0,
            available: 0,
            features,
            source,
            target_path,
            perms,
            refresh_allocation,
        })
    }

    pub fn uuid_string(&self) -> String {
        Uuid::from_bytes(self.uuid).to_string()
    }

    /// `virStoragePoolDefFormat`.
    pub fn format(&self) -> String {
        let mut w = Writer::new();
        w.block("pool", &format!(" type='{}'", self.pool_type), |w| {
            w.text_elem("name", Some(&self.name));
            w.line(&format!("<uuid>{}</uuid>", self.uuid_string()));
            for (el, v) in [
                ("capacity", self.capacity),
                ("allocation", self.allocation),
                ("available", self.available),
            ] {
                w.line(&format!("<{el} unit='bytes'>{v}</{el}>"));
            }
            if let Some(cow) = self.features.cow {
                w.block("features", "", |w| w.line(&format!("<cow state='{cow}'/>")));
            }
            self.source.format(w, self.pool_type);
            if !matches!(
                self.pool_type,
                PoolType::Rbd | PoolType::Sheepdog | PoolType::Gluster | PoolType::IscsiDirect
            ) {
                w.block("target", "", |w| {
                    w.text_elem("path", self.target_path.as_deref());
                    self.perms.format(w);
                });
            }
            if let Some(a) = &self.refresh_allocation {
                w.block("refresh", "", |w| {
                    w.line(&format!("<volume allocation='{a}'/>"))
                });
            }
        });
        w.finish()
    }
}

/// The backend XML namespaces libvirt registers (fs/netfs mount options,
/// rbd config options) are not modelled: refused, never dropped. Other
/// namespaces libvirt ignores, and so do we.
fn check_namespaces(root: &Element, pool_type: PoolType) -> Result<()> {
    const FS: &str = "http://libvirt.org/schemas/storagepool/fs/1.0";
    const RBD: &str = "http://libvirt.org/schemas/storagepool/rbd/1.0";
    let registered = match pool_type {
        PoolType::Fs | PoolType::Netfs => FS,
        PoolType::Rbd => RBD,
        _ => return Ok(()),
    };
    for e in root.elements().filter(|e| e.name.contains(':')) {
        if e.namespace(&[root]) == Some(registered) {
            return Err(unsupported(format!(
                "storage pool namespace element '{}' is not supported",
                e.name
            )));
        }
    }
    Ok(())
}

/// `virStoragePoolDefParseFeatures`.
fn parse_features(root: &Element, pool_type: PoolType) -> Result<PoolFeatures> {
    let Some(cow) = root.child("features").and_then(|f| f.child("cow")) else {
        return Ok(PoolFeatures::default());
    };
    let state = props::tribool(cow, "state")?;
    if state.is_some() && !matches!(pool_type, PoolType::Fs | PoolType::Dir) {
        return Err(Error::new(
            ERROR_DOMAIN,
            ErrorCode::NO_SUPPORT,
            "cow feature may only be used for 'fs' and 'dir' pools",
        ));
    }
    Ok(PoolFeatures { cow: state })
}

/// The source parts the pool type requires, and the source name's default.
fn check_source(source: &mut PoolSource, flags: u32, name: &str) -> Result<()> {
    if flags & flag::HOST != 0 && source.hosts.is_empty() {
        return Err(xml_error("missing storage pool source host name"));
    }
    if flags & flag::DIR != 0 && source.dir.is_none() {
        return Err(xml_error("missing storage pool source path"));
    }
    if flags & flag::NAME != 0 && source.name.is_none() {
        source.name = Some(name.to_string());
    }
    if flags & flag::ADAPTER != 0 {
        validate_adapter(source.adapter.as_ref())?;
    }
    if flags == flag::DEVICE && source.devices.is_empty() {
        return Err(xml_error("missing storage pool source device name"));
    }
    Ok(())
}

impl PoolType {
    /// The type's name, for messages.
    pub fn name(self) -> &'static str {
        self.as_str()
    }
}
