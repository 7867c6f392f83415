//! Host commands: uri, hostname, version, nodeinfo, capabilities, maxvcpus,
//! nodecpumap (cmdNodeCpuMap).

use super::{about, cmd, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "uri",
        about("print the hypervisor canonical URI", ""),
        &[],
        uri,
    ),
    cmd(
        "hostname",
        about("print the hypervisor hostname", ""),
        &[],
        hostname,
    ),
    cmd(
        "version",
        about("show version", "Display the system version information."),
        &[flag("daemon", "report daemon version too")],
        version,
    ),
    cmd(
        "nodeinfo",
        about(
            "node information",
            "Returns basic information about the node.",
        ),
        &[],
        nodeinfo,
    ),
    cmd(
        "capabilities",
        about("capabilities", "Returns capabilities of hypervisor/driver."),
        &[],
        capabilities,
    ),
    cmd(
        "maxvcpus",
        about(
            "connection vcpu maximum",
            "Show maximum number of virtual CPUs for guests on this connection.",
        ),
        &[string("type", "domain type")],
        maxvcpus,
    ),
    cmd(
        "nodecpumap",
        about(
            "node cpu map",
            "Displays the node's total number of CPUs, the number of online CPUs and the \
             list of online CPUs.",
        ),
        &[flag("pretty", "return human readable output")],
        nodecpumap,
    ),
];

fn uri(ctl: &mut Ctl, _: &ParsedCommand) -> CmdResult {
    let uri = ctl.conn()?.get_uri()?;
    ctl.print(&format!("{uri}\n"));
    Ok(())
}

fn hostname(ctl: &mut Ctl, _: &ParsedCommand) -> CmdResult {
    let name = ctl.conn()?.get_hostname()?;
    ctl.print(&format!("{name}\n"));
    Ok(())
}

fn version_text(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v / 1000) % 1000, v % 1000)
}

fn version(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let conn = ctl.conn()?;
    let lib = rvirt::LIB_VERSION;
    let kind = conn.get_type()?;
    let mut out = format!(
        "Compiled against library: libvirt {}\nUsing library: libvirt {}\nUsing API: {} {}\n",
        version_text(lib),
        version_text(lib),
        kind,
        version_text(lib)
    );
    let hv = conn.get_version()?;
    if hv != 0 {
        out.push_str(&format!(
            "Running hypervisor: {} {}\n",
            kind,
            version_text(hv)
        ));
    }
    if c.has("daemon") {
        out.push_str(&format!(
            "Running against daemon: {}\n",
            version_text(conn.get_lib_version()?)
        ));
    }
    ctl.print(&out);
    Ok(())
}

fn nodeinfo(ctl: &mut Ctl, _: &ParsedCommand) -> CmdResult {
    let info = ctl.conn()?.node_get_info()?;
    let lines = [
        ("CPU model:", info.model.clone()),
        ("CPU(s):", info.cpus.to_string()),
        ("CPU frequency:", format!("{} MHz", info.mhz)),
        ("CPU socket(s):", info.sockets.to_string()),
        ("Core(s) per socket:", info.cores.to_string()),
        ("Thread(s) per core:", info.threads.to_string()),
        ("NUMA cell(s):", info.nodes.to_string()),
        ("Memory size:", format!("{} KiB", info.memory)),
    ];
    let out: String = lines
        .iter()
        .map(|(k, v)| format!("{k:<20} {v}\n"))
        .collect();
    ctl.print(&out);
    Ok(())
}

fn capabilities(ctl: &mut Ctl, _: &ParsedCommand) -> CmdResult {
    let caps = ctl.conn()?.get_capabilities()?;
    ctl.print(&format!("{caps}\n"));
    Ok(())
}

/// cmdMaxvcpus: `<vcpu max>` of the domain capabilities, else
/// virConnectGetMaxVcpus.
fn maxvcpus(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let virttype = super::opts::opt_string(c, "type")?;
    let conn = ctl.conn()?;
    let from_caps = match conn.get_domain_capabilities(None, None, None, virttype, 0) {
        Ok(caps) => {
            let doc =
                rvirt_conf::xml::parse(&caps, "(domainCapabilities)", rvirt::ErrorDomain::NONE)?;
            doc.child("vcpu")
                .and_then(|v| v.attr("max"))
                .and_then(super::opts::str_to_i32)
                .filter(|n| *n >= 0)
        }
        Err(_) => None,
    };
    let vcpus = match from_caps {
        Some(n) => n,
        None => conn.get_max_vcpus(virttype)?,
    };
    ctl.print(&format!("{vcpus}\n"));
    Ok(())
}

fn nodecpumap(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (count, map, online) = ctl
        .conn()?
        .node_get_cpu_map(0)
        .map_err(|e| CmdError::with("Unable to get cpu map", e))?;
    let cpus = count.max(0) as usize;
    let used = |i: usize| map.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
    let shown = if c.has("pretty") {
        let len = cpus.div_ceil(8).min(map.len());
        super::tuning::format_map(&map[..len])
    } else {
        (0..cpus).map(|i| if used(i) { 'y' } else { '-' }).collect()
    };
    ctl.print(&format!(
        "{:<15} {count}\n{:<15} {online}\n{:<15} {shown}\n",
        "CPUs present:", "CPUs online:", "CPU map:"
    ));
    Ok(())
}
