//! `<idmap>`: user and group ID ranges of a container
//! (`virDomainIdmapDef`), parsed as `virDomainIdmapDefParseXML` and
//! formatted as in `virDomainDefFormatInternal`.

use super::internal_xml;
use crate::xml::{Element, Writer};
use rvirt_util::Result;

/// One `<uid>` or `<gid>` range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMapEntry {
    pub start: u32,
    pub target: u32,
    pub count: u32,
}

/// The ranges, each list sorted by `start`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap {
    pub uids: Vec<IdMapEntry>,
    pub gids: Vec<IdMapEntry>,
}

fn parse_entries(root: &Element, kind: &str) -> Result<Vec<IdMapEntry>> {
    let nodes = root.grandchildren("idmap", kind);
    let mut entries = nodes
        .map(|n| {
            let num = |name| n.attr(name).and_then(|v| v.trim().parse().ok());
            match (num("start"), num("target"), num("count")) {
                (Some(start), Some(target), Some(count)) => Ok(IdMapEntry {
                    start,
                    target,
                    count,
                }),
                _ => Err(internal_xml("invalid idmap start/target/count settings")),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.start);
    Ok(entries)
}

impl IdMap {
    pub(crate) fn parse(root: &Element) -> Result<IdMap> {
        Ok(IdMap {
            uids: parse_entries(root, "uid")?,
            gids: parse_entries(root, "gid")?,
        })
    }

    /// `virDomainDefIdMapValidate`: users and groups are mapped together.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.uids.is_empty() != self.gids.is_empty() {
            return Err(super::unsupported("uid and gid should be mapped both"));
        }
        Ok(())
    }

    /// Written only when there are user ranges, as libvirt does.
    pub(crate) fn format(&self, w: &mut Writer) {
        if self.uids.is_empty() {
            return;
        }
        w.elem_with("idmap", "", |w| {
            let lists = [("uid", &self.uids), ("gid", &self.gids)];
            for (kind, entries) in lists {
                for e in entries {
                    w.line(&format!(
                        "<{kind} start='{}' target='{}' count='{}'/>",
                        e.start, e.target, e.count
                    ));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_dump_holds, assert_errors, dump_before_os};

    /// Output and messages checked against stock virsh on test:///default.
    #[test]
    fn idmap_as_virsh() {
        assert_dump_holds(
            dump_before_os,
            "<idmap><gid start='0' target='1000' count='10'/><uid start='5' target='1' count='1'/>\
             <uid start='0' target='1000' count='10'/></idmap>",
            "  </os>\n  <idmap>\n    <uid start='0' target='1000' count='10'/>\n    <uid start='5' target='1' count='1'/>\n    <gid start='0' target='1000' count='10'/>\n  </idmap>\n",
        );
        assert_errors(
            dump_before_os,
            &[
                (
                    "<idmap><uid start='0' count='1'/></idmap>",
                    "XML error: invalid idmap start/target/count settings",
                ),
                (
                    "<idmap><gid start='0' target='1' count='1'/></idmap>",
                    "unsupported configuration: uid and gid should be mapped both",
                ),
            ],
        );
    }
}
