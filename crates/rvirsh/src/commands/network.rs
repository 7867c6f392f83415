//! virsh's network commands (tools/virsh-network.c): net-autostart,
//! net-create, net-define, net-destroy, net-dhcp-leases, net-dumpxml,
//! net-info, net-list, net-name, net-start, net-undefine, net-update,
//! net-uuid; net-edit is in `network_edit`.

use super::lifecycle::read_file;
use super::opts::{exclusive, opt_int, opt_string};
use super::snapshot::dump_xml;
use super::{about, cmd, data, flag, int, string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::network::{list_flags as lf, update};
use rvirt::{Connect, Error, ErrorCode, ErrorDomain, Network};

pub const NETWORK: OptDef = data("network", "network name or uuid");
const FILE: OptDef = data("file", "file containing an XML network description");
const VALIDATE: OptDef = flag("validate", "validate the XML against the schema");

pub static COMMANDS: &[CommandDef] = &[
    cmd("net-autostart", about("autostart a network", "Configure a network to be automatically started at boot."), &[NETWORK, flag("disable", "disable autostarting")], net_autostart),
    cmd("net-create", about("create a network from an XML file", "Create a network."), &[FILE, VALIDATE], net_create),
    cmd("net-define", about("define an inactive persistent virtual network or modify an existing persistent one from an XML file", "Define or modify a persistent virtual network."), &[FILE, VALIDATE], net_define),
    cmd("net-destroy", about("destroy (stop) a network", "Forcefully stop a given network."), &[NETWORK], net_destroy),
    cmd("net-dhcp-leases", about("print lease info for a given network", "Print lease info for a given network"), &[NETWORK, string("mac", "MAC address")], net_dhcp_leases),
    cmd(
        "net-dumpxml",
        about("network information in XML", "Output the network information as an XML dump to stdout."),
        &[
            NETWORK,
            flag("inactive", "show inactive defined XML"),
            super::named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        net_dumpxml,
    ),
    cmd("net-info", about("network information", "Returns basic information about the network"), &[NETWORK], net_info),
    cmd(
        "net-list",
        about("list networks", "Returns list of networks."),
        &[
            flag("inactive", "list inactive networks"),
            flag("all", "list inactive & active networks"),
            flag("persistent", "list persistent networks"),
            flag("transient", "list transient networks"),
            flag("autostart", "list networks with autostart enabled"),
            flag("no-autostart", "list networks with autostart disabled"),
            flag("uuid", "list uuid's only"),
            flag("name", "list network names only"),
            flag("table", "list table (default)"),
        ],
        net_list,
    ),
    cmd("net-name", about("convert a network UUID to network name", ""), &[data("network", "network uuid")], net_name),
    cmd("net-start", about("start a (previously defined) inactive network", "Start a network."), &[NETWORK], net_start),
    cmd("net-undefine", about("undefine a persistent network", "Undefine the configuration for a persistent network."), &[NETWORK], net_undefine),
    cmd(
        "net-update",
        about("update parts of an existing network's configuration", ""),
        &[
            NETWORK,
            data("command", "type of update (add-first, add-last (add), delete, or modify)"),
            data("section", "which section of network configuration to update"),
            data("xml", "name of file containing xml (or, if it starts with '<', the complete xml element itself) to add/modify, or to be matched for search"),
            int("parent-index", "which parent object to search through"),
            flag("config", "affect next network startup"),
            flag("live", "affect running network"),
            flag("current", "affect current state of network"),
        ],
        net_update,
    ),
    cmd("net-uuid", about("convert a network name to network UUID", ""), &[data("network", "network name")], net_uuid),
];

/// virshCommandOptNetworkBy: by UUID when it has a UUID's length, then by
/// name; virsh's own error, then libvirt's last one.
pub fn lookup(ctl: &Ctl, name: &str, by_uuid: bool, by_name: bool) -> Result<Network, CmdError> {
    let conn = ctl.conn()?;
    let mut last: Option<Error> = None;
    if by_uuid && name.len() == 36 {
        match by_uuid_string(conn, name) {
            Ok(n) => return Ok(n),
            Err(e) => last = Some(e),
        }
    }
    if by_name {
        match conn.network_lookup_by_name(name) {
            Ok(n) => return Ok(n),
            Err(e) => last = Some(e),
        }
    }
    let own = format!("failed to get network '{name}'");
    Err(match last {
        Some(e) => CmdError::with(own, e),
        None => CmdError::msg(own),
    })
}

/// `virNetworkLookupByUUIDString`.
fn by_uuid_string(conn: &Connect, text: &str) -> rvirt::Result<Network> {
    let uuid = rvirt_util::uuid::parse(text).ok_or_else(|| {
        Error::raw(
            ErrorDomain::NETWORK,
            ErrorCode::INVALID_ARG,
            "uuidstr in virNetworkLookupByUUIDString must be a valid UUID",
        )
    })?;
    conn.network_lookup_by_uuid(uuid.as_bytes())
}

pub fn network(ctl: &Ctl, c: &ParsedCommand) -> Result<Network, CmdError> {
    lookup(ctl, c.get("network").unwrap_or_default(), true, true)
}

fn net_autostart(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let net = network(ctl, c)?;
    let name = c.get("network").unwrap_or_default();
    let on = !c.has("disable");
    if let Err(e) = net.set_autostart(on) {
        let what = if on { "mark" } else { "unmark" };
        return Err(CmdError::with(
            format!("failed to {what} network {name} as autostarted"),
            e,
        ));
    }
    let what = if on { "marked" } else { "unmarked" };
    ctl.print_extra(&format!("Network {name} {what} as autostarted\n"));
    Ok(())
}

fn net_create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let flags = u32::from(c.has("validate"));
    let xml = read_file(from)?;
    let net = ctl
        .conn()?
        .network_create_xml(&xml, flags)
        .map_err(|e| CmdError::with(format!("Failed to create network from {from}"), e))?;
    ctl.print_extra(&format!("Network {} created from {from}\n", net.name()));
    Ok(())
}

fn net_define(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let flags = u32::from(c.has("validate"));
    let xml = read_file(from)?;
    let net = ctl
        .conn()?
        .network_define_xml(&xml, flags)
        .map_err(|e| CmdError::with(format!("Failed to define network from {from}"), e))?;
    ctl.print_extra(&format!("Network {} defined from {from}\n", net.name()));
    Ok(())
}

/// The commands that act on one network and report `Network NAME WHAT`.
fn act(
    ctl: &Ctl,
    c: &ParsedCommand,
    done: &str,
    failed: &str,
    call: fn(&Network) -> rvirt::Result<()>,
) -> CmdResult {
    let net = network(ctl, c)?;
    let name = c.get("network").unwrap_or_default();
    call(&net).map_err(|e| CmdError::with(format!("Failed to {failed} network {name}"), e))?;
    ctl.print_extra(&format!("Network {name} {done}\n"));
    Ok(())
}

fn net_destroy(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act(ctl, c, "destroyed", "destroy", Network::destroy)
}

fn net_start(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act(ctl, c, "started", "start", Network::create)
}

fn net_undefine(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    act(ctl, c, "has been undefined", "undefine", Network::undefine)
}

fn net_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let net = network(ctl, c)?;
    let flags = u32::from(c.has("inactive"));
    let xml = net.get_xml_desc(flags)?;
    dump_xml(ctl, &xml, "network", c.get("xpath"), c.has("wrap"))
}

fn net_info(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let net = network(ctl, c)?;
    let line = |k: &str, v: &str| format!("{k:<15} {v}\n");
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = line("Name:", net.name());
    out.push_str(&line("UUID:", &net.uuid_string()));
    if let Ok(active) = net.is_active() {
        out.push_str(&line("Active:", yes_no(active)));
    }
    out.push_str(&line(
        "Persistent:",
        net.is_persistent().map_or("unknown", yes_no),
    ));
    out.push_str(&line(
        "Autostart:",
        net.get_autostart().map_or("no autostart", yes_no),
    ));
    if let Ok(bridge) = net.get_bridge_name() {
        out.push_str(&line("Bridge:", &bridge));
    }
    ctl.print(&out);
    Ok(())
}

fn list_flags(c: &ParsedCommand) -> u32 {
    let mut flags = lf::ACTIVE;
    if c.has("inactive") {
        flags = lf::INACTIVE;
    }
    if c.has("all") {
        flags = lf::ACTIVE | lf::INACTIVE;
    }
    for (opt, bit) in [
        ("persistent", lf::PERSISTENT),
        ("transient", lf::TRANSIENT),
        ("autostart", lf::AUTOSTART),
        ("no-autostart", lf::NO_AUTOSTART),
    ] {
        if c.has(opt) {
            flags |= bit;
        }
    }
    flags
}

/// virshNetworkListCollect: the networks the flags select, sorted by
/// name ignoring case; with the old calls and a filter of our own when
/// the server lacks `virConnectListAllNetworks`.
fn collect(conn: &Connect, flags: u32) -> Result<Vec<Network>, CmdError> {
    let mut nets = match conn.list_all_networks(flags) {
        Ok(n) => n,
        Err(e) if e.code == ErrorCode::NO_SUPPORT => collect_old(conn, flags)?,
        Err(e) => return Err(CmdError::with("Failed to list networks", e)),
    };
    nets.sort_by_key(|n| n.name().to_ascii_lowercase());
    Ok(nets)
}

fn collect_old(conn: &Connect, flags: u32) -> Result<Vec<Network>, CmdError> {
    let both = lf::ACTIVE | lf::INACTIVE;
    let want = |bit: u32| flags & both == 0 || flags & bit != 0;
    let mut names = Vec::new();
    if want(lf::ACTIVE) {
        let n = conn
            .num_of_networks()
            .map_err(|e| CmdError::with("Failed to get the number of active networks", e))?;
        names.extend(
            conn.list_networks(n)
                .map_err(|e| CmdError::with("Failed to list active networks", e))?,
        );
    }
    if want(lf::INACTIVE) {
        let n = conn
            .num_of_defined_networks()
            .map_err(|e| CmdError::with("Failed to get the number of inactive networks", e))?;
        names.extend(
            conn.list_defined_networks(n)
                .map_err(|e| CmdError::with("Failed to list inactive networks", e))?,
        );
    }
    let mut out = Vec::new();
    for net in names
        .iter()
        .filter_map(|n| conn.network_lookup_by_name(n).ok())
    {
        if keeps(&net, flags)? {
            out.push(net);
        }
    }
    Ok(out)
}

/// The persistence and autostart filters, applied by hand.
fn keeps(net: &Network, flags: u32) -> Result<bool, CmdError> {
    if flags & (lf::PERSISTENT | lf::TRANSIENT) != 0 {
        let p = net
            .is_persistent()
            .map_err(|e| CmdError::with("Failed to get network persistence info", e))?;
        if !((flags & lf::PERSISTENT != 0 && p) || (flags & lf::TRANSIENT != 0 && !p)) {
            return Ok(false);
        }
    }
    if flags & (lf::AUTOSTART | lf::NO_AUTOSTART) != 0 {
        let a = net
            .get_autostart()
            .map_err(|e| CmdError::with("Failed to get network autostart state", e))?;
        if !((flags & lf::AUTOSTART != 0 && a) || (flags & lf::NO_AUTOSTART != 0 && !a)) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn net_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (name, uuid) = (c.has("name"), c.has("uuid"));
    if usize::from(c.has("table")) + usize::from(name) + usize::from(uuid) > 1 {
        return Err(CmdError::msg(
            "Only one argument from --table, --name and --uuid may be specified.",
        ));
    }
    let nets = collect(ctl.conn()?, list_flags(c))?;
    let mut out = String::new();
    if name || uuid {
        for n in &nets {
            out.push_str(&if uuid {
                n.uuid_string()
            } else {
                n.name().to_string()
            });
            out.push('\n');
        }
        ctl.print(&out);
        return Ok(());
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let rows: Vec<Vec<String>> = nets
        .iter()
        .map(|n| {
            let active = if n.is_active().unwrap_or(false) {
                "active"
            } else {
                "inactive"
            };
            vec![
                n.name().to_string(),
                active.to_string(),
                n.get_autostart().map_or("no autostart".to_string(), yes_no),
                yes_no(n.is_persistent().unwrap_or(false)),
            ]
        })
        .collect();
    let header = ["Name", "State", "Autostart", "Persistent"];
    ctl.print(&crate::table::render(&header, &rows));
    Ok(())
}

fn net_name(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let net = lookup(ctl, c.get("network").unwrap_or_default(), true, false)?;
    ctl.print(&format!("{}\n", net.name()));
    Ok(())
}

fn net_uuid(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let net = lookup(ctl, c.get("network").unwrap_or_default(), false, true)?;
    ctl.print(&format!("{}\n", net.uuid_string()));
    Ok(())
}

/// `virNetworkUpdateCommand` by virsh's name ("add" is add-last).
fn update_command(name: &str) -> Option<u32> {
    match name {
        "add" | "add-last" => Some(update::ADD_LAST),
        "modify" => Some(update::MODIFY),
        "delete" => Some(update::DELETE),
        "add-first" => Some(update::ADD_FIRST),
        _ => None,
    }
}

fn net_update(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "current", "live")?;
    exclusive(c, "current", "config")?;
    let net = network(ctl, c)?;
    let command_name = opt_string(c, "command")?.unwrap_or_default();
    let command = update_command(command_name)
        .ok_or_else(|| CmdError::msg(format!("unrecognized command name '{command_name}'")))?;
    let section_name = opt_string(c, "section")?.unwrap_or_default();
    let section = update::SECTIONS
        .iter()
        .position(|s| *s == section_name)
        .filter(|i| *i > 0)
        .ok_or_else(|| CmdError::msg(format!("unrecognized section name '{section_name}'")))?;
    let parent = opt_int(c, "parent-index")?.unwrap_or(-1);
    let given = opt_string(c, "xml")?.unwrap_or_default();
    let xml = if given.starts_with('<') {
        given.to_string()
    } else {
        read_file(given)?
    };
    let (config, live) = (c.has("config"), c.has("live"));
    let mut flags = update::AFFECT_CURRENT;
    if config {
        flags |= update::AFFECT_CONFIG;
    }
    if live {
        flags |= update::AFFECT_LIVE;
    }
    let name = net.name().to_string();
    net.update(command, section as u32, parent, &xml, flags)
        .map_err(|e| CmdError::with(format!("Failed to update network {name}"), e))?;
    let what = match (config, live) {
        (true, true) => "persistent config and live state",
        (true, false) => "persistent config",
        (false, true) => "live state",
        _ if net.is_active().unwrap_or(false) => "live state",
        _ => "persistent config",
    };
    ctl.print_extra(&format!("Updated network {name} {what}"));
    Ok(())
}

fn net_dhcp_leases(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let mac = opt_string(c, "mac")?;
    let net = network(ctl, c)?;
    let name = c.get("network").unwrap_or_default();
    let mut leases = net
        .get_dhcp_leases(mac, 0)
        .map_err(|e| CmdError::with(format!("Failed to get leases info for {name}"), e))?;
    leases.sort_by_key(|l| l.mac.clone().unwrap_or_default().to_ascii_lowercase());
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = leases
        .iter()
        .map(|l| {
            let kind = match l.ip_type {
                0 => "ipv4",
                1 => "ipv6",
                _ => "-",
            };
            vec![
                local_time(l.expiry_time),
                dash(&l.mac),
                kind.to_string(),
                format!("{}/{}", l.ipaddr, l.prefix),
                dash(&l.hostname),
                dash(&l.clientid),
            ]
        })
        .collect();
    let header = [
        "Expiry Time",
        "MAC address",
        "Protocol",
        "IP address",
        "Hostname",
        "Client ID or DUID",
    ];
    ctl.print(&crate::table::render(&header, &rows));
    Ok(())
}

/// `g_date_time_format(then, "%Y-%m-%d %H:%M:%S")` in local time.
fn local_time(secs: i64) -> String {
    super::snapshot_list::strftime_local(secs, c"%Y-%m-%d %H:%M:%S")
}
