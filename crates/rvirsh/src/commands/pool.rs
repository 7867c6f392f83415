//! virsh's storage pool commands (tools/virsh-pool.c): pool-autostart,
//! pool-build, pool-create(-as), pool-define(-as), pool-delete,
//! pool-destroy, pool-dumpxml, pool-info, pool-name, pool-refresh,
//! pool-start, pool-undefine, pool-uuid, pool-capabilities and the
//! find-storage-pool-sources pair; pool-list is in `pool_list`.

use super::jobs::pretty_capacity;
use super::lifecycle::read_file;
use super::opts::{exclusive, opt_string};
use super::snapshot::dump_xml;
use super::{about, cmd, data, flag, named_string, string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_NAME, BY_UUID};
use rvirt::StoragePool;

pub const POOL: OptDef = data("pool", "pool name or uuid");
const FILE: OptDef = data("file", "file containing an XML pool description");
const BUILD: OptDef = flag("build", "build the pool as normal");
const NO_OVERWRITE: OptDef = flag("no-overwrite", "do not overwrite any existing data");
const OVERWRITE: OptDef = flag("overwrite", "overwrite any existing data");

/// VIRSH_COMMON_OPT_POOL_X_AS.
macro_rules! x_as_opts {
    ($($more:expr),* $(,)?) => {
        &[
            data("name", "name of the pool"),
            data("type", "type of the pool"),
            flag("print-xml", "print XML document, but don't define/create"),
            string("source-host", "source-host for underlying storage"),
            string("source-path", "source path for underlying storage"),
            string("source-dev", "source device for underlying storage"),
            string("source-name", "source name for underlying storage"),
            string("target", "target for underlying storage"),
            string("source-format", "format for underlying storage"),
            string("auth-type", "auth type to be used for underlying storage"),
            string("auth-username", "auth username to be used for underlying storage"),
            string("secret-usage", "auth secret usage to be used for underlying storage"),
            string("secret-uuid", "auth secret UUID to be used for underlying storage"),
            string("adapter-name", "adapter name to be used for underlying storage"),
            string("adapter-wwnn", "adapter wwnn to be used for underlying storage"),
            string("adapter-wwpn", "adapter wwpn to be used for underlying storage"),
            string("adapter-parent", "adapter parent scsi_hostN to be used for underlying vHBA storage"),
            string("adapter-parent-wwnn", "adapter parent scsi_hostN wwnn to be used for underlying vHBA storage"),
            string("adapter-parent-wwpn", "adapter parent scsi_hostN wwpn to be used for underlying vHBA storage"),
            string("adapter-parent-fabric-wwn", "adapter parent scsi_hostN fabric_wwn to be used for underlying vHBA storage"),
            string("source-protocol-ver", "nfsvers value for NFS pool mount option"),
            string("source-initiator", "initiator iqn for underlying storage"),
            $($more),*
        ]
    };
}

pub static COMMANDS: &[CommandDef] = &[
    cmd("find-storage-pool-sources-as", about("find potential storage pool sources", "Returns XML <sources> document."),
        &[data("type", "type of storage pool sources to find"), string("host", "optional host to query"),
          string("port", "optional port to query"), string("initiator", "optional initiator IQN to use for query")],
        find_sources_as),
    cmd("find-storage-pool-sources", about("discover potential storage pool sources", "Returns XML <sources> document."),
        &[data("type", "type of storage pool sources to discover"), string("srcSpec", "optional file of source xml to query for pools")],
        find_sources),
    cmd("pool-autostart", about("autostart a pool", "Configure a pool to be automatically started at boot."),
        &[POOL, flag("disable", "disable autostarting")], pool_autostart),
    cmd("pool-build", about("build a pool", "Build a given pool."), &[POOL, NO_OVERWRITE, OVERWRITE], pool_build),
    cmd("pool-create-as", about("create a pool from a set of args", "Create a pool."),
        x_as_opts!(BUILD, NO_OVERWRITE, OVERWRITE), pool_create_as),
    cmd("pool-create", about("create a pool from an XML file", "Create a pool."),
        &[FILE, BUILD, NO_OVERWRITE, OVERWRITE], pool_create),
    cmd("pool-define-as", about("define a pool from a set of args", "Define a pool."), x_as_opts!(), pool_define_as),
    cmd("pool-define", about(
            "define an inactive persistent storage pool or modify an existing persistent one from an XML file",
            "Define or modify a persistent storage pool."),
        &[FILE, flag("validate", "validate the XML against the schema")], pool_define),
    cmd("pool-delete", about("delete a pool", "Delete a given pool."), &[POOL], pool_delete),
    cmd("pool-destroy", about("destroy (stop) a pool", "Forcefully stop a given pool. Raw data in the pool is untouched"),
        &[POOL], pool_destroy),
    cmd("pool-dumpxml", about("pool information in XML", "Output the pool information as an XML dump to stdout."),
        &[POOL, flag("inactive", "show inactive defined XML"),
          named_string("xpath", "xpath expression to filter the XML document"),
          flag("wrap", "wrap xpath results in an common root element")],
        pool_dumpxml),
    cmd("pool-edit", about("edit XML configuration for a storage pool", "Edit the XML configuration for a storage pool."),
        &[POOL], pool_edit),
    cmd("pool-info", about("storage pool information", "Returns basic information about the storage pool."),
        &[POOL, flag("bytes", "Return pool info in bytes")], pool_info),
    cmd("pool-name", about("convert a pool UUID to pool name", ""), &[POOL], pool_name),
    cmd("pool-refresh", about("refresh a pool", "Refresh a given pool."), &[POOL], pool_refresh),
    cmd("pool-start", about("start a (previously defined) inactive pool", "Start a pool."),
        &[POOL, BUILD, NO_OVERWRITE, OVERWRITE], pool_start),
    cmd("pool-undefine", about("undefine an inactive pool", "Undefine the configuration for an inactive pool."),
        &[POOL], pool_undefine),
    cmd("pool-uuid", about("convert a pool name to pool UUID", ""), &[POOL], pool_uuid),
    cmd("pool-capabilities", about("storage pool capabilities", "Returns capabilities of storage pool support."),
        &[], pool_capabilities),
];

/// virshCommandOptPoolBy: by UUID when the value has a UUID's length,
/// then by name; the last lookup's error follows virsh's own.
pub fn lookup_pool(
    ctl: &Ctl,
    c: &ParsedCommand,
    opt: &str,
    by: u8,
) -> Result<StoragePool, CmdError> {
    let name = opt_string(c, opt)?.unwrap_or_default();
    let conn = ctl.conn()?;
    let mut last = None;
    if by & BY_UUID != 0 && name.len() == 36 {
        match conn.storage_pool_lookup_by_uuid_string(name) {
            Ok(p) => return Ok(p),
            Err(e) => last = Some(e),
        }
    }
    if by & BY_NAME != 0 {
        match conn.storage_pool_lookup_by_name(name) {
            Ok(p) => return Ok(p),
            Err(e) => last = Some(e),
        }
    }
    let own = format!("failed to get pool '{name}'");
    Err(match last {
        Some(e) => CmdError::with(own, e),
        None => CmdError::msg(own),
    })
}

fn pool(ctl: &Ctl, c: &ParsedCommand) -> Result<StoragePool, CmdError> {
    lookup_pool(ctl, c, "pool", BY_UUID | BY_NAME)
}

/// A libvirt failure reported after virsh's own words.
fn failed<T>(r: rvirt::Result<T>, own: impl FnOnce() -> String) -> Result<T, CmdError> {
    r.map_err(|e| CmdError::with(own(), e))
}

/// `VIR_STORAGE_POOL_CREATE_WITH_BUILD*` from --build/--overwrite/--no-overwrite.
fn build_flags(c: &ParsedCommand) -> Result<u32, CmdError> {
    exclusive(c, "overwrite", "no-overwrite")?;
    Ok([("build", 1), ("overwrite", 2), ("no-overwrite", 4)]
        .iter()
        .filter(|(o, _)| c.has(o))
        .fold(0, |f, (_, b)| f | b))
}

fn pool_autostart(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let p = pool(ctl, c)?;
    let name = c.get("pool").unwrap_or_default();
    let on = !c.has("disable");
    let (verb, done) = if on {
        ("mark", "marked")
    } else {
        ("unmark", "unmarked")
    };
    failed(p.set_autostart(on), || {
        format!("failed to {verb} pool {name} as autostarted")
    })?;
    ctl.print_extra(&format!("Pool {name} {done} as autostarted\n"));
    Ok(())
}

/// The commands that run one pool call and report `Pool NAME <done>`.
fn simple(
    ctl: &Ctl,
    c: &ParsedCommand,
    verb: &str,
    done: &str,
    call: impl FnOnce(&StoragePool) -> rvirt::Result<()>,
) -> CmdResult {
    let p = pool(ctl, c)?;
    let name = c.get("pool").unwrap_or_default();
    failed(call(&p), || format!("Failed to {verb} pool {name}"))?;
    ctl.print_extra(&format!("Pool {name} {done}\n"));
    Ok(())
}

fn pool_build(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = [("no-overwrite", 4), ("overwrite", 2)]
        .iter()
        .filter(|(o, _)| c.has(o))
        .fold(0, |f, (_, b)| f | b);
    simple(ctl, c, "build", "built", |p| p.build(flags))
}

fn pool_delete(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    simple(ctl, c, "delete", "deleted", |p| p.delete(0))
}

fn pool_destroy(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    simple(ctl, c, "destroy", "destroyed", StoragePool::destroy)
}

fn pool_refresh(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    simple(ctl, c, "refresh", "refreshed", |p| p.refresh(0))
}

fn pool_undefine(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    simple(
        ctl,
        c,
        "undefine",
        "has been undefined",
        StoragePool::undefine,
    )
}

fn pool_start(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let p = pool(ctl, c)?;
    let flags = build_flags(c)?;
    let name = c.get("pool").unwrap_or_default();
    failed(p.create(flags), || format!("Failed to start pool {name}"))?;
    ctl.print_extra(&format!("Pool {name} started\n"));
    Ok(())
}

fn pool_create(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let flags = build_flags(c)?;
    let xml = read_file(from)?;
    let p = failed(ctl.conn()?.storage_pool_create_xml(&xml, flags), || {
        format!("Failed to create pool from {from}")
    })?;
    ctl.print_extra(&format!("Pool {} created from {from}\n", p.name()));
    Ok(())
}

fn pool_define(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let flags = u32::from(c.has("validate"));
    let xml = read_file(from)?;
    let p = failed(ctl.conn()?.storage_pool_define_xml(&xml, flags), || {
        format!("Failed to define pool from {from}")
    })?;
    ctl.print_extra(&format!("Pool {} defined from {from}\n", p.name()));
    Ok(())
}

/// virshBuildPoolXML: the pool document the -as commands make.
fn build_pool_xml(c: &ParsedCommand) -> Result<(String, String), CmdError> {
    exclusive(c, "secret-usage", "secret-uuid")?;
    let name = opt_string(c, "name")?.unwrap_or_default().to_string();
    let kind = opt_string(c, "type")?.unwrap_or_default();
    let mut v = std::collections::HashMap::new();
    for o in [
        "source-host",
        "source-path",
        "source-dev",
        "source-name",
        "source-format",
        "target",
        "auth-type",
        "auth-username",
        "secret-usage",
        "secret-uuid",
        "adapter-name",
        "adapter-wwnn",
        "adapter-wwpn",
        "adapter-parent",
        "adapter-parent-wwnn",
        "adapter-parent-wwpn",
        "adapter-parent-fabric-wwn",
        "source-protocol-ver",
        "source-initiator",
    ] {
        if let Some(val) = opt_string(c, o)? {
            v.insert(o, val);
        }
    }
    let mut w = rvirt_conf::xml::Writer::new();
    w.block("pool", &format!(" type='{kind}'"), |w| {
        w.line(&format!("<name>{name}</name>"));
        let fc = v.contains_key("adapter-wwnn") && v.contains_key("adapter-wwpn");
        let any_source = [
            "source-host",
            "source-path",
            "source-dev",
            "source-initiator",
            "source-format",
            "source-name",
            "adapter-name",
        ]
        .iter()
        .any(|k| v.contains_key(k));
        if any_source || fc {
            w.block("source", "", |w| source_xml(w, &v, fc));
        }
        if let Some(t) = v.get("target") {
            w.block("target", "", |w| w.line(&format!("<path>{t}</path>")));
        }
    });
    Ok((name, w.finish()))
}

fn source_xml(
    w: &mut rvirt_conf::xml::Writer,
    v: &std::collections::HashMap<&str, &str>,
    fc: bool,
) {
    let get = |k: &str| v.get(k).copied();
    if let Some(h) = get("source-host") {
        w.line(&format!("<host name='{h}'/>"));
    }
    if let Some(p) = get("source-path") {
        w.line(&format!("<dir path='{p}'/>"));
    }
    if let Some(d) = get("source-dev") {
        w.line(&format!("<device path='{d}'/>"));
    }
    if let Some(i) = get("source-initiator") {
        w.block("initiator", "", |w| w.line(&format!("<iqn name='{i}'/>")));
    }
    if fc {
        let parent = match (
            get("adapter-parent"),
            get("adapter-parent-wwnn"),
            get("adapter-parent-wwpn"),
            get("adapter-parent-fabric-wwn"),
        ) {
            (Some(p), ..) => format!(" parent='{p}'"),
            (None, Some(n), Some(p), _) => format!(" parent_wwnn='{n}' parent_wwpn='{p}'"),
            (None, _, _, Some(f)) => format!(" parent_fabric_wwn='{f}'"),
            _ => String::new(),
        };
        w.line(&format!(
            "<adapter type='fc_host'{parent} wwnn='{}' wwpn='{}'/>",
            get("adapter-wwnn").unwrap_or_default(),
            get("adapter-wwpn").unwrap_or_default()
        ));
    } else if let Some(a) = get("adapter-name") {
        w.line(&format!("<adapter type='scsi_host' name='{a}'/>"));
    }
    if let (Some(t), Some(u)) = (get("auth-type"), get("auth-username")) {
        let secret = match (get("secret-usage"), get("secret-uuid")) {
            (Some(s), _) => Some(format!("<secret usage='{s}'/>")),
            (None, Some(s)) => Some(format!("<secret uuid='{s}'/>")),
            _ => None,
        };
        if let Some(secret) = secret {
            w.block("auth", &format!(" type='{t}' username='{u}'"), |w| {
                w.line(&secret)
            });
        }
    }
    if let Some(f) = get("source-format") {
        w.line(&format!("<format type='{f}'/>"));
    }
    if let Some(n) = get("source-name") {
        w.line(&format!("<name>{n}</name>"));
    }
    if let Some(p) = get("source-protocol-ver") {
        w.line(&format!("<protocol ver='{p}'/>"));
    }
}

fn pool_create_as(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = build_flags(c)?;
    let (name, xml) = build_pool_xml(c)?;
    if c.has("print-xml") {
        ctl.print(&xml);
        return Ok(());
    }
    failed(ctl.conn()?.storage_pool_create_xml(&xml, flags), || {
        format!("Failed to create pool {name}")
    })?;
    ctl.print_extra(&format!("Pool {name} created\n"));
    Ok(())
}

fn pool_define_as(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (name, xml) = build_pool_xml(c)?;
    if c.has("print-xml") {
        ctl.print(&xml);
        return Ok(());
    }
    failed(ctl.conn()?.storage_pool_define_xml(&xml, 0), || {
        format!("Failed to define pool {name}")
    })?;
    ctl.print_extra(&format!("Pool {name} defined\n"));
    Ok(())
}

fn pool_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let flags = u32::from(c.has("inactive"));
    let p = pool(ctl, c)?;
    let xml = p.get_xml_desc(flags)?;
    dump_xml(ctl, &xml, "pool", c.get("xpath"), c.has("wrap"))
}

/// virshStoragePoolStateToString.
pub fn state_name(state: i32) -> &'static str {
    match state {
        0 => "inactive",
        1 => "building",
        2 => "running",
        3 => "degraded",
        4 => "inaccessible",
        _ => "unknown",
    }
}

/// `%.2lf %s` of vshPrettyCapacity.
pub fn pretty(bytes: u64) -> String {
    let (val, unit) = pretty_capacity(bytes);
    format!("{val:.2} {unit}")
}

fn pool_info(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let p = pool(ctl, c)?;
    let line = |k: &str, v: &str| format!("{k:<15} {v}\n");
    ctl.print(&line("Name:", p.name()));
    ctl.print(&line("UUID:", &p.uuid_string()));
    let info = p.get_info()?;
    ctl.print(&line("State:", state_name(info.state)));
    let persistent = match p.is_persistent() {
        Ok(true) => "yes",
        Ok(false) => "no",
        Err(_) => "unknown",
    };
    ctl.print(&line("Persistent:", persistent));
    let autostart = match p.get_autostart() {
        Ok(true) => "yes",
        Ok(false) => "no",
        Err(_) => "no autostart",
    };
    ctl.print(&line("Autostart:", autostart));
    if info.state == 2 || info.state == 3 {
        let show = |v: u64| {
            if c.has("bytes") {
                v.to_string()
            } else {
                pretty(v)
            }
        };
        ctl.print(&line("Capacity:", &show(info.capacity)));
        ctl.print(&line("Allocation:", &show(info.allocation)));
        ctl.print(&line("Available:", &show(info.available)));
    }
    Ok(())
}

fn pool_name(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let p = lookup_pool(ctl, c, "pool", BY_UUID)?;
    ctl.print(&format!("{}\n", p.name()));
    Ok(())
}

fn pool_uuid(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let p = lookup_pool(ctl, c, "pool", BY_NAME)?;
    ctl.print(&format!("{}\n", p.uuid_string()));
    Ok(())
}

fn pool_capabilities(ctl: &mut Ctl, _c: &ParsedCommand) -> CmdResult {
    let caps = failed(ctl.conn()?.get_storage_pool_capabilities(0), || {
        "failed to get storage pool capabilities".into()
    })?;
    ctl.print(&format!("{caps}\n"));
    Ok(())
}

fn print_sources(ctl: &Ctl, kind: &str, spec: Option<&str>) -> CmdResult {
    let list = failed(ctl.conn()?.find_storage_pool_sources(kind, spec, 0), || {
        format!("Failed to find any {kind} pool sources")
    })?;
    ctl.print(&list);
    Ok(())
}

fn find_sources_as(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let kind = opt_string(c, "type")?.unwrap_or_default();
    let host = opt_string(c, "host")?;
    let initiator = opt_string(c, "initiator")?;
    let spec = match host {
        None => None,
        Some(h) => {
            let port = opt_string(c, "port").map_err(|_| CmdError::msg("missing argument"))?;
            let mut w = rvirt_conf::xml::Writer::new();
            w.block("source", "", |w| {
                let port = port.map(|p| format!(" port='{p}'")).unwrap_or_default();
                w.line(&format!("<host name='{h}'{port}/>"));
                if let Some(i) = initiator {
                    w.block("initiator", "", |w| w.line(&format!("<iqn name='{i}'/>")));
                }
            });
            Some(w.finish())
        }
    };
    print_sources(ctl, kind, spec.as_deref())
}

fn find_sources(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let kind = opt_string(c, "type")?.unwrap_or_default();
    let spec = match opt_string(c, "srcSpec")? {
        Some(f) => Some(read_file(f)?),
        None => None,
    };
    print_sources(ctl, kind, spec.as_deref())
}

/// virsh-edit.c for pools: the inactive XML (the live one from a driver
/// refusing the flag) in `$VISUAL`/`$EDITOR`/vi, then defined.
fn pool_edit(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    use super::snapshot_edit::{edit_file, read_back, write_temp};
    let p = pool(ctl, c)?;
    let flags = match p.get_xml_desc(1) {
        Ok(_) => 1,
        Err(e) if e.code == rvirt::ErrorCode::INVALID_ARG => 0,
        Err(e) => return Err(e.into()),
    };
    let doc = p.get_xml_desc(flags)?;
    let file = write_temp(&doc)?;
    edit_file(&file)?;
    let edited = read_back(&file)?;
    if edited == doc {
        ctl.print_extra(&format!(
            "Pool {} XML configuration not changed.\n",
            p.name()
        ));
        return Ok(());
    }
    // Without a terminal virsh cannot ask to re-edit: it reports the
    // failure and carries on as if the edit had worked, naming the pool
    // it did not get as "(null)".
    let defined = if p.get_xml_desc(flags)? != doc {
        eprintln!("error: The XML configuration was changed by another user.");
        None
    } else {
        match ctl.conn()?.storage_pool_define_xml(&edited, 0) {
            Ok(p) => Some(p),
            Err(_) => {
                eprintln!("error: Failed.");
                None
            }
        }
    };
    let name = defined.as_ref().map_or("(null)", |p| p.name());
    ctl.print_extra(&format!("Pool {name} XML configuration edited.\n"));
    Ok(())
}
