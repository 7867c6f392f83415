//! Domain information commands: dominfo, domstate, domid, domname, domuuid,
//! domhostname, dumpxml.

use super::states::{reason_name, state_name};
use super::{about, cmd, data, flag, named_string, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY, BY_ID, BY_NAME, BY_UUID};
use rvirt::{flags, ErrorCode};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "dominfo",
        about(
            "domain information",
            "Returns basic information about the domain.",
        ),
        &[data("domain", "domain name, id or uuid")],
        dominfo,
    ),
    cmd(
        "domstate",
        about("domain state", "Returns state about a domain."),
        &[
            data("domain", "domain name, id or uuid"),
            flag("reason", "also print reason for the state"),
        ],
        domstate,
    ),
    cmd(
        "domid",
        about("convert a domain name or UUID to domain id", ""),
        &[data("domain", "domain name or uuid")],
        domid,
    ),
    cmd(
        "domname",
        about("convert a domain id or UUID to domain name", ""),
        &[data("domain", "domain id or uuid")],
        domname,
    ),
    cmd(
        "domuuid",
        about("convert a domain name or id to domain UUID", ""),
        &[data("domain", "domain id or name")],
        domuuid,
    ),
    cmd(
        "domhostname",
        about("print the domain's hostname", ""),
        &[
            data("domain", "domain name, id or uuid"),
            string("source", "address source: 'lease' or 'agent'"),
        ],
        domhostname,
    ),
    cmd(
        "dumpxml",
        about(
            "domain information in XML",
            "Output the domain information as an XML dump to stdout.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag("inactive", "show inactive defined XML"),
            flag(
                "security-info",
                "include security sensitive information in XML dump",
            ),
            flag("update-cpu", "update guest CPU according to host CPU"),
            flag("migratable", "provide XML suitable for migrations"),
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        dumpxml,
    ),
];

fn domain_arg(c: &ParsedCommand) -> &str {
    c.get("domain").unwrap_or_default()
}

fn line(out: &mut String, key: &str, value: impl std::fmt::Display) {
    out.push_str(&format!("{key:<15} {value}\n"));
}

fn yes_no(v: rvirt::Result<bool>) -> &'static str {
    match v {
        Ok(true) => "yes",
        Ok(false) => "no",
        Err(_) => "unknown",
    }
}

/// cmdDominfo: printed line by line as virsh does, so a later failure still
/// shows what was gathered.
fn dominfo(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let mut out = String::new();
    match dom.id() {
        Some(id) => line(&mut out, "Id:", id),
        None => line(&mut out, "Id:", "-"),
    }
    line(&mut out, "Name:", dom.name());
    line(&mut out, "UUID:", dom.uuid_string());
    if let Ok(os) = dom.get_os_type() {
        line(&mut out, "OS Type:", os);
    }
    let info = dom.get_info();
    if let Ok(info) = &info {
        line(&mut out, "State:", state_name(info.state));
        line(&mut out, "CPU(s):", info.nr_virt_cpu);
        if info.cpu_time != 0 {
            line(
                &mut out,
                "CPU time:",
                format!("{:.1}s", info.cpu_time as f64 / 1e9),
            );
        }
        line(&mut out, "Max memory:", format!("{} KiB", info.max_mem));
        line(&mut out, "Used memory:", format!("{} KiB", info.memory));
    }
    line(&mut out, "Persistent:", yes_no(dom.is_persistent()));
    if let Ok(autostart) = dom.get_autostart() {
        line(
            &mut out,
            "Autostart:",
            if autostart { "enable" } else { "disable" },
        );
    }
    line(
        &mut out,
        "Managed save:",
        yes_no(dom.has_managed_save_image(0)),
    );
    let mut result = info.map(|_| ()).map_err(Into::into);
    match ctl.conn()?.node_get_security_model() {
        Ok(model) if !model.model.is_empty() => {
            line(&mut out, "Security model:", &model.model);
            line(&mut out, "Security DOI:", &model.doi);
            match dom.get_security_label() {
                Ok(label) if !label.label.is_empty() => {
                    let mode = if label.enforcing {
                        "enforcing"
                    } else {
                        "permissive"
                    };
                    line(
                        &mut out,
                        "Security label:",
                        format!("{} ({mode})", label.label),
                    );
                }
                Ok(_) => {}
                Err(e) => result = Err(e.into()),
            }
        }
        Ok(_) => {}
        Err(e) if e.code == ErrorCode::NO_SUPPORT => {}
        Err(e) => result = Err(e.into()),
    }
    ctl.print(&out);
    result
}

fn domstate(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let (state, reason) = dom.get_state()?;
    if c.has("reason") {
        ctl.print(&format!(
            "{} ({})\n",
            state_name(state),
            reason_name(state, reason)
        ));
    } else {
        ctl.print(&format!("{}\n", state_name(state)));
    }
    Ok(())
}

fn domid(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_NAME | BY_UUID)?;
    match dom.id() {
        Some(id) => ctl.print(&format!("{id}\n")),
        None => ctl.print("-\n"),
    }
    Ok(())
}

fn domname(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ID | BY_UUID)?;
    ctl.print(&format!("{}\n", dom.name()));
    Ok(())
}

/// virsh's cmdDomHostname: `--source` picks VIR_DOMAIN_GET_HOSTNAME_LEASE
/// or _AGENT; without it the driver chooses.
fn domhostname(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let flags = match c.get("source") {
        None => 0,
        Some("lease") => 1,
        Some("agent") => 2,
        Some(other) => return Err(CmdError::msg(format!("Unknown data source '{other}'"))),
    };
    let hostname = dom
        .get_hostname(flags)
        .map_err(|e| CmdError::with("failed to get hostname", e))?;
    ctl.print(&format!("{hostname}\n"));
    Ok(())
}

fn domuuid(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_NAME | BY_ID)?;
    ctl.print(&format!("{}\n", dom.uuid_string()));
    Ok(())
}

fn dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let mut f = 0;
    for (opt, bit) in [
        ("inactive", flags::xml::INACTIVE),
        ("security-info", flags::xml::SECURE),
        ("update-cpu", flags::xml::UPDATE_CPU),
        ("migratable", flags::xml::MIGRATABLE),
    ] {
        if c.has(opt) {
            f |= bit;
        }
    }
    let xml = dom.get_xml_desc(f)?;
    super::snapshot::dump_xml(ctl, &xml, "domain", c.get("xpath"), c.has("wrap"))
}
