//! Commands that change a domain: define, undefine, create, start, shutdown,
//! destroy, suspend, resume, reboot, reset, autostart.

use super::{about, cmd, data, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY, BY_NAME, BY_UUID};
use rvirt::{flags, Connect, Domain, Error, ErrorDomain};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
"define",
about("define (but don't start) a domain from an XML file", "Define a domain."), &[data("file", "file containing an XML domain description"), flag("validate", "validate the XML against the schema")], define),
    cmd(
"undefine",
about("undefine a domain", "Undefine an inactive domain, or convert persistent to transient."),
        &[
            data("domain", "domain name, id or uuid"),
            flag("managed-save", "remove domain managed state file"),
            flag("snapshots-metadata", "remove all domain snapshot metadata (vm must be inactive)"),
            flag("checkpoints-metadata", "remove all domain checkpoint metadata (vm must be inactive)"),
            flag("nvram", "remove nvram file"),
            flag("keep-nvram", "keep nvram file"),
            flag("tpm", "remove TPM state"),
            flag("keep-tpm", "keep TPM state"),
        ],
        undefine,
    ),
    cmd(
"create",
about("create a domain from an XML file", "Create a domain."),
        &[data("file", "file containing an XML domain description"), flag("paused", "leave the guest paused after creation"), flag("validate", "validate the XML against the schema")],
        create,
    ),
    cmd(
"start",
about("start a (previously defined) inactive domain", "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no managedsave state\n    is present."),
        &[data("domain", "name of the inactive domain"), flag("paused", "leave the guest paused after creation"), flag("force-boot", "force fresh boot by discarding any managed save")],
        start,
    ),
    cmd(
"shutdown",
about("gracefully shutdown a domain", "Run shutdown in the target domain."), &[data("domain", "domain name, id or uuid"), string("mode", "shutdown mode: acpi|agent|initctl|signal|paravirt")], shutdown),
    cmd(
"destroy",
about("destroy (stop) a domain", "Forcefully stop a given domain, but leave its resources intact."), &[data("domain", "domain name, id or uuid"), flag("graceful", "terminate gracefully")], destroy),
    cmd(
"suspend",
about("suspend a domain", "Suspend a running domain."), &[data("domain", "domain name, id or uuid")], suspend),
    cmd(
"resume",
about("resume a domain", "Resume a previously suspended domain."), &[data("domain", "domain name, id or uuid")], resume),
    cmd(
"reboot",
about("reboot a domain", "Run a reboot command in the target domain."), &[data("domain", "domain name, id or uuid"), string("mode", "shutdown mode: acpi|agent|initctl|signal|paravirt")], reboot),
    cmd(
"reset",
about("reset a domain", "Reset the target domain as if by power button"), &[data("domain", "domain name, id or uuid")], reset),
    cmd(
"autostart",
about("autostart a domain", "Configure a domain to be automatically started at boot."), &[data("domain", "domain name, id or uuid"), flag("disable", "disable autostarting")], autostart),
];

/// virsh's VSH_MAX_XML_FILE: 10 MiB.
const MAX_XML_FILE: u64 = 10 * 1024 * 1024;

/// virFileReadAll with libvirt's error texts.
pub(crate) fn read_file(path: &str) -> Result<String, CmdError> {
    let open_err = |e: std::io::Error| {
        Error::system(
            ErrorDomain::NONE,
            format!("Failed to open file '{path}'"),
            &e,
        )
    };
    let meta = std::fs::metadata(path).map_err(open_err)?;
    if meta.len() > MAX_XML_FILE {
        return Err(Error::new(
            ErrorDomain::NONE,
            rvirt::ErrorCode::INTERNAL_ERROR,
            format!("File '{path}' is too large"),
        )
        .into());
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Error::system(
            ErrorDomain::NONE,
            format!("Failed to read file '{path}'"),
            &e,
        )
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn flags_from(c: &ParsedCommand, table: &[(&str, u32)]) -> u32 {
    table
        .iter()
        .filter(|(opt, _)| c.has(opt))
        .fold(0, |acc, (_, bit)| acc | bit)
}

fn domain_arg(c: &ParsedCommand) -> &str {
    c.get("domain").unwrap_or_default()
}

/// virsh's shape for a command that makes one call on a domain: look it
/// up, call, and either fail with `Failed to VERB domain 'NAME'` or print
/// `Domain 'NAME' DONE`.
fn act_on_domain(
    ctl: &mut Ctl,
    name: &str,
    (verb, done): (&str, &str),
    act: impl FnOnce(&mut Domain) -> rvirt::Result<()>,
) -> CmdResult {
    let mut dom = ctl.lookup_domain(name, BY_ANY)?;
    act(&mut dom).map_err(|e| CmdError::with(format!("Failed to {verb} domain '{name}'"), e))?;
    ctl.print_extra(&format!("Domain '{name}' {done}\n"));
    Ok(())
}

fn define(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = flags_from(c, &[("validate", flags::define::VALIDATE)]);
    from_file(ctl, c, ("define", "defined"), |conn, xml| {
        conn.define_xml(xml, f)
    })
}

fn create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = flags_from(
        c,
        &[
            ("paused", flags::create::PAUSED),
            ("validate", flags::create::VALIDATE),
        ],
    );
    from_file(ctl, c, ("create", "created"), |conn, xml| {
        conn.create_xml(xml, f)
    })
}

/// define and create: hand the document in `--file` to `make` and report
/// as virsh does (`verb` for the failure, `done` for the success line).
fn from_file(
    ctl: &mut Ctl,
    c: &ParsedCommand,
    (verb, done): (&str, &str),
    make: impl FnOnce(&Connect, &str) -> Result<Domain, Error>,
) -> CmdResult {
    let file = c.get("file").unwrap_or_default();
    let xml = read_file(file)?;
    let dom = make(ctl.conn()?, &xml)
        .map_err(|e| CmdError::with(format!("Failed to {verb} domain from {file}"), e))?;
    ctl.print_extra(&format!("Domain '{}' {done} from {file}\n", dom.name()));
    Ok(())
}

fn undefine(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = flags_from(
        c,
        &[
            ("managed-save", flags::undefine::MANAGED_SAVE),
            ("snapshots-metadata", flags::undefine::SNAPSHOTS_METADATA),
            (
                "checkpoints-metadata",
                flags::undefine::CHECKPOINTS_METADATA,
            ),
            ("nvram", flags::undefine::NVRAM),
            ("keep-nvram", flags::undefine::KEEP_NVRAM),
            ("tpm", flags::undefine::TPM),
            ("keep-tpm", flags::undefine::KEEP_TPM),
        ],
    );
    act_on_domain(
        ctl,
        domain_arg(c),
        ("undefine", "has been undefined"),
        |d| d.undefine(f),
    )
}

fn start(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = domain_arg(c);
    let mut dom = ctl.lookup_domain(name, BY_NAME | BY_UUID)?;
    if dom.id().is_some() {
        return Err(CmdError::msg("Domain is already active"));
    }
    let f = flags_from(
        c,
        &[
            ("paused", flags::create::PAUSED),
            ("force-boot", flags::create::FORCE_BOOT),
        ],
    );
    dom.create(f)
        .map_err(|e| CmdError::with(format!("Failed to start domain '{name}'"), e))?;
    ctl.print_extra(&format!("Domain '{name}' started\n"));
    Ok(())
}

/// virsh's `--mode` for shutdown and reboot: acpi, agent, initctl, signal, paravirt.
fn mode_flags(c: &ParsedCommand) -> Result<u32, CmdError> {
    let Some(modes) = c.get("mode") else {
        return Ok(0);
    };
    let mut f = 0;
    for mode in modes.split(',') {
        f |= match mode {
            "acpi" => 1,
            "agent" => 2,
            "initctl" => 4,
            "signal" => 8,
            "paravirt" => 16,
            other => {
                return Err(CmdError::msg(format!("Unknown mode {other} value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'")))
            }
        };
    }
    Ok(f)
}

fn shutdown(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = mode_flags(c)?;
    act_on_domain(ctl, domain_arg(c), ("shutdown", "is being shutdown"), |d| {
        d.shutdown(f)
    })
}

fn reboot(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = mode_flags(c)?;
    act_on_domain(ctl, domain_arg(c), ("reboot", "is being rebooted"), |d| {
        d.reboot(f)
    })
}

fn reset(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act_on_domain(ctl, domain_arg(c), ("reset", "was reset"), |d| d.reset(0))
}

fn destroy(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let f = flags_from(c, &[("graceful", 1)]);
    act_on_domain(ctl, domain_arg(c), ("destroy", "destroyed"), |d| {
        d.destroy(f)
    })
}

fn suspend(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act_on_domain(ctl, domain_arg(c), ("suspend", "suspended"), |d| {
        d.suspend()
    })
}

fn resume(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act_on_domain(ctl, domain_arg(c), ("resume", "resumed"), |d| d.resume())
}

fn autostart(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let name = domain_arg(c);
    let dom = ctl.lookup_domain(name, BY_ANY)?;
    let enable = !c.has("disable");
    dom.set_autostart(enable).map_err(|e| {
        let what = if enable { "mark" } else { "unmark" };
        CmdError::with(
            format!("Failed to {what} domain '{name}' as autostarted"),
            e,
        )
    })?;
    let what = if enable { "marked" } else { "unmarked" };
    ctl.print_extra(&format!("Domain '{name}' {what} as autostarted\n"));
    Ok(())
}
