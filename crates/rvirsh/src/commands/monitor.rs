//! Domain monitoring commands with virsh 9.0's options, output and errors
//! (virsh-domain-monitor.c): domblkstat (cmdDomblkstat), domifstat
//! (cmdDomIfstat), domcontrol (cmdDomControl), domblkerror
//! (cmdDomBlkError).

use super::opts::opt_string;
use super::{about, cmd, data, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use rvirt::Domain;

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "domblkstat",
        about(
            "get device block stats for a domain",
            "Get device block stats for a running domain. See man page or use --human \
             for explanation of fields",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            string("device", "block device"),
            flag("human", "print a more human readable output"),
        ],
        domblkstat,
    ),
    cmd(
        "domifstat",
        about(
            "get network interface stats for a domain",
            "Get network interface stats for a running domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            data(
                "interface",
                "interface device specified by name or MAC Address",
            ),
        ],
        domifstat,
    ),
    cmd(
        "domcontrol",
        about(
            "domain control interface state",
            "Returns state of a control interface to the domain.",
        ),
        &[data("domain", "domain name, id or uuid")],
        domcontrol,
    ),
    cmd(
        "domblkerror",
        about("Show errors on block devices", "Show block device errors"),
        &[data("domain", "domain name, id or uuid")],
        domblkerror,
    ),
];

/// The domain and the name it was asked for by (virshCommandOptDomain).
fn domain<'a>(ctl: &Ctl, c: &'a ParsedCommand) -> Result<(Domain, &'a str), CmdError> {
    let name = c.get("domain").unwrap_or_default();
    Ok((ctl.lookup_domain(name, BY_ANY)?, name))
}

/// domblkstat_output's legacy and human spellings of the five fields
/// virDomainBlockStats reports, in its order.
const BLOCK_FIELDS: [(&str, &str); 5] = [
    ("rd_req", "number of read operations:"),
    ("rd_bytes", "number of bytes read:"),
    ("wr_req", "number of write operations:"),
    ("wr_bytes", "number of bytes written:"),
    ("errs", "error count:"),
];

/// rvirt has virDomainBlockStats only, so this is virsh's path for a
/// driver without virDomainBlockStatsFlags (libvirt's test driver too).
fn domblkstat(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let human = c.has("human");
    let (dom, name) = domain(ctl, c)?;
    // VSH_OFLAG_EMPTY_OK: an empty device asks for all of them.
    let device = c.get("device").unwrap_or_default();
    let stats = dom
        .block_stats(device)
        .map_err(|e| CmdError::with(format!("Failed to get block stats {name} {device}"), e))?;
    let mut out = String::new();
    let device = if human {
        out.push_str(&format!("Device: {device}\n"));
        ""
    } else {
        device
    };
    let values = [
        stats.rd_req,
        stats.rd_bytes,
        stats.wr_req,
        stats.wr_bytes,
        stats.errs,
    ];
    for ((legacy, words), value) in BLOCK_FIELDS.iter().zip(values) {
        if value < 0 {
            continue;
        }
        if human {
            out.push_str(&format!("{device} {words:<31} {value}\n"));
        } else {
            out.push_str(&format!("{device} {legacy} {value}\n"));
        }
    }
    ctl.print(&out);
    Ok(())
}

fn domifstat(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (dom, name) = domain(ctl, c)?;
    let device = opt_string(c, "interface")?.unwrap_or_default();
    let s = dom
        .interface_stats(device)
        .map_err(|e| CmdError::with(format!("Failed to get interface stats {name} {device}"), e))?;
    let fields = [
        ("rx_bytes", s.rx_bytes),
        ("rx_packets", s.rx_packets),
        ("rx_errs", s.rx_errs),
        ("rx_drop", s.rx_drop),
        ("tx_bytes", s.tx_bytes),
        ("tx_packets", s.tx_packets),
        ("tx_errs", s.tx_errs),
        ("tx_drop", s.tx_drop),
    ];
    let out: String = fields
        .iter()
        .filter(|(_, v)| *v >= 0)
        .map(|(field, v)| format!("{device} {field} {v}\n"))
        .collect();
    ctl.print(&out);
    Ok(())
}

/// virshDomainControlState.
const CONTROL_STATES: [&str; 4] = ["ok", "background job", "occupied", "error"];
/// virshDomainControlErrorReason.
const CONTROL_ERRORS: [&str; 4] = ["", "unknown", "monitor failure", "internal (locking) error"];
/// VIR_DOMAIN_CONTROL_OK and VIR_DOMAIN_CONTROL_ERROR.
const CONTROL_OK: u32 = 0;
const CONTROL_ERROR: u32 = 3;

fn domcontrol(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (dom, _) = domain(ctl, c)?;
    let (state, details, millis) = dom.get_control_info(0)?;
    let state_text = CONTROL_STATES.get(state as usize).unwrap_or(&"unknown");
    let line = match state {
        CONTROL_OK => format!("{state_text}\n"),
        CONTROL_ERROR if details > 0 => {
            let why = CONTROL_ERRORS.get(details as usize).unwrap_or(&"unknown");
            format!("{state_text}: {why}\n")
        }
        CONTROL_ERROR => format!("{state_text}\n"),
        _ => format!("{state_text} ({:.3}s)\n", millis as f64 / 1000.0),
    };
    ctl.print(&line);
    Ok(())
}

/// virshDomainIOError.
const IO_ERRORS: [&str; 3] = ["no error", "unspecified error", "no space"];

fn domblkerror(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (dom, _) = domain(ctl, c)?;
    let (_, count) = dom.get_disk_errors(0, 0)?;
    let errors = if count > 0 {
        dom.get_disk_errors(count as u32, 0)?.0
    } else {
        Vec::new()
    };
    if errors.is_empty() {
        ctl.print("No errors found\n");
        return Ok(());
    }
    let out: String = errors
        .iter()
        .map(|(disk, err)| {
            let text = usize::try_from(*err)
                .ok()
                .and_then(|e| IO_ERRORS.get(e))
                .unwrap_or(&"unknown error");
            format!("{disk}: {text}\n")
        })
        .collect();
    ctl.print(&out);
    Ok(())
}
