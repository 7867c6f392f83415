//! Capabilities XML (`virCaps`): parse and format as
//! `virCapabilitiesFormatXML` does.

use crate::xml::{self, Element};
use rvirt_util::{uuid, Error, ErrorCode, ErrorDomain, Result};

/// `<capabilities>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub host: Host,
    pub guests: Vec<Guest>,
}

/// `<host>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Host {
    pub uuid: Option<uuid::Uuid>,
    pub arch: Option<String>,
    /// `<features>` inside `<cpu>` (e.g. pae, nonpae).
    pub cpu_features: Vec<String>,
    pub cpu_model: Option<String>,
    pub cpu_vendor: Option<String>,
    /// (sockets, dies, cores, threads)
    pub cpu_topology: Option<(u32, u32, u32, u32)>,
    /// `<feature name='..'/>` of the host CPU.
    pub cpu_feature_names: Vec<String>,
    /// Page sizes in KiB.
    pub pages: Vec<u64>,
    /// Power management targets (suspend_mem, suspend_disk, suspend_hybrid).
    pub power_management: Vec<String>,
    pub iommu: bool,
    /// `Some` when `<migration_features>` is present.
    pub migration: Option<Migration>,
    pub netprefix: Option<String>,
    pub cells: Vec<Cell>,
    pub secmodels: Vec<SecModel>,
}

/// `<migration_features>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    pub live: bool,
    pub uri_transports: Vec<String>,
}

/// A NUMA `<cell>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub id: u32,
    pub memory_kib: Option<u64>,
    /// (size KiB, count)
    pub pages: Vec<(u64, u64)>,
    /// (sibling id, value)
    pub distances: Vec<(u32, u32)>,
    pub cpus: Vec<CellCpu>,
}

/// `<cpu>` of a cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CellCpu {
    pub id: u32,
    pub socket_id: Option<u32>,
    pub die_id: Option<u32>,
    pub core_id: Option<u32>,
    pub siblings: Option<String>,
}

/// `<secmodel>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecModel {
    pub model: String,
    pub doi: String,
    /// (type, label)
    pub baselabels: Vec<(String, String)>,
}

/// `<guest>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Guest {
    pub os_type: String,
    pub arch: String,
    pub wordsize: u32,
    pub emulator: Option<String>,
    pub loader: Option<String>,
    pub machines: Vec<Machine>,
    pub domains: Vec<GuestDomain>,
    /// (name, attributes) e.g. ("acpi", [("default","on"),("toggle","yes")])
    pub features: Vec<(String, Vec<(String, String)>)>,
}

/// `<machine>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    pub name: String,
    pub canonical: Option<String>,
    pub max_cpus: Option<u32>,
    pub deprecated: bool,
}

/// `<domain type='..'>` inside `<arch>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestDomain {
    pub domain_type: String,
    pub emulator: Option<String>,
    pub loader: Option<String>,
    pub machines: Vec<Machine>,
}

fn num<T: std::str::FromStr>(e: &Element, name: &str) -> Option<T> {
    e.attr(name).and_then(|v| v.trim().parse().ok())
}

fn bad(msg: &str) -> Error {
    Error::new(ErrorDomain::CAPABILITIES, ErrorCode::XML_ERROR, msg)
}

fn machines(e: &Element) -> Vec<Machine> {
    e.children_named("machine")
        .map(|m| Machine {
            name: m.text().trim().to_string(),
            canonical: m.attr_string("canonical"),
            max_cpus: num(m, "maxCpus"),
            deprecated: m.attr("deprecated") == Some("yes"),
        })
        .collect()
}

fn fmt_machine(m: &Machine, ind: &str, out: &mut String) {
    out.push_str(ind);
    out.push_str("<machine");
    if let Some(c) = &m.canonical {
        out.push_str(&format!(" canonical='{c}'"));
    }
    if let Some(n) = m.max_cpus.filter(|n| *n > 0) {
        out.push_str(&format!(" maxCpus='{n}'"));
    }
    if m.deprecated {
        out.push_str(" deprecated='yes'");
    }
    out.push_str(&format!(">{}</machine>\n", m.name));
}

impl Capabilities {
    /// Parse a `<capabilities>` document.
    pub fn parse(text: &str) -> Result<Capabilities> {
        let root = xml::parse(text, "(capabilities)", ErrorDomain::CAPABILITIES)?;
        if root.name != "capabilities" {
            return Err(bad("missing capabilities root element"));
        }
        let mut caps = Capabilities::default();
        if let Some(h) = root.child("host") {
            caps.host = Self::parse_host(h)?;
        }
        for g in root.children_named("guest") {
            let arch = g.child("arch").ok_or_else(|| bad("missing guest arch"))?;
            caps.guests.push(Guest {
                os_type: g.child_text("os_type").unwrap_or_default(),
                arch: arch.attr("name").unwrap_or("").to_string(),
                wordsize: arch
                    .child_text("wordsize")
                    .and_then(|w| w.trim().parse().ok())
                    .unwrap_or(0),
                emulator: arch.child_text("emulator"),
                loader: arch.child_text("loader"),
                machines: machines(arch),
                domains: arch
                    .children_named("domain")
                    .map(|d| GuestDomain {
                        domain_type: d.attr("type").unwrap_or("").to_string(),
                        emulator: d.child_text("emulator"),
                        loader: d.child_text("loader"),
                        machines: machines(d),
                    })
                    .collect(),
                features: g
                    .child("features")
                    .map(|f| {
                        f.elements()
                            .map(|e| (e.name.clone(), e.attrs.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        Ok(caps)
    }

    fn parse_host(h: &Element) -> Result<Host> {
        let mut host = Host {
            uuid: match h.child_text("uuid") {
                None => None,
                Some(u) => Some(uuid::parse(&u).ok_or_else(|| bad("malformed host uuid"))?),
            },
            ..Host::default()
        };
        if let Some(cpu) = h.child("cpu") {
            host.arch = cpu.child_text("arch");
            if let Some(f) = cpu.child("features") {
                host.cpu_features = f.elements().map(|e| e.name.clone()).collect();
            }
            host.cpu_model = cpu.child_text("model");
            host.cpu_vendor = cpu.child_text("vendor");
            host.cpu_topology = cpu.child("topology").map(|t| {
                (
                    num(t, "sockets").unwrap_or(1),
                    num(t, "dies").unwrap_or(1),
                    num(t, "cores").unwrap_or(1),
                    num(t, "threads").unwrap_or(1),
                )
            });
            host.cpu_feature_names = cpu
                .children_named("feature")
                .filter_map(|f| f.attr_string("name"))
                .collect();
            host.pages = cpu
                .children_named("pages")
                .filter_map(|p| num(p, "size"))
                .collect();
        }
        if let Some(pm) = h.child("power_management") {
            host.power_management = pm.elements().map(|e| e.name.clone()).collect();
        }
        host.iommu = h.child("iommu").and_then(|i| i.attr("support")) == Some("yes");
        host.migration = h.child("migration_features").map(|m| Migration {
            live: m.child("live").is_some(),
            uri_transports: m
                .child("uri_transports")
                .map(|u| {
                    u.children_named("uri_transport")
                        .map(|t| t.text().trim().to_string())
                        .collect()
                })
                .unwrap_or_default(),
        });
        host.netprefix = h.child_text("netprefix");
        if let Some(cells) = h.child("topology").and_then(|t| t.child("cells")) {
            for c in cells.children_named("cell") {
                host.cells.push(Cell {
                    id: num(c, "id").unwrap_or(0),
                    memory_kib: c.child_text("memory").and_then(|m| m.trim().parse().ok()),
                    pages: c
                        .children_named("pages")
                        .map(|p| {
                            (
                                num(p, "size").unwrap_or(0),
                                p.text().trim().parse().unwrap_or(0),
                            )
                        })
                        .collect(),
                    distances: c
                        .child("distances")
                        .map(|d| {
                            d.children_named("sibling")
                                .map(|s| (num(s, "id").unwrap_or(0), num(s, "value").unwrap_or(0)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    cpus: c
                        .child("cpus")
                        .map(|cs| {
                            cs.children_named("cpu")
                                .map(|cpu| CellCpu {
                                    id: num(cpu, "id").unwrap_or(0),
                                    socket_id: num(cpu, "socket_id"),
                                    die_id: num(cpu, "die_id"),
                                    core_id: num(cpu, "core_id"),
                                    siblings: cpu.attr_string("siblings"),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
        for s in h.children_named("secmodel") {
            host.secmodels.push(SecModel {
                model: s.child_text("model").unwrap_or_default(),
                doi: s.child_text("doi").unwrap_or_default(),
                baselabels: s
                    .children_named("baselabel")
                    .map(|b| (b.attr("type").unwrap_or("").to_string(), b.text()))
                    .collect(),
            });
        }
        Ok(host)
    }

    /// Format as `virCapabilitiesFormatXML`.
    pub fn format(&self) -> String {
        let mut o = String::from("<capabilities>\n\n");
        let h = &self.host;
        o.push_str("  <host>\n");
        if let Some(u) = h.uuid {
            o.push_str(&format!("    <uuid>{}</uuid>\n", u.hyphenated()));
        }
        o.push_str("    <cpu>\n");
        if let Some(a) = &h.arch {
            o.push_str(&format!("      <arch>{a}</arch>\n"));
        }
        if !h.cpu_features.is_empty() {
            o.push_str("      <features>\n");
            for f in &h.cpu_features {
                o.push_str(&format!("        <{f}/>\n"));
            }
            o.push_str("      </features>\n");
        }
        if let Some(m) = &h.cpu_model {
            o.push_str(&format!("      <model>{m}</model>\n"));
        }
        if let Some(v) = &h.cpu_vendor {
            o.push_str(&format!("      <vendor>{v}</vendor>\n"));
        }
        if let Some((s, d, c, t)) = h.cpu_topology {
            o.push_str(&format!(
                "      <topology sockets='{s}' dies='{d}' cores='{c}' threads='{t}'/>\n"
            ));
        }
        for f in &h.cpu_feature_names {
            o.push_str(&format!("      <feature name='{f}'/>\n"));
        }
        for p in &h.pages {
            o.push_str(&format!("      <pages unit='KiB' size='{p}'/>\n"));
        }
        o.push_str("    </cpu>\n");
        if h.power_management.is_empty() {
            o.push_str("    <power_management/>\n");
        } else {
            o.push_str("    <power_management>\n");
            for p in &h.power_management {
                o.push_str(&format!("      <{p}/>\n"));
            }
            o.push_str("    </power_management>\n");
        }
        o.push_str(&format!(
            "    <iommu support='{}'/>\n",
            if h.iommu { "yes" } else { "no" }
        ));
        if let Some(m) = &h.migration {
            o.push_str("    <migration_features>\n");
            if m.live {
                o.push_str("      <live/>\n");
            }
            if !m.uri_transports.is_empty() {
                o.push_str("      <uri_transports>\n");
                for t in &m.uri_transports {
                    o.push_str(&format!("        <uri_transport>{t}</uri_transport>\n"));
                }
                o.push_str("      </uri_transports>\n");
            }
            o.push_str("    </migration_features>\n");
        }
        if let Some(n) = &h.netprefix {
            o.push_str(&format!("    <netprefix>{n}</netprefix>\n"));
        }
        if !h.cells.is_empty() {
            o.push_str("    <topology>\n");
            o.push_str(&format!("      <cells num='{}'>\n", h.cells.len()));
            for c in &h.cells {
                o.push_str(&format!("        <cell id='{}'>\n", c.id));
                if let Some(m) = c.memory_kib {
                    o.push_str(&format!("          <memory unit='KiB'>{m}</memory>\n"));
                }
                for (size, count) in &c.pages {
                    o.push_str(&format!(
                        "          <pages unit='KiB' size='{size}'>{count}</pages>\n"
                    ));
                }
                if !c.distances.is_empty() {
                    o.push_str("          <distances>\n");
                    for (id, v) in &c.distances {
                        o.push_str(&format!("            <sibling id='{id}' value='{v}'/>\n"));
                    }
                    o.push_str("          </distances>\n");
                }
                o.push_str(&format!("          <cpus num='{}'>\n", c.cpus.len()));
                for cpu in &c.cpus {
                    o.push_str(&format!("            <cpu id='{}'", cpu.id));
                    if let Some(s) = &cpu.siblings {
                        o.push_str(&format!(
                            " socket_id='{}' die_id='{}' core_id='{}' siblings='{s}'",
                            cpu.socket_id.unwrap_or(0),
                            cpu.die_id.unwrap_or(0),
                            cpu.core_id.unwrap_or(0)
                        ));
                    }
                    o.push_str("/>\n");
                }
                o.push_str("          </cpus>\n");
                o.push_str("        </cell>\n");
            }
            o.push_str("      </cells>\n");
            o.push_str("    </topology>\n");
        }
        for s in &h.secmodels {
            o.push_str("    <secmodel>\n");
            o.push_str(&format!("      <model>{}</model>\n", s.model));
            o.push_str(&format!("      <doi>{}</doi>\n", s.doi));
            for (t, l) in &s.baselabels {
                o.push_str(&format!("      <baselabel type='{t}'>{l}</baselabel>\n"));
            }
            o.push_str("    </secmodel>\n");
        }
        o.push_str("  </host>\n\n");
        for g in &self.guests {
            o.push_str("  <guest>\n");
            o.push_str(&format!("    <os_type>{}</os_type>\n", g.os_type));
            o.push_str(&format!("    <arch name='{}'>\n", g.arch));
            o.push_str(&format!("      <wordsize>{}</wordsize>\n", g.wordsize));
            if let Some(e) = &g.emulator {
                o.push_str(&format!("      <emulator>{e}</emulator>\n"));
            }
            if let Some(l) = &g.loader {
                o.push_str(&format!("      <loader>{l}</loader>\n"));
            }
            for m in &g.machines {
                fmt_machine(m, "      ", &mut o);
            }
            for d in &g.domains {
                o.push_str(&format!("      <domain type='{}'", d.domain_type));
                if d.emulator.is_none() && d.loader.is_none() && d.machines.is_empty() {
                    o.push_str("/>\n");
                    continue;
                }
                o.push_str(">\n");
                if let Some(e) = &d.emulator {
                    o.push_str(&format!("        <emulator>{e}</emulator>\n"));
                }
                if let Some(l) = &d.loader {
                    o.push_str(&format!("        <loader>{l}</loader>\n"));
                }
                for m in &d.machines {
                    fmt_machine(m, "        ", &mut o);
                }
                o.push_str("      </domain>\n");
            }
            o.push_str("    </arch>\n");
            if !g.features.is_empty() {
                o.push_str("    <features>\n");
                for (n, attrs) in &g.features {
                    o.push_str(&format!("      <{n}"));
                    for (k, v) in attrs {
                        o.push_str(&format!(" {k}='{v}'"));
                    }
                    o.push_str("/>\n");
                }
                o.push_str("    </features>\n");
            }
            o.push_str("  </guest>\n\n");
        }
        o.push_str("</capabilities>\n");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_small() {
        let text = "<capabilities>\n\n  <host>\n    <cpu>\n      <arch>x86_64</arch>\n    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n    <migration_features>\n      <live/>\n      <uri_transports>\n        <uri_transport>tcp</uri_transport>\n      </uri_transports>\n    </migration_features>\n  </host>\n\n</capabilities>\n";
        let c = Capabilities::parse(text).unwrap();
        assert_eq!(c.format(), text);
    }
}
