//! Statistics commands: dommemstat (cmdDomMemStat) and domstats
//! (cmdDomstats), with virsh 9.0's options and output.

use super::{about, argv, cmd, flag, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use rvirt::flags;
use rvirt::types::memory_stat;
use rvirt_util::TypedParamValue as V;

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "dommemstat",
        about(
            "get memory statistics for a domain",
            "Get memory statistics for a running domain.",
        ),
        &[
            super::data("domain", "domain name, id or uuid"),
            flag("config", "affect next boot"),
            flag("live", "affect running domain"),
            flag("current", "affect current domain"),
        ],
        dommemstat,
    ),
    cmd(
        "domstats",
        about(
            "get statistics about one or multiple domains",
            "Gets statistics about one or more (or all) domains",
        ),
        &[
            flag("state", "report domain state"),
            flag("cpu-total", "report domain physical cpu usage"),
            flag("balloon", "report domain balloon statistics"),
            flag("vcpu", "report domain virtual cpu information"),
            flag("interface", "report domain network interface information"),
            flag("block", "report domain block device statistics"),
            flag("perf", "report domain perf event statistics"),
            flag("iothread", "report domain IOThread information"),
            flag("memory", "report domain memory usage"),
            flag("dirtyrate", "report domain dirty rate information"),
            flag("vm", "report hypervisor-specific statistics"),
            flag("list-active", "list only active domains"),
            flag("list-inactive", "list only inactive domains"),
            flag("list-persistent", "list only persistent domains"),
            flag("list-transient", "list only transient domains"),
            flag("list-running", "list only running domains"),
            flag("list-paused", "list only paused domains"),
            flag("list-shutoff", "list only shutoff domains"),
            flag("list-other", "list only domains in other states"),
            flag("raw", "do not pretty-print the fields"),
            flag("enforce", "enforce requested stats parameters"),
            flag("backing", "add backing chain information to block stats"),
            flag("nowait", "report only stats that are accessible instantly"),
            argv("domain", "list of domains to get stats for"),
        ],
        domstats,
    ),
];

/// Without `--period` (virDomainSetMemoryStatsPeriod is not in rvirt's
/// API), the scope options change nothing, as in virsh.
fn dommemstat(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    super::opts::exclusive(c, "current", "live")?;
    super::opts::exclusive(c, "current", "config")?;
    let name = c.get("domain").unwrap_or_default();
    let dom = ctl.lookup_domain(name, BY_ANY)?;
    let stats = dom
        .memory_stats(memory_stat::NAMES.len() as u32, 0)
        .map_err(|e| {
            CmdError::with(
                format!("Failed to get memory statistics for domain {name}"),
                e,
            )
        })?;
    let mut out = String::new();
    for (tag, value) in stats {
        if let Some(stat) = usize::try_from(tag)
            .ok()
            .and_then(|t| memory_stat::NAMES.get(t))
        {
            out.push_str(&format!("{stat} {value}\n"));
        }
    }
    ctl.print(&out);
    Ok(())
}

/// The group options in `VIR_DOMAIN_STATS_*` bit order.
const GROUPS: [&str; 11] = [
    "state",
    "cpu-total",
    "balloon",
    "vcpu",
    "interface",
    "block",
    "perf",
    "iothread",
    "memory",
    "dirtyrate",
    "vm",
];

/// The filter options with their `VIR_CONNECT_GET_ALL_DOMAINS_STATS_*` bit.
const FILTERS: [(&str, u32); 11] = [
    ("list-active", flags::list::ACTIVE),
    ("list-inactive", flags::list::INACTIVE),
    ("list-persistent", flags::list::PERSISTENT),
    ("list-transient", flags::list::TRANSIENT),
    ("list-running", flags::list::RUNNING),
    ("list-paused", flags::list::PAUSED),
    ("list-shutoff", flags::list::SHUTOFF),
    ("list-other", flags::list::OTHER),
    ("enforce", 1 << 31),
    ("backing", 1 << 30),
    ("nowait", 1 << 29),
];

/// vshGetTypedParamValue: numbers in C's formats, booleans as yes/no.
pub(super) fn param_text(v: &V) -> String {
    match v {
        V::Double(d) => format!("{d:.6}"),
        V::Boolean(b) => if *b { "yes" } else { "no" }.to_string(),
        other => super::jobs::typed_value_text(other),
    }
}

fn domstats(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let stats = GROUPS
        .iter()
        .enumerate()
        .filter(|(_, g)| c.has(g))
        .fold(0, |acc, (bit, _)| acc | 1 << bit);
    let list_flags = FILTERS
        .iter()
        .filter(|(o, _)| c.has(o))
        .fold(0, |acc, (_, bit)| acc | bit);
    let doms = c
        .argv
        .iter()
        .map(|d| ctl.lookup_domain(d, BY_ANY))
        .collect::<Result<Vec<_>, _>>()?;
    let records = ctl.conn()?.get_all_domain_stats(&doms, stats, list_flags)?;
    let mut out = String::new();
    for (i, (dom, params)) in records.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("Domain: '{}'\n", dom.name()));
        for p in params.iter() {
            out.push_str(&format!("  {}={}\n", p.field, param_text(&p.value)));
        }
    }
    ctl.print(&out);
    Ok(())
}
