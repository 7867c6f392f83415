//! IOThread commands with virsh 9.0's options, output and errors:
//! iothreadinfo (cmdIOThreadInfo), iothreadpin (cmdIOThreadPin),
//! iothreadadd (cmdIOThreadAdd), iothreadset (cmdIOThreadSet),
//! iothreaddel (cmdIOThreadDel); and inject-nmi (cmdInjectNMI).

use super::opts::{opt_int, opt_uint, opt_ull};
use super::tuning::{domain, format_map, host_cpu_count, parse_cpulist, scope};
use super::{about, cmd, data, flag, int, req_int, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt_util::{TypedParamValue as V, TypedParams};

const CONFIG: OptDef = flag("config", "affect next boot");
const LIVE: OptDef = flag("live", "affect running domain");
const CURRENT: OptDef = flag("current", "affect current domain");
const DOMAIN: OptDef = data("domain", "domain name, id or uuid");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "iothreadinfo",
        about(
            "view domain IOThreads",
            "Returns basic information about the domain IOThreads.",
        ),
        &[DOMAIN, CONFIG, LIVE, CURRENT],
        iothreadinfo,
    ),
    cmd(
        "iothreadpin",
        about(
            "control domain IOThread affinity",
            "Pin domain IOThreads to host physical CPUs.",
        ),
        &[
            DOMAIN,
            req_int("iothread", "IOThread ID number"),
            data("cpulist", "host cpu number(s) to set"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        iothreadpin,
    ),
    cmd(
        "iothreadadd",
        about(
            "add an IOThread to the guest domain",
            "Add an IOThread to the guest domain.",
        ),
        &[
            DOMAIN,
            req_int("id", "iothread for the new IOThread"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        iothreadadd,
    ),
    cmd(
        "iothreadset",
        about(
            "modifies an existing IOThread of the guest domain",
            "Modifies an existing IOThread of the guest domain.",
        ),
        &[
            DOMAIN,
            req_int("id", "iothread id of existing IOThread"),
            int("poll-max-ns", "set the maximum IOThread polling time in ns"),
            int(
                "poll-grow",
                "set the value to increase the IOThread polling time",
            ),
            int(
                "poll-shrink",
                "set the value for reduction of the IOThread polling time",
            ),
            int("thread-pool-min", "lower boundary for worker thread pool"),
            int("thread-pool-max", "upper boundary for worker thread pool"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        iothreadset,
    ),
    cmd(
        "iothreaddel",
        about(
            "delete an IOThread from the guest domain",
            "Delete an IOThread from the guest domain.",
        ),
        &[
            DOMAIN,
            req_int("id", "iothread_id for the IOThread to delete"),
            CONFIG,
            LIVE,
            CURRENT,
        ],
        iothreaddel,
    ),
    cmd(
        "inject-nmi",
        about("Inject NMI to the guest", "Inject NMI to the guest domain."),
        &[DOMAIN],
        inject_nmi,
    ),
];

fn iothreadinfo(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    let threads = dom
        .get_iothread_info(flags)
        .map_err(|e| CmdError::with("Unable to get domain IOThreads information", e))?;
    if threads.is_empty() {
        ctl.print_extra("No IOThreads found for the domain");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = threads
        .iter()
        .map(|(id, map)| vec![id.to_string(), format_map(map)])
        .collect();
    ctl.print(&crate::table::render(
        &["IOThread ID", "CPU Affinity"],
        &rows,
    ));
    Ok(())
}

fn iothreadpin(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    let id = opt_uint(c, "iothread")?.unwrap_or(0);
    let list = c.get("cpulist").unwrap_or_default();
    let map = parse_cpulist(list, host_cpu_count(ctl)?)?;
    dom.pin_iothread(id, &map, flags)?;
    Ok(())
}

/// The `id` option of add, set and delete: a positive number.
fn iothread_id(c: &ParsedCommand) -> Result<u32, CmdError> {
    let id = opt_int(c, "id")?.unwrap_or(0);
    u32::try_from(id)
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| CmdError::msg(format!("Invalid IOThread id value: '{id}'")))
}

fn iothreadadd(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    dom.add_iothread(iothread_id(c)?, flags)?;
    Ok(())
}

fn iothreaddel(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    dom.del_iothread(iothread_id(c)?, flags)?;
    Ok(())
}

fn iothreadset(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = scope(c)?;
    let dom = domain(ctl, c)?;
    let id = iothread_id(c)?;
    let mut params = TypedParams::new();
    if let Some(v) = opt_ull(c, "poll-max-ns")? {
        params.push("poll_max_ns", V::ULLong(v));
    }
    for (opt, field) in [("poll-grow", "poll_grow"), ("poll-shrink", "poll_shrink")] {
        if let Some(v) = opt_uint(c, opt)? {
            params.push(field, V::UInt(v));
        }
    }
    for (opt, field) in [
        ("thread-pool-min", "thread_pool_min"),
        ("thread-pool-max", "thread_pool_max"),
    ] {
        if let Some(v) = opt_int(c, opt)? {
            params.push(field, V::Int(v));
        }
    }
    if params.is_empty() {
        return Err(CmdError::msg("Not enough arguments passed, nothing to set"));
    }
    dom.set_iothread_params(id, &params, flags)?;
    Ok(())
}

fn inject_nmi(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    domain(ctl, c)?.inject_nmi(0)?;
    Ok(())
}
