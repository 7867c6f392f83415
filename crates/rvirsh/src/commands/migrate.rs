//! `migrate` (virsh's cmdMigrate / doMigrate): options become
//! `virDomainMigrateFlags` and `VIR_MIGRATE_PARAM_*` typed parameters in
//! virsh's order, then either `virDomainMigrateToURI3` (peer-to-peer or
//! direct: the source reaches the destination itself) or, for a managed
//! migration, a connection to the destination and `virDomainMigrate3`.

use super::opts::{exclusive, opt_int, opt_string, opt_uint, opt_ull, require};
use super::{about, cmd, data, flag, flag_alias, int, string, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use crate::watch::{watch_job, TimeoutAction, WatchOptions};
use rvirt::migration::{flags, params};
use rvirt::Connect;
use rvirt_util::{TypedParamValue, TypedParams};
use std::time::Duration;

/// opts_migrate, in virsh 9.0's order (the order decides which option a
/// bare word fills).
static MIGRATE_OPTS: &[OptDef] = &[
    data("domain", "domain name, id or uuid"),
    data("desturi", "connection URI of the destination host as seen from the client(normal migration) or source(p2p migration)"),
    flag("live", "live migration"),
    flag("offline", "offline migration"),
    flag("p2p", "peer-2-peer migration"),
    flag("direct", "direct migration"),
    flag_alias("tunnelled", &["tunneled"], "tunnelled migration"),
    flag("persistent", "persist VM on destination"),
    flag("undefinesource", "undefine VM on source"),
    flag("suspend", "do not restart the domain on the destination host"),
    flag("copy-storage-all", "migration with non-shared storage with full disk copy"),
    flag("copy-storage-inc", "migration with non-shared storage with incremental copy (same base image shared between source and destination)"),
    flag("copy-storage-synchronous-writes", "force guest disk writes to be synchronously written to the destination to improve storage migration convergence"),
    flag("change-protection", "prevent any configuration changes to domain until migration ends"),
    flag("unsafe", "force migration even if it may be unsafe"),
    flag("verbose", "display the progress of migration"),
    flag("compressed", "compress repeated pages during live migration"),
    flag("auto-converge", "force convergence during live migration"),
    flag("rdma-pin-all", "pin all memory before starting RDMA live migration"),
    flag("abort-on-error", "abort on soft errors during migration"),
    flag("postcopy", "enable post-copy migration; switch to it using migrate-postcopy command"),
    flag("postcopy-after-precopy", "automatically switch to post-copy migration after one pass of pre-copy"),
    flag("postcopy-resume", "resume failed post-copy migration"),
    flag("zerocopy", "use zero-copy mechanism for migrating memory pages"),
    string("migrateuri", "migration URI, usually can be omitted"),
    string("graphicsuri", "graphics URI to be used for seamless graphics migration"),
    string("listen-address", "listen address that destination should bind to for incoming migration"),
    string("dname", "rename to new name during migration (if supported)"),
    int("timeout", "run action specified by --timeout-* option (suspend by default) if live migration exceeds timeout (in seconds)"),
    flag("timeout-suspend", "suspend the guest after timeout"),
    flag("timeout-postcopy", "switch to post-copy after timeout"),
    string("xml", "filename containing updated XML for the target"),
    string("migrate-disks", "comma separated list of disks to be migrated"),
    int("disks-port", "port to use by target server for incoming disks migration"),
    string("disks-uri", "URI to use for disks migration (overrides --disks-port)"),
    string("comp-methods", "comma separated list of compression methods to be used"),
    int("comp-mt-level", "compress level for multithread compression"),
    int("comp-mt-threads", "number of compression threads for multithread compression"),
    int("comp-mt-dthreads", "number of decompression threads for multithread compression"),
    int("comp-xbzrle-cache", "page cache size for xbzrle compression"),
    int("auto-converge-initial", "initial CPU throttling rate for auto-convergence"),
    int("auto-converge-increment", "CPU throttling rate increment for auto-convergence"),
    string("persistent-xml", "filename containing updated persistent XML for the target"),
    flag("tls", "use TLS for migration"),
    int("postcopy-bandwidth", "post-copy migration bandwidth limit in MiB/s"),
    flag("parallel", "enable parallel migration"),
    int("parallel-connections", "number of connections for parallel migration"),
    int("bandwidth", "migration bandwidth limit in MiB/s"),
    string("tls-destination", "override the destination host name used for TLS verification"),
];

pub static COMMANDS: &[CommandDef] = &[cmd(
    "migrate",
    about(
        "migrate domain to another host",
        "Migrate domain to another host.  Add --live for live migration.",
    ),
    MIGRATE_OPTS,
    migrate,
)];

/// Option → flag bit, in doMigrate's order. `--direct` has no bit: it only
/// selects virDomainMigrateToURI3.
pub const FLAG_OPTIONS: &[(&str, u32)] = &[
    ("live", flags::LIVE),
    ("p2p", flags::PEER2PEER),
    ("tunnelled", flags::TUNNELLED),
    ("persistent", flags::PERSIST_DEST),
    ("undefinesource", flags::UNDEFINE_SOURCE),
    ("suspend", flags::PAUSED),
    ("copy-storage-all", flags::NON_SHARED_DISK),
    ("copy-storage-inc", flags::NON_SHARED_INC),
    (
        "copy-storage-synchronous-writes",
        flags::NON_SHARED_SYNCHRONOUS_WRITES,
    ),
    ("change-protection", flags::CHANGE_PROTECTION),
    ("unsafe", flags::UNSAFE),
    ("compressed", flags::COMPRESSED),
    ("auto-converge", flags::AUTO_CONVERGE),
    ("rdma-pin-all", flags::RDMA_PIN_ALL),
    ("offline", flags::OFFLINE),
    ("abort-on-error", flags::ABORT_ON_ERROR),
    ("postcopy", flags::POSTCOPY),
    ("postcopy-resume", flags::POSTCOPY_RESUME),
    ("zerocopy", flags::ZEROCOPY),
    ("tls", flags::TLS),
    ("parallel", flags::PARALLEL),
];

/// cmdMigrate's checks that need no connection, in its order.
pub fn check_options(c: &ParsedCommand) -> Result<(), CmdError> {
    exclusive(c, "live", "offline")?;
    exclusive(c, "timeout-suspend", "timeout-postcopy")?;
    require(c, "postcopy-after-precopy", "postcopy")?;
    require(c, "postcopy-resume", "postcopy")?;
    require(c, "timeout-postcopy", "postcopy")?;
    require(c, "persistent-xml", "persistent")?;
    require(c, "tls-destination", "tls")?;
    Ok(())
}

/// `--timeout N` and its action (suspend unless `--timeout-postcopy`);
/// virsh refuses a timeout without `--live` and an action without a
/// timeout.
pub fn timeout(c: &ParsedCommand) -> Result<Option<(Duration, TimeoutAction)>, CmdError> {
    let secs = opt_uint(c, "timeout")?.unwrap_or(0);
    if secs > 0 && !c.has("live") {
        return Err(CmdError::msg(
            "migrate: Unexpected timeout for offline migration",
        ));
    }
    let action = if c.has("timeout-postcopy") {
        Some(TimeoutAction::Postcopy)
    } else if c.has("timeout-suspend") {
        Some(TimeoutAction::Suspend)
    } else {
        None
    };
    if secs == 0 {
        if action.is_some() {
            return Err(CmdError::msg(
                "migrate: Unexpected --timeout-* option without --timeout",
            ));
        }
        return Ok(None);
    }
    Ok(Some((
        Duration::from_secs(secs.into()),
        action.unwrap_or(TimeoutAction::Suspend),
    )))
}

fn add_string(p: &mut TypedParams, c: &ParsedCommand, opt: &str, name: &str) -> CmdResult {
    if let Some(v) = opt_string(c, opt)? {
        p.push(name, TypedParamValue::String(v.into()));
    }
    Ok(())
}

/// A comma separated option as one string parameter per item (g_strsplit
/// keeps empty items).
fn add_list(p: &mut TypedParams, c: &ParsedCommand, opt: &str, name: &str) -> CmdResult {
    if let Some(v) = opt_string(c, opt)? {
        for item in v.split(',') {
            p.push(name, TypedParamValue::String(item.into()));
        }
    }
    Ok(())
}

fn add_int(p: &mut TypedParams, c: &ParsedCommand, opt: &str, name: &str) -> CmdResult {
    if let Some(v) = opt_int(c, opt)? {
        p.push(name, TypedParamValue::Int(v));
    }
    Ok(())
}

fn add_ull(p: &mut TypedParams, c: &ParsedCommand, opt: &str, name: &str) -> CmdResult {
    if let Some(v) = opt_ull(c, opt)? {
        p.push(name, TypedParamValue::ULLong(v));
    }
    Ok(())
}

/// The file behind `--xml` / `--persistent-xml`, with virsh's two errors.
fn add_file(p: &mut TypedParams, c: &ParsedCommand, opt: &str, name: &str) -> CmdResult {
    if let Some(path) = opt_string(c, opt)? {
        let xml = super::lifecycle::read_file(path).map_err(|e| CmdError {
            own: Some(format!("cannot read file '{path}'")),
            libvirt: e.libvirt,
        })?;
        p.push(name, TypedParamValue::String(xml));
    }
    Ok(())
}

/// doMigrate's typed parameters, in its order and with its types.
pub fn build_params(c: &ParsedCommand) -> Result<TypedParams, CmdError> {
    let mut p = TypedParams::new();
    add_string(&mut p, c, "migrateuri", params::URI)?;
    add_string(&mut p, c, "graphicsuri", params::GRAPHICS_URI)?;
    add_string(&mut p, c, "listen-address", params::LISTEN_ADDRESS)?;
    // virsh passes --disks-port only when it is not zero.
    if let Some(port) = opt_int(c, "disks-port")?.filter(|v| *v != 0) {
        p.push(params::DISKS_PORT, TypedParamValue::Int(port));
    }
    add_string(&mut p, c, "disks-uri", params::DISKS_URI)?;
    add_string(&mut p, c, "dname", params::DEST_NAME)?;
    add_list(&mut p, c, "migrate-disks", params::MIGRATE_DISKS)?;
    add_list(&mut p, c, "comp-methods", params::COMPRESSION)?;
    add_int(&mut p, c, "comp-mt-level", params::COMPRESSION_MT_LEVEL)?;
    add_int(&mut p, c, "comp-mt-threads", params::COMPRESSION_MT_THREADS)?;
    add_int(
        &mut p,
        c,
        "comp-mt-dthreads",
        params::COMPRESSION_MT_DTHREADS,
    )?;
    add_ull(
        &mut p,
        c,
        "comp-xbzrle-cache",
        params::COMPRESSION_XBZRLE_CACHE,
    )?;
    add_file(&mut p, c, "xml", params::DEST_XML)?;
    add_file(&mut p, c, "persistent-xml", params::PERSIST_XML)?;
    add_int(
        &mut p,
        c,
        "auto-converge-initial",
        params::AUTO_CONVERGE_INITIAL,
    )?;
    add_int(
        &mut p,
        c,
        "auto-converge-increment",
        params::AUTO_CONVERGE_INCREMENT,
    )?;
    add_ull(&mut p, c, "postcopy-bandwidth", params::BANDWIDTH_POSTCOPY)?;
    add_int(
        &mut p,
        c,
        "parallel-connections",
        params::PARALLEL_CONNECTIONS,
    )?;
    add_ull(&mut p, c, "bandwidth", params::BANDWIDTH)?;
    add_string(&mut p, c, "tls-destination", params::TLS_DESTINATION)?;
    Ok(p)
}

/// doMigrate's flags.
pub fn build_flags(c: &ParsedCommand) -> Result<u32, CmdError> {
    let f = FLAG_OPTIONS
        .iter()
        .filter(|(opt, _)| c.has(opt))
        .fold(0, |acc, (_, bit)| acc | bit);
    if f & flags::NON_SHARED_SYNCHRONOUS_WRITES != 0
        && f & (flags::NON_SHARED_DISK | flags::NON_SHARED_INC) == 0
    {
        return Err(CmdError::msg(
            "'--copy-storage-synchronous-writes' requires one of '--copy-storage-all', 'copy-storage-inc'",
        ));
    }
    Ok(f)
}

/// Peer-to-peer and direct migrations go through virDomainMigrateToURI3;
/// the rest are managed by this client.
pub fn uses_to_uri(c: &ParsedCommand) -> bool {
    c.has("p2p") || c.has("direct")
}

fn migrate(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    check_options(c)?;
    let dom = ctl.lookup_domain(c.get("domain").unwrap_or_default(), BY_ANY)?;
    let watch = WatchOptions {
        label: "Migration",
        verbose: c.has("verbose"),
        timeout: timeout(c)?,
        postcopy_after_precopy: c.has("postcopy-after-precopy"),
    };
    // Managed migration: this client opens the destination itself.
    let dconn = if uses_to_uri(c) {
        None
    } else {
        let desturi = opt_string(c, "desturi")?.unwrap_or_default();
        Some(Connect::open(desturi)?)
    };
    let desturi = opt_string(c, "desturi")?.unwrap_or_default();
    let params = build_params(c)?;
    let flags = build_flags(c)?;
    watch_job(&dom, &watch, || match &dconn {
        None => dom.migrate_to_uri3(Some(desturi), &params, flags),
        Some(dconn) => dom.migrate3(dconn, &params, flags).map(|_| ()),
    })?;
    Ok(())
}
