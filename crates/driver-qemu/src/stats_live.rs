//! The figures of a running guest only QEMU knows, read over QMP for
//! `virConnectGetAllDomainStats` and `virDomainMemoryStats` as libvirt's
//! qemuDomainGetStats* read them: block I/O counters and sizes
//! (`query-blockstats`, `query-named-block-nodes`), the guest's balloon
//! statistics (`qom-get guest-stats`), halt-polling times (`query-stats`),
//! the dirty-rate state (`query-dirty-rate`) and the IOThreads' polling
//! (`query-iothreads`). A command that fails
//! leaves its figures out, as libvirt resets the error and goes on.

use crate::state::Running;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Narrow QMP commands answered with plain JSON: the `qapi-qmp` reply
/// types of these follow a newer schema than QEMU 7.2 (and libvirt
/// itself reads them member by member).
macro_rules! json_command {
    ($($name:ident = $qmp:literal { $($field:ident: $ty:ty => $key:literal),* })*) => {$(
        #[derive(Serialize)]
        struct $name {
            $( #[serde(rename = $key)] $field: $ty, )*
        }
        crate::monitor::qmp_command!($name = $qmp => Value);
    )*};
}

json_command! {
    QueryBlockstats = "query-blockstats" { query_nodes: bool => "query-nodes" }
    QueryNamedBlockNodes = "query-named-block-nodes" { flat: bool => "flat" }
    QomGet = "qom-get" { path: String => "path", property: String => "property" }
    QueryStats = "query-stats" { target: String => "target", providers: Value => "providers" }
    QueryDirtyRate = "query-dirty-rate" {}
}

/// One block node's figures (libvirt's qemuBlockStats).
#[derive(Default, Clone, Debug)]
pub struct BlockFigures {
    /// rd.reqs, rd.bytes, rd.times, wr.reqs, wr.bytes, wr.times,
    /// fl.reqs, fl.times, in libvirt's order.
    pub io: Option<[u64; 8]>,
    pub wr_highest_offset: u64,
    pub capacity: u64,
    pub physical: u64,
}

/// `query-dirty-rate`'s answer in libvirt's terms.
#[derive(Clone, Debug)]
pub struct DirtyRate {
    pub status: i32,
    pub start_time: i64,
    pub period: i32,
    pub mode: String,
    pub megabytes_per_second: Option<i64>,
    pub vcpus: Vec<(i64, u64)>,
}

/// What one running guest's QEMU told.
#[derive(Default, Clone, Debug)]
pub struct LiveFigures {
    /// By node name (`libvirt-N-format`, `libvirt-N-storage`).
    pub blocks: HashMap<String, BlockFigures>,
    /// `VIR_DOMAIN_MEMORY_STAT_*` (tag, value) from the guest's balloon
    /// driver, in libvirt's order.
    pub guest_memory: Vec<(i32, u64)>,
    pub haltpoll: Option<(u64, u64)>,
    pub dirty_rate: Option<DirtyRate>,
    pub iothreads: Option<Vec<IoThreadPoll>>,
}

/// One entry of `query-iothreads` as libvirt's qemuMonitorIOThreadInfo
/// keeps it for the stats: the N of `iothreadN` (None for another name,
/// which still counts) and its poll-max-ns, poll-grow, poll-shrink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoThreadPoll {
    pub id: Option<u32>,
    pub poll: (u64, u32, u32),
}

/// Which figures to ask for.
#[derive(Clone, Copy, Default)]
pub struct Wanted {
    pub block: bool,
    /// The balloon device's QOM path, when the guest has one.
    pub balloon: Option<&'static str>,
    pub haltpoll: bool,
    pub dirty_rate: bool,
    pub iothreads: bool,
}

/// Every figure `wanted`, the monitor asked for all at once (QMP
/// commands carry ids, so their answers need not wait on each other).
pub async fn gather(run: Arc<Running>, wanted: Wanted) -> LiveFigures {
    let (blocks, guest_memory, haltpoll, dirty_rate, iothreads) = futures::join!(
        async {
            if wanted.block {
                block_figures(&run).await
            } else {
                HashMap::new()
            }
        },
        async {
            match wanted.balloon {
                Some(path) => guest_memory(&run, path).await,
                None => Vec::new(),
            }
        },
        async {
            if wanted.haltpoll {
                haltpoll(&run).await
            } else {
                None
            }
        },
        async {
            if wanted.dirty_rate {
                dirty_rate(&run).await
            } else {
                None
            }
        },
        async {
            if wanted.iothreads {
                iothreads(&run).await
            } else {
                None
            }
        },
    );
    LiveFigures {
        blocks,
        guest_memory,
        haltpoll,
        dirty_rate,
        iothreads,
    }
}

fn number(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// qemuMonitorJSONBlockStatsCollectData: the counters of one entry.
fn io_counters(stats: &Value) -> [u64; 8] {
    let n = |k| number(stats, k).unwrap_or(0);
    [
        n("rd_operations"),
        n("rd_bytes"),
        n("rd_total_time_ns"),
        n("wr_operations"),
        n("wr_bytes"),
        n("wr_total_time_ns"),
        n("flush_operations"),
        n("flush_total_time_ns"),
    ]
}

/// A block entry's node name and its member `key`, with the entry.
fn node_member<'a>(entry: &'a Value, key: &str) -> Option<(&'a str, &'a Value, &'a Value)> {
    let node = entry.get("node-name").and_then(Value::as_str)?;
    Some((node, entry.get(key)?, entry))
}

/// qemuMonitorJSONGetAllBlockStatsInfo + ...UpdateCapacityBlockdev: the
/// devices' entries (by their node names, with the highest offset written
/// from the layer below), then the nodes not seen yet, then the image sizes.
async fn block_figures(run: &Running) -> HashMap<String, BlockFigures> {
    let mut blocks: HashMap<String, BlockFigures> = HashMap::new();
    let (devices, nodes, sizes) = futures::join!(
        run.monitor.execute(QueryBlockstats { query_nodes: false }),
        run.monitor.execute(QueryBlockstats { query_nodes: true }),
        // Without each node's backing chain repeated inside it, as libvirt asks.
        run.monitor.execute(QueryNamedBlockNodes { flat: true }),
    );
    for answer in [devices, nodes] {
        let Ok(Value::Array(entries)) = answer else {
            return blocks;
        };
        for (node, stats, entry) in entries.iter().filter_map(|e| node_member(e, "stats")) {
            if blocks.contains_key(node) {
                continue;
            }
            let below = entry.pointer("/parent/stats/wr_highest_offset");
            let figures = BlockFigures {
                io: Some(io_counters(stats)),
                wr_highest_offset: below.and_then(Value::as_u64).unwrap_or(0),
                ..BlockFigures::default()
            };
            blocks.insert(node.to_string(), figures);
        }
    }
    if let Ok(Value::Array(nodes)) = sizes {
        for (name, image, _) in nodes.iter().filter_map(|n| node_member(n, "image")) {
            let entry = blocks.entry(name.to_string()).or_default();
            if let Some(size) = number(image, "virtual-size") {
                entry.capacity = size;
                // No actual-size: the image is not thin provisioned.
                entry.physical = number(image, "actual-size").unwrap_or(size);
            }
        }
    }
    blocks
}

/// qemuMonitorJSONGetMemoryStats: the guest's own figures, skipping the
/// ones it does not collect (-1), in libvirt's order and units (KiB).
async fn guest_memory(run: &Running, path: &str) -> Vec<(i32, u64)> {
    let ask = QomGet {
        path: path.to_string(),
        property: "guest-stats".into(),
    };
    let Ok(reply) = run.monitor.execute(ask).await else {
        return Vec::new();
    };
    let Some(stats) = reply.get("stats") else {
        return Vec::new();
    };
    // (object, member, VIR_DOMAIN_MEMORY_STAT_* tag, divisor)
    let fields: [(&Value, &str, i32, u64); 11] = [
        (stats, "stat-swap-in", 0, 1024),
        (stats, "stat-swap-out", 1, 1024),
        (stats, "stat-major-faults", 2, 1),
        (stats, "stat-minor-faults", 3, 1),
        (stats, "stat-free-memory", 4, 1024),
        (stats, "stat-total-memory", 5, 1024),
        (stats, "stat-available-memory", 8, 1024),
        (&reply, "last-update", 9, 1),
        (stats, "stat-disk-caches", 10, 1024),
        (stats, "stat-htlb-pgalloc", 11, 1),
        (stats, "stat-htlb-pgfail", 12, 1),
    ];
    fields
        .iter()
        .filter_map(|(obj, key, tag, div)| {
            let v = obj.get(*key)?.as_i64()?;
            (v != -1).then(|| (*tag, (v as u64) / div))
        })
        .collect()
}

/// qemuDomainGetStatsCpuHaltPollTimeFromStats: the KVM provider's halt
/// polling times summed over the vCPUs (none under TCG: both 0).
async fn haltpoll(run: &Running) -> Option<(u64, u64)> {
    let ask = QueryStats {
        target: "vcpu".into(),
        providers: json!([{"provider": "kvm",
                           "names": ["halt_poll_success_ns", "halt_poll_fail_ns"]}]),
    };
    let Value::Array(vcpus) = run.monitor.execute(ask).await.ok()? else {
        return None;
    };
    let (mut success, mut fail) = (0, 0);
    for vcpu in &vcpus {
        let stats = vcpu.get("stats")?.as_array()?;
        let named = |n: &str| {
            stats
                .iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(n))
                .and_then(|s| number(s, "value"))
        };
        success += named("halt_poll_success_ns")?;
        fail += named("halt_poll_fail_ns")?;
    }
    Some((success, fail))
}

/// qemuMonitorQueryDirtyRate.
async fn dirty_rate(run: &Running) -> Option<DirtyRate> {
    let reply = run.monitor.execute(QueryDirtyRate {}).await.ok()?;
    let status = match reply.get("status")?.as_str()? {
        "unstarted" => 0,
        "measuring" => 1,
        "measured" => 2,
        _ => return None,
    };
    let vcpus = reply
        .get("vcpu-dirty-rate")
        .and_then(Value::as_array)
        .map(|rates| {
            rates
                .iter()
                .filter_map(|r| Some((r.get("id")?.as_i64()?, number(r, "dirty-rate")?)))
                .collect()
        })
        .unwrap_or_default();
    Some(DirtyRate {
        status,
        start_time: reply.get("start-time").and_then(Value::as_i64).unwrap_or(0),
        period: reply.get("calc-time").and_then(Value::as_i64).unwrap_or(0) as i32,
        mode: reply
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("page-sampling")
            .to_string(),
        megabytes_per_second: reply.get("dirty-rate").and_then(Value::as_i64),
        vcpus,
    })
}

/// qemuMonitorJSONGetIOThreads for the stats: every entry in QEMU's
/// order.
async fn iothreads(run: &Running) -> Option<Vec<IoThreadPoll>> {
    let threads = run
        .monitor
        .execute(qapi::qmp::query_iothreads {})
        .await
        .ok()?;
    let polls = threads.into_iter().map(|t| IoThreadPoll {
        id: t.id.strip_prefix("iothread").and_then(|n| n.parse().ok()),
        poll: (
            t.poll_max_ns as u64,
            t.poll_grow as u32,
            t.poll_shrink as u32,
        ),
    });
    Some(polls.collect())
}
