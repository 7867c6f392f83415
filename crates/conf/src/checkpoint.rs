//! Domain checkpoint XML (`<domaincheckpoint>`, libvirt's
//! src/conf/checkpoint_conf.c): parsing a new or redefined checkpoint,
//! aligning its disks to the domain's, and formatting it.

use crate::domain::props::VirEnum;
use crate::domain::DomainDef;
use crate::xml::{self, Attrs, Element, Writer};
use crate::FormatOptions;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_DOMAIN_CHECKPOINT`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(69);

crate::domain::props::vir_enum! {
    /// `virDomainCheckpointType`: how a disk takes part.
    pub enum CheckpointType {
        Default = "default",
        No = "no",
        Bitmap = "bitmap",
    }
}

/// One `<disk>` of `<disks>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointDisk {
    /// The disk's target (or, before alignment, its source path).
    pub name: String,
    pub checkpoint: CheckpointType,
    pub bitmap: Option<String>,
}

/// A checkpoint definition (`virDomainCheckpointDef` and its moment base).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointDef {
    pub name: String,
    pub description: Option<String>,
    pub parent: Option<String>,
    /// Seconds since the epoch (0: unset, not written).
    pub creation_time: i64,
    pub disks: Vec<CheckpointDisk>,
    pub dom: Option<DomainDef>,
}

/// What `<domaincheckpoint>` formatting leaves out or adds
/// (`VIR_DOMAIN_CHECKPOINT_XML_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FormatFlags {
    pub secure: bool,
    pub no_domain: bool,
}

fn unsupported(msg: impl AsRef<str>) -> Error {
    Error::new(ERROR_DOMAIN, ErrorCode::CONFIG_UNSUPPORTED, msg)
}

impl CheckpointDisk {
    fn parse(e: &Element) -> Result<CheckpointDisk> {
        let checkpoint = match e.attr("checkpoint") {
            None => CheckpointType::Bitmap,
            Some(v) => CheckpointType::from_str_opt(v).ok_or_else(|| {
                Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::XML_ERROR,
                    format!("Invalid value for attribute 'checkpoint' in element 'disk': '{v}'."),
                )
            })?,
        };
        Ok(CheckpointDisk {
            name: e.attr_string("name").unwrap_or_default(),
            checkpoint,
            bitmap: e.attr_string("bitmap"),
        })
    }

    fn format(&self, w: &mut Writer) {
        let mut a = Attrs::new();
        a.add("name", &self.name);
        if self.checkpoint != CheckpointType::Default {
            a.add("checkpoint", self.checkpoint);
        }
        a.opt("bitmap", self.bitmap.as_deref());
        w.line(&format!("<disk{}/>", a.as_str()));
    }
}

impl CheckpointDef {
    /// `virDomainCheckpointDefParseString`: a new checkpoint (named and
    /// timed `now` when it names nothing) or, with `redefine`, an existing
    /// one's XML (name and creation time required, parent and domain
    /// read).
    pub fn parse_at(text: &str, redefine: bool, now: i64) -> Result<CheckpointDef> {
        let root = xml::parse(text, "(domain_checkpoint)", ERROR_DOMAIN)?;
        if root.name != "domaincheckpoint" {
            return Err(Error::new(
                ERROR_DOMAIN,
                ErrorCode::XML_ERROR,
                format!(
                    "expecting root element of 'domaincheckpoint', not '{}'",
                    root.name
                ),
            ));
        }
        let mut def = CheckpointDef {
            name: String::new(),
            description: root.child_text("description"),
            parent: None,
            creation_time: 0,
            disks: Vec::new(),
            dom: None,
        };
        let name = root.child_text("name");
        if redefine {
            def.name = name.ok_or_else(|| {
                Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::XML_ERROR,
                    "a redefined checkpoint must have a name",
                )
            })?;
            def.creation_time = root
                .child_text("creationTime")
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| {
                    Error::internal(
                        ERROR_DOMAIN,
                        "missing creationTime from existing checkpoint",
                    )
                })?;
            def.parent = root.child("parent").and_then(|p| p.child_text("name"));
            if let Some(dom) = root.child("domain") {
                def.dom = Some(DomainDef::from_element(dom)?);
            }
        } else {
            def.creation_time = now;
            def.name = name.unwrap_or_else(|| now.to_string());
        }
        for e in root.children_named("disks").flat_map(|d| d.elements()) {
            def.disks.push(CheckpointDisk::parse(e)?);
        }
        Ok(def)
    }

    /// `virDomainCheckpointAlignDisks`: one disk per domain disk, in the
    /// domain's order, named by target; with no `<disks>` given every
    /// writable, non-empty disk gets a bitmap (named after the
    /// checkpoint), else the disks not named take no part.
    pub fn align_disks(&mut self) -> Result<()> {
        let Some(domdef) = self.dom.as_ref() else {
            return Err(Error::internal(
                ERROR_DOMAIN,
                "missing domain in checkpoint",
            ));
        };
        let domdisks = &domdef.devices.disks;
        if self.disks.len() > domdisks.len() {
            return Err(unsupported("too many disk checkpoint requests for domain"));
        }
        if domdisks.is_empty() {
            return Err(unsupported(
                "domain must have at least one disk to perform checkpoints",
            ));
        }
        let default = match self.disks.is_empty() {
            true => CheckpointType::Bitmap,
            false => CheckpointType::Default,
        };
        let mut given: Vec<CheckpointDisk> = Vec::new();
        for mut cd in std::mem::take(&mut self.disks) {
            let dd = domdisks
                .iter()
                .find(|d| d.target.dev == cd.name)
                .or_else(|| domdisks.iter().find(|d| d.source.path() == Some(&cd.name)))
                .ok_or_else(|| unsupported(format!("no disk named '{}'", cd.name)))?;
            if given.iter().any(|g| g.name == dd.target.dev) {
                return Err(unsupported(format!("disk '{}' specified twice", cd.name)));
            }
            if (dd.source.is_empty() || dd.readonly) && cd.checkpoint != CheckpointType::No {
                return Err(unsupported(format!(
                    "disk '{}' is empty or readonly",
                    cd.name
                )));
            }
            cd.name = dd.target.dev.clone();
            given.push(cd);
        }
        let mut aligned = Vec::with_capacity(domdisks.len());
        for dd in domdisks {
            if let Some(i) = given.iter().position(|g| g.name == dd.target.dev) {
                aligned.push(given.swap_remove(i));
                continue;
            }
            let checkpoint = match dd.source.is_empty() || dd.readonly {
                true => CheckpointType::No,
                false => default,
            };
            aligned.push(CheckpointDisk {
                name: dd.target.dev.clone(),
                checkpoint,
                bitmap: None,
            });
        }
        self.disks = aligned;
        self.assign_bitmap_names();
        Ok(())
    }

    /// `virDomainCheckpointDefAssignBitmapNames`: a bitmap disk without a
    /// bitmap name takes the checkpoint's.
    pub fn assign_bitmap_names(&mut self) {
        for cd in &mut self.disks {
            if cd.checkpoint == CheckpointType::Bitmap && cd.bitmap.is_none() {
                cd.bitmap = Some(self.name.clone());
            }
        }
    }

    /// `virDomainCheckpointDefFormat`.
    pub fn format(&self, flags: FormatFlags) -> String {
        let mut w = Writer::new();
        w.line("<domaincheckpoint>");
        w.indent();
        w.text_elem("name", Some(&self.name));
        w.text_elem("description", self.description.as_deref());
        if let Some(parent) = &self.parent {
            w.block("parent", "", |w| w.text_elem("name", Some(parent)));
        }
        if self.creation_time != 0 {
            w.line(&format!(
                "<creationTime>{}</creationTime>",
                self.creation_time
            ));
        }
        if !self.disks.is_empty() {
            w.block("disks", "", |w| self.disks.iter().for_each(|d| d.format(w)));
        }
        if let Some(dom) = self.dom.as_ref().filter(|_| !flags.no_domain) {
            let opts = FormatOptions {
                id: None,
                inactive: true,
                secure: flags.secure,
            };
            w.raw(&dom.format_indented(&opts, 1));
        }
        w.dedent();
        w.line("</domaincheckpoint>");
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOM: &str = "<domain type='test'><name>t</name><memory>1024</memory>\
        <os><type>hvm</type></os><devices>\
        <disk type='file' device='disk'><source file='/a.img'/><target dev='vda'/></disk>\
        <disk type='file' device='cdrom'><target dev='hdc'/><readonly/></disk>\
        </devices></domain>";

    fn new_on_dom(xml: &str) -> Result<CheckpointDef> {
        let mut def = CheckpointDef::parse_at(xml, false, 1700000000)?;
        def.dom = Some(DomainDef::parse(DOM).unwrap());
        def.align_disks()?;
        Ok(def)
    }

    #[test]
    fn a_bare_checkpoint_is_named_by_time_with_bitmaps_on_writable_disks() {
        let def = new_on_dom("<domaincheckpoint/>").unwrap();
        let flags = FormatFlags {
            no_domain: true,
            ..Default::default()
        };
        assert_eq!(
            def.format(flags),
            "<domaincheckpoint>\n  <name>1700000000</name>\n  \
             <creationTime>1700000000</creationTime>\n  <disks>\n    \
             <disk name='vda' checkpoint='bitmap' bitmap='1700000000'/>\n    \
             <disk name='hdc' checkpoint='no'/>\n  </disks>\n</domaincheckpoint>\n"
        );
        assert!(def
            .format(FormatFlags::default())
            .contains("  <domain type='test'>\n"));
    }

    #[test]
    fn named_disks_are_checked_and_the_rest_left_out() {
        let def = new_on_dom(
            "<domaincheckpoint><name>c</name><disks><disk name='/a.img' bitmap='b'/></disks>\
             </domaincheckpoint>",
        )
        .unwrap();
        assert_eq!(
            def.disks,
            vec![
                CheckpointDisk {
                    name: "vda".into(),
                    checkpoint: CheckpointType::Bitmap,
                    bitmap: Some("b".into())
                },
                CheckpointDisk {
                    name: "hdc".into(),
                    checkpoint: CheckpointType::No,
                    bitmap: None
                },
            ]
        );
        let cases = [
            ("<disk name='vdz'/>", "no disk named 'vdz'"),
            ("<disk name='hdc'/>", "disk 'hdc' is empty or readonly"),
            (
                "<disk name='vda'/><disk name='/a.img'/>",
                "disk '/a.img' specified twice",
            ),
        ];
        for (disks, want) in cases {
            let xml = format!("<domaincheckpoint><disks>{disks}</disks></domaincheckpoint>");
            let e = new_on_dom(&xml).unwrap_err();
            assert_eq!(e.message, format!("unsupported configuration: {want}"));
        }
    }

    #[test]
    fn redefinition_needs_a_name_and_a_creation_time() {
        let e = CheckpointDef::parse_at("<domaincheckpoint/>", true, 1).unwrap_err();
        assert_eq!(
            e.message,
            "XML error: a redefined checkpoint must have a name"
        );
        let e = CheckpointDef::parse_at(
            "<domaincheckpoint><name>a</name></domaincheckpoint>",
            true,
            1,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "internal error: missing creationTime from existing checkpoint"
        );
        let def = CheckpointDef::parse_at(
            "<domaincheckpoint><name>a</name><parent><name>p</name></parent>\
             <creationTime>5</creationTime></domaincheckpoint>",
            true,
            1,
        )
        .unwrap();
        assert_eq!(
            (def.name.as_str(), def.parent.as_deref(), def.creation_time),
            ("a", Some("p"), 5)
        );
    }
}
