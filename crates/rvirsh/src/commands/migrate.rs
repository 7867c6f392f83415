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

/// How an option becomes typed parameters.
#[derive(Clone, Copy)]
enum Kind {
    String,
    /// A comma separated list, one string parameter per item (g_strsplit
    /// keeps empty items).
    List,
    Int,
    /// An int that virsh passes only when it is not zero.
    NonZeroInt,
    ULLong,
    /// The contents of the file the option names (`--xml`,
    /// `--persistent-xml`), with virsh's two errors.
    File,
}

/// doMigrate's typed parameters, in its order and with its types: the
/// option, how it is read and the parameter it sets.
#[rustfmt::skip]
const PARAM_OPTIONS: &[(&str, Kind, &str)] = &[
    ("migrateuri", Kind::String, params::URI),
    ("graphicsuri", Kind::String, params::GRAPHICS_URI),
    ("listen-address", Kind::String, params::LISTEN_ADDRESS),
    ("disks-port", Kind::NonZeroInt, params::DISKS_PORT),
    ("disks-uri", Kind::String, params::DISKS_URI),
    ("dname", Kind::String, params::DEST_NAME),
    ("migrate-disks", Kind::List, params::MIGRATE_DISKS),
    ("comp-methods", Kind::List, params::COMPRESSION),
    ("comp-mt-level", Kind::Int, params::COMPRESSION_MT_LEVEL),
    ("comp-mt-threads", Kind::Int, params::COMPRESSION_MT_THREADS),
    ("comp-mt-dthreads", Kind::Int, params::COMPRESSION_MT_DTHREADS),
    ("comp-xbzrle-cache", Kind::ULLong, params::COMPRESSION_XBZRLE_CACHE),
    ("xml", Kind::File, params::DEST_XML),
    ("persistent-xml", Kind::File, params::PERSIST_XML),
    ("auto-converge-initial", Kind::Int, params::AUTO_CONVERGE_INITIAL),
    ("auto-converge-increment", Kind::Int, params::AUTO_CONVERGE_INCREMENT),
    ("postcopy-bandwidth", Kind::ULLong, params::BANDWIDTH_POSTCOPY),
    ("parallel-connections", Kind::Int, params::PARALLEL_CONNECTIONS),
    ("bandwidth", Kind::ULLong, params::BANDWIDTH),
    ("tls-destination", Kind::String, params::TLS_DESTINATION),
];

/// doMigrate's typed parameters, from [`PARAM_OPTIONS`].
pub fn build_params(c: &ParsedCommand) -> Result<TypedParams, CmdError> {
    let mut p = TypedParams::new();
    for &(opt, kind, name) in PARAM_OPTIONS {
        add_param(&mut p, c, opt, kind, name)?;
    }
    Ok(p)
}

fn add_param(
    p: &mut TypedParams,
    c: &ParsedCommand,
    opt: &str,
    kind: Kind,
    name: &str,
) -> CmdResult {
    match kind {
        Kind::String => {
            if let Some(v) = opt_string(c, opt)? {
                p.push(name, TypedParamValue::String(v.into()));
            }
        }
        Kind::List => {
            for item in opt_string(c, opt)?.into_iter().flat_map(|v| v.split(',')) {
                p.push(name, TypedParamValue::String(item.into()));
            }
        }
        Kind::Int | Kind::NonZeroInt => {
            let skip_zero = matches!(kind, Kind::NonZeroInt);
            if let Some(v) = opt_int(c, opt)?.filter(|v| !(skip_zero && *v == 0)) {
                p.push(name, TypedParamValue::Int(v));
            }
        }
        Kind::ULLong => {
            if let Some(v) = opt_ull(c, opt)? {
                p.push(name, TypedParamValue::ULLong(v));
            }
        }
        Kind::File => {
            if let Some(path) = opt_string(c, opt)? {
                let xml = super::lifecycle::read_file(path).map_err(|e| CmdError {
                    own: Some(format!("cannot read file '{path}'")),
                    libvirt: e.libvirt,
                })?;
                p.push(name, TypedParamValue::String(xml));
            }
        }
    }
    Ok(())
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
