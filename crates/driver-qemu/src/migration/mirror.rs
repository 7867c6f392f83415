//! The source's disk copy (libvirt's `qemuMigrationSrcNBDStorageCopy` and
//! `qemuMigrationSrcNBDCopyCancel`): per disk an NBD client node
//! (`migration-vda-storage` / `-format`) on the destination's export and a
//! `blockdev-mirror` job named `drive-ALIAS`, full (`--copy-storage-all`) or
//! of the top image only (`--copy-storage-inc`). The memory migration
//! starts once every mirror is ready; QEMU then stops before the switch-over
//! (`pause-before-switchover`), the mirrors are cancelled gracefully (a
//! ready mirror then completes, the destination holding the guest's disk as
//! it is at that moment) and the migration continues. On failure or abort
//! the mirrors are force-cancelled and their nodes removed.

use super::storage::{
    BlockJobCancel, BlockdevAdd, BlockdevDel, BlockdevMirror, CopiedDisk, JobDismiss, QueryJobs,
};
use crate::monitor::Monitor;
use parking_lot::Mutex;
use rvirt::migration::flags;
use rvirt_conf::MigrationCookie;
use rvirt_hypervisor::job::{DiskProgress, Job};
use rvirt_hypervisor::Request;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use serde_json::{json, Value};
use std::time::Duration;

const POLL: Duration = Duration::from_millis(100);
/// How long the mirrors may take to end once cancelled.
const CANCEL_WAIT: Duration = Duration::from_secs(60);

/// Where the destination's NBD server is, from the source's side.
#[derive(Debug, Clone, PartialEq)]
enum Server {
    Tcp { host: String, port: u16 },
    Unix(String),
}

/// The mirrors of one outgoing migration.
pub struct Mirrors {
    disks: Vec<CopiedDisk>,
    server: Server,
    /// `sync`: `full`, or `top` for NON_SHARED_INC.
    sync: &'static str,
    /// NON_SHARED_SYNCHRONOUS_WRITES: `copy-mode` `write-blocking`.
    blocking: bool,
    /// VIR_MIGRATE_TLS: the NBD clients use the migration's credentials
    /// (and `tls.destination`'s host name, when given).
    tls: Option<Option<String>>,
    /// The disks whose nodes (and job) exist, until cleaned up.
    started: Mutex<Vec<CopiedDisk>>,
    /// The mirrors' figures when last polled (libvirt's `mirrorStats`).
    progress: Mutex<DiskProgress>,
}

fn nbd_not_set_up() -> Error {
    Error::internal(
        ErrorDomain::QEMU,
        "migration of non-shared disks requested but NBD is not set up",
    )
}

/// The host of a migration URI (`tcp:H:P`, `tcp://H:P`, `tcp:[v6]:P`).
fn uri_host(uri: &str) -> String {
    let rest = uri
        .strip_prefix("tcp://")
        .or_else(|| uri.strip_prefix("tcp:"))
        .unwrap_or(uri)
        .trim_end_matches('/');
    let host = match rest.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => rest,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

impl Mirrors {
    /// The mirrors for `disks`, to the server the destination's cookie
    /// names (the host of the migration `uri`, or `disks_uri`'s).
    pub fn plan(
        disks: Vec<CopiedDisk>,
        req: &Request,
        flags: u32,
        dest: Option<&MigrationCookie>,
        uri: &str,
    ) -> Result<Mirrors> {
        let nbd = dest.and_then(|c| c.nbd()).ok_or_else(nbd_not_set_up)?;
        let port = nbd.port.and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
        let mut server = Server::Tcp {
            host: uri_host(uri),
            port,
        };
        if let Some(text) = &req.disks_uri {
            let parsed = Uri::parse(text)?;
            server = match (parsed.scheme.as_str(), server) {
                ("tcp", Server::Tcp { host, port }) => Server::Tcp {
                    host: parsed.server.filter(|s| !s.is_empty()).unwrap_or(host),
                    port: parsed.port.unwrap_or(port),
                },
                ("unix", _) if parsed.path.is_empty() => {
                    return Err(Error::invalid_arg(
                        ErrorDomain::QEMU,
                        "UNIX disks URI does not include path",
                    ))
                }
                ("unix", _) => Server::Unix(parsed.path),
                (other, _) => {
                    return Err(Error::invalid_arg(
                        ErrorDomain::QEMU,
                        format!("Unsupported scheme in disks URI: {other}"),
                    ))
                }
            };
        }
        let tls = flags & flags::TLS != 0;
        if tls && matches!(server, Server::Unix(_)) {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::OPERATION_UNSUPPORTED,
                "NBD migration with TLS is not supported over UNIX socket",
            ));
        }
        Ok(Mirrors {
            disks,
            server,
            tls: tls.then(|| req.tls_destination.clone()),
            sync: if flags & flags::NON_SHARED_INC != 0 {
                "top"
            } else {
                "full"
            },
            blocking: flags & flags::NON_SHARED_SYNCHRONOUS_WRITES != 0,
            started: Mutex::default(),
            progress: Mutex::default(),
        })
    }

    /// The NBD client nodes and a mirror job per disk, at `speed` bytes/s.
    pub async fn start(&self, mon: &Monitor, speed: i64) -> Result<()> {
        let server = match &self.server {
            Server::Tcp { host, port } => {
                json!({"type": "inet", "host": host, "port": port.to_string()})
            }
            Server::Unix(path) => json!({"type": "unix", "path": path}),
        };
        for d in &self.disks {
            let (storage, format) = node_names(d);
            let mut nbd = json!({
                "driver": "nbd", "server": server, "export": d.export,
                "node-name": storage, "read-only": false,
            });
            if let Some(hostname) = &self.tls {
                nbd["tls-creds"] = json!(super::tls::ALIAS);
                if let Some(h) = hostname {
                    nbd["tls-hostname"] = json!(h);
                }
            }
            mon.execute(BlockdevAdd { args: nbd }).await?;
            self.started.lock().push(d.clone());
            let raw = json!({
                "node-name": format, "read-only": false,
                "driver": "raw", "file": storage,
            });
            if let Err(e) = mon.execute(BlockdevAdd { args: raw }).await {
                let _ = del(mon, &storage).await;
                self.started.lock().retain(|s| s.target != d.target);
                return Err(e);
            }
            let mut mirror = json!({
                "job-id": d.export, "device": d.node, "target": format,
                "speed": speed, "sync": self.sync,
                "auto-finalize": true, "auto-dismiss": false,
            });
            if self.blocking {
                mirror["copy-mode"] = json!("write-blocking");
            }
            mon.execute(BlockdevMirror { args: mirror }).await?;
        }
        Ok(())
    }

    /// Wait until every mirror is ready (or one failed, or the job was
    /// aborted): the memory migration may start then.
    pub async fn wait_ready(&self, mon: &Monitor, job: &Job) -> Result<()> {
        loop {
            if job.aborted() {
                return Err(job.aborted_error());
            }
            let states = self.states(mon).await?;
            job.update(|p| p.disk = self.progress());
            failure(&states)?;
            if states.iter().all(|(_, s)| *s == State::Ready) {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// During the memory migration: a mirror that failed fails it
    /// (libvirt's `QEMU_MIGRATION_COMPLETED_CHECK_STORAGE`).
    pub async fn check(&self, mon: &Monitor) -> Result<()> {
        if self.started.lock().is_empty() {
            return Ok(());
        }
        failure(&self.states(mon).await?)
    }

    /// End every mirror: gracefully at the switch-over (a ready mirror
    /// then completes with the destination consistent), forced when the
    /// migration is abandoned (`abort`); then their nodes go. A mirror
    /// that failed is an error unless aborting.
    pub async fn finish(&self, mon: &Monitor, abort: bool) -> Result<()> {
        let disks = std::mem::take(&mut *self.started.lock());
        if disks.is_empty() {
            return Ok(());
        }
        for (d, state) in self.states_of(mon, &disks).await? {
            if matches!(state, State::Active | State::Ready) {
                let cancel = json!({"device": d.export, "force": abort});
                if let Err(e) = mon.execute(BlockJobCancel { args: cancel }).await {
                    tracing::warn!("cannot cancel the mirror of {}: {}", d.target, e.message);
                }
            }
        }
        let ended = self.wait_ended(mon, &disks).await;
        for d in &disks {
            let _ = mon
                .execute(JobDismiss {
                    args: json!({"id": d.export}),
                })
                .await;
            let (storage, format) = node_names(d);
            let _ = del(mon, &format).await;
            let _ = del(mon, &storage).await;
        }
        match ended {
            Ok(failed) if !abort => failure(&failed),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Wait until no mirror of `disks` is running; their last states.
    async fn wait_ended(
        &self,
        mon: &Monitor,
        disks: &[CopiedDisk],
    ) -> Result<Vec<(CopiedDisk, State)>> {
        let deadline = tokio::time::Instant::now() + CANCEL_WAIT;
        loop {
            let states = self.states_of(mon, disks).await?;
            let running = states
                .iter()
                .any(|(_, s)| matches!(s, State::Active | State::Ready));
            if !running {
                return Ok(states);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorDomain::QEMU,
                    ErrorCode::OPERATION_TIMEOUT,
                    "timed out waiting for the disk mirrors to end",
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The disks copied.
    pub fn disks(&self) -> &[CopiedDisk] {
        &self.disks
    }

    /// The disks' copy as last polled: bytes to copy, copied, left.
    pub fn progress(&self) -> DiskProgress {
        *self.progress.lock()
    }

    async fn states(&self, mon: &Monitor) -> Result<Vec<(CopiedDisk, State)>> {
        let disks = self.started.lock().clone();
        self.states_of(mon, &disks).await
    }

    async fn states_of(
        &self,
        mon: &Monitor,
        disks: &[CopiedDisk],
    ) -> Result<Vec<(CopiedDisk, State)>> {
        let jobs = mon.execute(QueryJobs { args: json!({}) }).await?;
        if let Some(p) = progress_of(&jobs, disks) {
            *self.progress.lock() = p;
        }
        Ok(disks
            .iter()
            .map(|d| (d.clone(), state_of(&jobs, &d.export)))
            .collect())
    }
}

/// `migration-vda-storage` / `migration-vda-format`, as libvirt names them.
fn node_names(d: &CopiedDisk) -> (String, String) {
    (
        format!("migration-{}-storage", d.target),
        format!("migration-{}-format", d.target),
    )
}

async fn del(mon: &Monitor, node: &str) -> Result<()> {
    mon.execute(BlockdevDel {
        args: json!({"node-name": node}),
    })
    .await
    .map(|_| ())
}

/// The summed `total-progress` / `current-progress` of the mirrors of
/// `disks` that `query-jobs` lists (libvirt's
/// `qemuMigrationSrcFetchMirrorStats`); `None` when it lists none.
fn progress_of(jobs: &Value, disks: &[CopiedDisk]) -> Option<DiskProgress> {
    let listed: Vec<&Value> = disks
        .iter()
        .filter_map(|d| jobs.as_array()?.iter().find(|j| j["id"] == d.export))
        .collect();
    if listed.is_empty() {
        return None;
    }
    let sum = |key: &str| listed.iter().map(|j| j[key].as_u64().unwrap_or(0)).sum();
    let (total, processed): (u64, u64) = (sum("total-progress"), sum("current-progress"));
    Some(DiskProgress {
        total,
        processed,
        remaining: total.saturating_sub(processed),
        bps: 0,
    })
}

/// A mirror job as `query-jobs` shows it.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Active,
    Ready,
    Completed,
    Failed(Option<String>),
    /// Not (or no longer) listed.
    Gone,
}

fn state_of(jobs: &Value, id: &str) -> State {
    let Some(job) = jobs
        .as_array()
        .and_then(|a| a.iter().find(|j| j["id"] == id))
    else {
        return State::Gone;
    };
    let error = job["error"].as_str().map(str::to_string);
    match (job["status"].as_str().unwrap_or_default(), error) {
        ("ready", _) => State::Ready,
        ("concluded" | "null", Some(e)) => State::Failed(Some(e)),
        ("concluded" | "null", None) => State::Completed,
        ("aborting", e) => State::Failed(e),
        _ => State::Active,
    }
}

/// `qemuMigrationNBDReportMirrorError` for the first mirror that failed.
fn failure(states: &[(CopiedDisk, State)]) -> Result<()> {
    for (d, s) in states {
        let text = match s {
            State::Failed(Some(e)) => format!("migration of disk {} failed: {e}", d.target),
            State::Failed(None) | State::Gone => format!("migration of disk {} failed", d.target),
            _ => continue,
        };
        return Err(Error::new(
            ErrorDomain::QEMU,
            ErrorCode::OPERATION_FAILED,
            text,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nbd_host_is_the_migration_uris() {
        assert_eq!(uri_host("tcp:10.0.0.2:49152"), "10.0.0.2");
        assert_eq!(uri_host("tcp://10.0.0.2:49152/"), "10.0.0.2");
        assert_eq!(uri_host("tcp:[fd00::2]:49152"), "fd00::2");
        assert_eq!(uri_host("tcp://host-b"), "host-b");
    }

    #[test]
    fn job_states_from_query_jobs() {
        let jobs = json!([
            {"id": "drive-virtio-disk0", "type": "mirror", "status": "ready"},
            {"id": "drive-virtio-disk1", "status": "concluded", "error": "No space left"},
            {"id": "drive-virtio-disk2", "status": "concluded"},
            {"id": "drive-virtio-disk3", "status": "running"},
        ]);
        assert_eq!(state_of(&jobs, "drive-virtio-disk0"), State::Ready);
        assert_eq!(
            state_of(&jobs, "drive-virtio-disk1"),
            State::Failed(Some("No space left".into()))
        );
        assert_eq!(state_of(&jobs, "drive-virtio-disk2"), State::Completed);
        assert_eq!(state_of(&jobs, "drive-virtio-disk3"), State::Active);
        assert_eq!(state_of(&jobs, "drive-x"), State::Gone);
        let disk = |export: &str| CopiedDisk {
            target: "vdx".into(),
            export: export.into(),
            node: "n".into(),
        };
        let sized = json!([
            {"id": "drive-virtio-disk0", "current-progress": 100, "total-progress": 400},
            {"id": "drive-virtio-disk1", "current-progress": 50, "total-progress": 50},
            {"id": "drive-other", "current-progress": 7, "total-progress": 9},
        ]);
        let both = [disk("drive-virtio-disk0"), disk("drive-virtio-disk1")];
        let p = progress_of(&sized, &both).unwrap();
        assert_eq!((p.total, p.processed, p.remaining), (450, 150, 300));
        assert_eq!(progress_of(&sized, &[disk("drive-x")]), None);
        let vda = CopiedDisk {
            target: "vda".into(),
            export: "drive-virtio-disk1".into(),
            node: "libvirt-1-format".into(),
        };
        let e = failure(&[(vda, state_of(&jobs, "drive-virtio-disk1"))]).unwrap_err();
        assert_eq!(
            e.message,
            "operation failed: migration of disk vda failed: No space left"
        );
    }
}
