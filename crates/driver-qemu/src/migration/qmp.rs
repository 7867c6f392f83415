//! The migration commands as QEMU 7.2 speaks them, each as narrow as the
//! driver needs (the `qapi-qmp` crate's schema is newer: its `migrate`
//! lacks 7.2's arguments and its stats require members 7.2 does not send),
//! and the request → capabilities / parameters mapping of libvirt's
//! `qemu_migration_params.c`.

use crate::monitor::qmp_command;
use qapi::qmp::{MigrationCapability as Cap, MigrationCapabilityStatus};
use rvirt::migration::flags;
use rvirt_hypervisor::rules::{connections_of, mt_of};
use rvirt_hypervisor::{Request, Tunables};
use rvirt_util::{ErrorDomain, Result};
use serde::{Deserialize, Serialize};

/// `query-migrate-capabilities` read by name: the crate's enum follows a
/// newer schema, which lacks capabilities 7.2 still lists.
#[derive(Debug, Clone, Serialize, Default)]
pub struct QueryCapabilities {}

qmp_command!(QueryCapabilities = "query-migrate-capabilities" => Vec<CapabilityName>);

#[derive(Debug, Clone, Deserialize)]
pub struct CapabilityName {
    pub capability: String,
}

/// The migration capabilities this QEMU has, for the cookie; none when
/// QEMU cannot say.
pub async fn supported_capabilities(monitor: &crate::monitor::Monitor) -> Vec<String> {
    match monitor.execute(QueryCapabilities {}).await {
        Ok(caps) => caps.into_iter().map(|c| c.capability).collect(),
        Err(_) => Vec::new(),
    }
}

/// This QEMU's migration capabilities in `cookie`, marked as `party`'s
/// (libvirt's begin and prepare cookies carry them).
pub fn add_capabilities(
    driver: &crate::driver::Driver,
    run: &std::sync::Arc<crate::state::Running>,
    party: Party,
    cookie: &mut rvirt_conf::MigrationCookie,
) {
    let run = run.clone();
    let supported = driver
        .rt
        .run(async move { supported_capabilities(&run.monitor).await });
    cookie.set_capabilities(&supported, party.automatic_capability());
}

impl Party {
    /// The capability libvirt's party enables on its own
    /// (`qemuMigrationParamsAlwaysOn`), which the cookie marks `auto`.
    pub fn automatic_capability(self) -> &'static str {
        match self {
            Party::Source => "pause-before-switchover",
            Party::Destination => "late-block-activate",
        }
    }
}

/// Which end of the migration a setting is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    Source,
    Destination,
}

/// `migrate-set-parameters` with the members the driver sets.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SetParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bandwidth: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downtime_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_postcopy_bandwidth: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xbzrle_cache_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_throttle_initial: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_throttle_increment: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compress_level: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compress_threads: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decompress_threads: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multifd_channels: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_creds: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_hostname: Option<String>,
    /// Which dirty bitmaps travel, under which aliases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_bitmap_mapping: Option<serde_json::Value>,
}

qmp_command!(SetParameters = "migrate-set-parameters" => qapi::Empty);

/// `migrate` (source) with its URI.
#[derive(Debug, Clone, Serialize)]
pub struct Migrate {
    pub uri: String,
}

qmp_command!(Migrate = "migrate" => qapi::Empty);

/// `migrate-incoming` (destination started with `-incoming defer`).
#[derive(Debug, Clone, Serialize)]
pub struct MigrateIncoming {
    pub uri: String,
}

qmp_command!(MigrateIncoming = "migrate-incoming" => qapi::Empty);

/// `query-migrate`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct QueryMigrate {}

qmp_command!(QueryMigrate = "query-migrate" => MigrationInfo);

/// `query-status`: only the run state (`inmigrate`, `paused`, ...).
#[derive(Debug, Clone, Serialize, Default)]
pub struct QueryStatus {}

qmp_command!(QueryStatus = "query-status" => StatusInfo);

#[derive(Debug, Clone, Deserialize)]
pub struct StatusInfo {
    pub status: String,
}

/// The members of 7.2's `MigrationInfo` the job statistics read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct MigrationInfo {
    pub status: Option<String>,
    pub ram: Option<RamStats>,
    pub total_time: Option<u64>,
    pub expected_downtime: Option<u64>,
    pub downtime: Option<u64>,
    pub setup_time: Option<u64>,
    pub cpu_throttle_percentage: Option<u64>,
    pub error_desc: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RamStats {
    pub transferred: u64,
    pub remaining: u64,
    pub total: u64,
    pub duplicate: u64,
    pub normal: u64,
    pub normal_bytes: u64,
    pub dirty_pages_rate: u64,
    pub mbps: f64,
    pub dirty_sync_count: u64,
    pub page_size: u64,
    pub postcopy_requests: u64,
}

pub(super) fn mib_to_bytes(mib: u64) -> i64 {
    i64::try_from(mib.saturating_mul(1024 * 1024)).unwrap_or(i64::MAX)
}

pub(super) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The compression methods in effect: `--compressed` alone means xbzrle.
pub fn methods(req: &Request, flags: u32) -> Vec<String> {
    match (flags & flags::COMPRESSED != 0, req.compression.is_empty()) {
        (false, _) => Vec::new(),
        (true, true) => vec!["xbzrle".to_string()],
        (true, false) => req.compression.clone(),
    }
}

/// Every capability the driver manages, on or off for `party`: QEMU keeps
/// capabilities between migrations, so each migration sets all of them
/// (`qemuMigrationParamsFlagMap`).
pub fn capabilities(req: &Request, flags: u32, party: Party) -> Vec<MigrationCapabilityStatus> {
    let xbzrle = methods(req, flags).iter().any(|m| m == "xbzrle");
    let source = party == Party::Source;
    let mut caps = vec![
        (Cap::events, true),
        (
            Cap::auto_converge,
            source && flags & flags::AUTO_CONVERGE != 0,
        ),
        (Cap::postcopy_ram, flags & flags::POSTCOPY != 0),
        (Cap::multifd, flags & flags::PARALLEL != 0),
        (Cap::xbzrle, xbzrle),
        // The tunnel carries one direction only.
        (Cap::return_path, flags & flags::TUNNELLED == 0),
        // Storage migration: QEMU stops before the switch-over, so the
        // disk mirrors end with the guest paused (libvirt has it always
        // on; here only where a mirror needs it).
        (
            Cap::pause_before_switchover,
            source && flags & (flags::NON_SHARED_DISK | flags::NON_SHARED_INC) != 0,
        ),
    ];
    if !source {
        caps.push((Cap::late_block_activate, true));
    }
    // 7.2's `compress` (libvirt's "mt"), which the crate's newer schema
    // no longer names, goes through [`CompressCapability`].
    caps.into_iter()
        .map(|(capability, state)| MigrationCapabilityStatus { capability, state })
        .collect()
}

/// `migrate-set-capabilities` for 7.2's `compress` capability alone.
#[derive(Debug, Clone, Serialize)]
pub struct CompressCapability {
    pub capabilities: [CompressState; 1],
}

#[derive(Debug, Clone, Serialize)]
pub struct CompressState {
    pub capability: &'static str,
    pub state: bool,
}

impl CompressCapability {
    pub fn new(on: bool) -> CompressCapability {
        CompressCapability {
            capabilities: [CompressState {
                capability: "compress",
                state: on,
            }],
        }
    }
}

qmp_command!(CompressCapability = "migrate-set-capabilities" => qapi::Empty);

/// The parameters for `party` (`qemuMigrationParamsTPMap`); the source's
/// speed, downtime and cache come from the job's tunables (the domain's
/// with this migration's own settings).
pub fn parameters(
    req: &Request,
    flags: u32,
    party: Party,
    tunables: &Tunables,
) -> Result<SetParameters> {
    let d = ErrorDomain::QEMU;
    let channels = connections_of(d, flags, req)?;
    let mt = mt_of(d, req)?;
    // `tls.destination` names the host the source verifies; without it
    // QEMU takes the URI's (libvirt leaves tls-hostname empty then).
    let tls_hostname = match (party, flags & flags::TLS != 0) {
        (Party::Source, true) => req.tls_destination.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let mut p = SetParameters {
        multifd_channels: channels.map(i64::from),
        decompress_threads: mt.map(|m| i64::from(m.dthreads)),
        tls_creds: Some(super::tls::creds(flags)),
        tls_hostname: Some(tls_hostname),
        ..SetParameters::default()
    };
    if party == Party::Source {
        p.max_bandwidth = Some(mib_to_bytes(tunables.max_speed));
        p.downtime_limit = Some(int(tunables.max_downtime));
        p.max_postcopy_bandwidth = req.bandwidth_postcopy.map(mib_to_bytes);
        p.xbzrle_cache_size = methods(req, flags)
            .iter()
            .any(|m| m == "xbzrle")
            .then(|| int(tunables.xbzrle_cache));
        p.cpu_throttle_initial = req.ac_initial.map(i64::from);
        p.cpu_throttle_increment = req.ac_increment.map(i64::from);
        p.compress_level = mt.map(|m| i64::from(m.level));
        p.compress_threads = mt.map(|m| i64::from(m.threads));
    }
    Ok(p)
}

/// A URI as QEMU's `migrate` / `migrate-incoming` take it: `tcp://H:P`
/// (libvirt's form) becomes `tcp:H:P`; `tcp:H:P` stays.
pub fn qemu_uri(uri: &str) -> String {
    match uri.strip_prefix("tcp://") {
        Some(rest) => format!("tcp:{}", rest.trim_end_matches('/')),
        None => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt_util::{TypedParamValue, TypedParams};

    fn request(p: &TypedParams, flags: u32) -> Request {
        crate::migration::request::SUPPORT.check(flags, p).unwrap()
    }

    #[test]
    fn caps_follow_flags_and_party() {
        let flags = flags::LIVE | flags::AUTO_CONVERGE | flags::PARALLEL;
        let req = request(&TypedParams::new(), flags);
        let on = |party| -> Vec<Cap> {
            capabilities(&req, flags, party)
                .into_iter()
                .filter(|c| c.state)
                .map(|c| c.capability)
                .collect()
        };
        let src = on(Party::Source);
        assert!(src.contains(&Cap::auto_converge) && src.contains(&Cap::multifd));
        let dst = on(Party::Destination);
        assert!(!dst.contains(&Cap::auto_converge) && dst.contains(&Cap::multifd));
        assert!(dst.contains(&Cap::late_block_activate));
        let req = request(&TypedParams::new(), flags::COMPRESSED);
        assert_eq!(methods(&req, flags::COMPRESSED), vec!["xbzrle".to_string()]);
    }

    #[test]
    fn parameters_in_qemus_units() {
        let p = TypedParams::new().with(
            rvirt::migration::params::PARALLEL_CONNECTIONS,
            TypedParamValue::Int(3),
        );
        let req = request(&p, flags::PARALLEL);
        let t = Tunables {
            max_speed: 5,
            ..Tunables::default()
        };
        let src = parameters(&req, flags::PARALLEL, Party::Source, &t).unwrap();
        assert_eq!(src.max_bandwidth, Some(5 << 20));
        assert_eq!(src.downtime_limit, Some(300));
        assert_eq!(src.multifd_channels, Some(3));
        assert_eq!(src.xbzrle_cache_size, None);
        let dst = parameters(&req, flags::PARALLEL, Party::Destination, &t).unwrap();
        assert_eq!((dst.max_bandwidth, dst.multifd_channels), (None, Some(3)));
        assert_eq!(qemu_uri("tcp://10.0.0.2:49152"), "tcp:10.0.0.2:49152");
        assert_eq!(qemu_uri("tcp:[::1]:5"), "tcp:[::1]:5");
    }

    #[test]
    fn seven_two_stats_decode() {
        let text = r#"{"status":"completed","total-time":1200,"downtime":31,
            "setup-time":4,"ram":{"transferred":1000,"remaining":0,"total":4096,
            "duplicate":3,"skipped":0,"normal":5,"normal-bytes":20480,
            "dirty-pages-rate":0,"mbps":812.5,"dirty-sync-count":2,
            "postcopy-requests":0,"page-size":4096,"multifd-bytes":0,
            "pages-per-second":10,"precopy-bytes":1000,"downtime-bytes":0,
            "postcopy-bytes":0,"dirty-sync-missed-zero-copy":0}}"#;
        let info: MigrationInfo = serde_json::from_str(text).unwrap();
        assert_eq!(info.downtime, Some(31));
        assert_eq!(info.ram.unwrap().normal_bytes, 20480);
        let empty: MigrationInfo = serde_json::from_str("{}").unwrap();
        assert!(empty.status.is_none());
    }
}
