//! Commands on a domain's resources and its translation to the
//! hypervisor: setmem (cmdSetmem), setmaxmem (cmdSetmaxmem), setvcpus (cmdSetvcpus), vcpucount
//! (cmdVcpucount), domxml-to-native (cmdDomXMLToNative) and
//! domcapabilities (cmdDomCapabilities), with virsh 9.0's options and output.

use super::opts::{exclusive, opt_scaled, opt_string, opt_uint, require};
use super::{about, cmd, data, flag, named_string, req_int, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use rvirt::{Domain, ErrorCode};

/// `VIR_DOMAIN_AFFECT_*` and `VIR_DOMAIN_VCPU_*`.
const AFFECT_LIVE: u32 = 1;
const AFFECT_CONFIG: u32 = 2;
const VCPU_MAXIMUM: u32 = 4;
/// `VIR_DOMAIN_MEM_MAXIMUM`.
const MEM_MAXIMUM: u32 = 4;
const VCPU_GUEST: u32 = 8;
const VCPU_HOTPLUGGABLE: u32 = 16;

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "setmem",
        about(
            "change memory allocation",
            "Change the current memory allocation in the guest domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            super::OptDef {
                aliases: &["kilobytes"],
                ..req_int("size", "new memory size, as scaled integer (default KiB)")
            },
            flag("config", "affect next boot"),
            flag("live", "affect running domain"),
            flag("current", "affect current domain"),
        ],
        setmem,
    ),
    cmd(
        "setmaxmem",
        about(
            "change maximum memory limit",
            "Change the maximum memory allocation limit in the guest domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            super::OptDef {
                aliases: &["kilobytes"],
                ..req_int(
                    "size",
                    "new maximum memory size, as scaled integer (default KiB)",
                )
            },
            flag("config", "affect next boot"),
            flag("live", "affect running domain"),
            flag("current", "affect current domain"),
        ],
        setmaxmem,
    ),
    cmd(
        "setvcpus",
        about(
            "change number of virtual CPUs",
            "Change the number of virtual CPUs in the guest domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            req_int("count", "number of virtual CPUs"),
            flag("maximum", "set maximum limit on next boot"),
            flag("config", "affect next boot"),
            flag("live", "affect running domain"),
            flag("current", "affect current domain"),
            flag("guest", "modify cpu state in the guest"),
            flag("hotpluggable", "make added vcpus hot(un)pluggable"),
        ],
        setvcpus,
    ),
    cmd(
        "vcpucount",
        about(
            "domain vcpu counts",
            "Returns the number of virtual CPUs used by the domain.",
        ),
        &[
            data("domain", "domain name, id or uuid"),
            flag("maximum", "get maximum count of vcpus"),
            flag("active", "get number of currently active vcpus"),
            flag("live", "get value from running domain"),
            flag("config", "get value to be used on next boot"),
            flag("current", "get value according to current domain state"),
            flag(
                "guest",
                "retrieve vcpu count from the guest instead of the hypervisor",
            ),
        ],
        vcpucount,
    ),
    cmd(
        "domxml-to-native",
        about(
            "Convert domain XML to native config",
            "Convert domain XML config to a native guest configuration format.",
        ),
        &[
            data("format", "target config data type format"),
            named_string("domain", "domain name, id or uuid"),
            string("xml", "xml data file to export from"),
        ],
        domxml_to_native,
    ),
    cmd(
        "domcapabilities",
        about(
            "domain capabilities",
            "Returns capabilities of emulator with respect to host and libvirt.",
        ),
        &[
            string("virttype", "virtualization type (/domain/@type)"),
            string(
                "emulatorbin",
                "path to emulator binary (/domain/devices/emulator)",
            ),
            string("arch", "domain architecture (/domain/os/type/@arch)"),
            string("machine", "machine type (/domain/os/type/@machine)"),
        ],
        domcapabilities,
    ),
];

/// The `--config`/`--live` bits given, for commands whose default (no
/// scope option) is VIR_DOMAIN_AFFECT_CURRENT (0).
fn scope(c: &ParsedCommand) -> u32 {
    let mut flags = 0;
    if c.has("config") {
        flags |= AFFECT_CONFIG;
    }
    if c.has("live") {
        flags |= AFFECT_LIVE;
    }
    flags
}

fn domain(ctl: &Ctl, c: &ParsedCommand) -> Result<Domain, CmdError> {
    ctl.lookup_domain(c.get("domain").unwrap_or_default(), BY_ANY)
}

/// cmdSetmem: without a scope option virsh asks for the live guest only.
fn setmem(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "current", "live")?;
    exclusive(c, "current", "config")?;
    let flags = if ["config", "live", "current"].iter().any(|o| c.has(o)) {
        scope(c)
    } else {
        AFFECT_LIVE
    };
    let dom = domain(ctl, c)?;
    let bytes = opt_scaled(c, "size", 1024, u64::MAX)?.unwrap_or(0);
    dom.set_memory_flags(bytes.div_ceil(1024), flags)?;
    Ok(())
}

/// cmdSetmaxmem: virDomainSetMemoryFlags with VIR_DOMAIN_MEM_MAXIMUM; the
/// size at most ULONG_MAX bytes (virsh's bound on a 64-bit host).
fn setmaxmem(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "current", "live")?;
    exclusive(c, "current", "config")?;
    let flags = scope(c) | MEM_MAXIMUM;
    let dom = domain(ctl, c)?;
    let bytes = opt_scaled(c, "size", 1024, u64::MAX)?.unwrap_or(0);
    dom.set_memory_flags(bytes.div_ceil(1024), flags)
        .map_err(|e| CmdError::with("Unable to change MaxMemorySize", e))
}

fn setvcpus(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "current", "live")?;
    exclusive(c, "current", "config")?;
    exclusive(c, "guest", "config")?;
    require(c, "maximum", "config")?;
    let mut flags = scope(c);
    for (opt, bit) in [
        ("guest", VCPU_GUEST),
        ("maximum", VCPU_MAXIMUM),
        ("hotpluggable", VCPU_HOTPLUGGABLE),
    ] {
        if c.has(opt) {
            flags |= bit;
        }
    }
    let dom = domain(ctl, c)?;
    let count = opt_uint(c, "count")?.unwrap_or(0);
    if count == 0 {
        return Err(CmdError::msg("Can't set 0 processors for a VM"));
    }
    // No option at all is virDomainSetVcpus: the live guest.
    if !c.has("current") && flags == 0 {
        flags = AFFECT_LIVE;
    }
    dom.set_vcpus_flags(count, flags)?;
    Ok(())
}

/// virshCPUCountCollect: `None` when `check_state` and the count cannot
/// exist (live of an inactive guest, config of a transient one).
fn cpu_count(dom: &Domain, flags: u32, check_state: bool) -> Result<Option<i32>, CmdError> {
    if check_state
        && ((flags & AFFECT_LIVE != 0 && dom.is_active() != Ok(true))
            || (flags & AFFECT_CONFIG != 0 && dom.is_persistent() != Ok(true)))
    {
        return Ok(None);
    }
    match dom.get_vcpus_flags(flags) {
        Ok(n) => Ok(Some(n)),
        Err(e) if flags & VCPU_GUEST != 0 && e.code == ErrorCode::NO_SUPPORT => Err(
            CmdError::with("Failed to retrieve vCPU count from the guest", e),
        ),
        Err(e) => Err(e.into()),
    }
}

fn vcpucount(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (maximum, active, guest) = (c.has("maximum"), c.has("active"), c.has("guest"));
    // Before 0.9.4 --current meant "not --maximum": alone it is ignored.
    let current = c.has("current") && (maximum || active);
    let all = !["maximum", "active", "current", "config", "live", "guest"]
        .iter()
        .any(|o| c.has(o));
    exclusive(c, "live", "config")?;
    if current {
        exclusive(c, "current", "live")?;
        exclusive(c, "current", "config")?;
    }
    exclusive(c, "active", "maximum")?;
    exclusive(c, "guest", "config")?;
    let mut flags = scope(c);
    if maximum {
        flags |= VCPU_MAXIMUM;
    }
    if guest {
        flags |= VCPU_GUEST;
    }
    let dom = domain(ctl, c)?;
    if !all {
        let count = cpu_count(&dom, flags, false)?.unwrap_or(0);
        ctl.print(&format!("{count}\n"));
        return Ok(());
    }
    let rows = [
        ("maximum", "config", AFFECT_CONFIG | VCPU_MAXIMUM),
        ("maximum", "live", AFFECT_LIVE | VCPU_MAXIMUM),
        ("current", "config", AFFECT_CONFIG),
        ("current", "live", AFFECT_LIVE),
    ];
    let mut counts = Vec::new();
    for (which, state, f) in rows {
        counts.push((which, state, cpu_count(&dom, f, true)?));
    }
    let mut out = String::new();
    for (which, state, count) in counts {
        if let Some(n) = count.filter(|n| *n > 0) {
            out.push_str(&format!("{which:<12} {state:<12} {n:3}\n"));
        }
    }
    ctl.print(&out);
    Ok(())
}

fn domxml_to_native(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let format = opt_string(c, "format")?.unwrap_or_default();
    let xml_file = opt_string(c, "xml")?;
    exclusive(c, "domain", "xml")?;
    let xml = if c.has("domain") {
        domain(ctl, c)?.get_xml_desc(0)?
    } else if let Some(path) = xml_file {
        super::lifecycle::read_file(path)?
    } else {
        return Err(CmdError::msg("need either domain or domain XML"));
    };
    let native = ctl.conn()?.domain_xml_to_native(format, &xml, 0)?;
    ctl.print(&native);
    Ok(())
}

fn domcapabilities(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let opt = |name| opt_string(c, name);
    let (virttype, emulator, arch, machine) = (
        opt("virttype")?,
        opt("emulatorbin")?,
        opt("arch")?,
        opt("machine")?,
    );
    let caps = ctl
        .conn()?
        .get_domain_capabilities(emulator, arch, machine, virttype, 0)
        .map_err(|e| CmdError::with("failed to get emulator capabilities", e))?;
    ctl.print(&format!("{caps}\n"));
    Ok(())
}
