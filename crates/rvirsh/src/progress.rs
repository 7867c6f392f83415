//! Migration progress arithmetic: virsh's percentage, measured throughput,
//! and the time left. Pure functions over job-stats snapshots, so the
//! numbers are tested without a migration running.
//!
//! Pre-copy converges only while the link sends faster than the guest
//! dirties memory: each pass re-sends what was dirtied during the last, so
//! the remaining data shrinks at (bandwidth - dirty rate). Hence
//! ETA = remaining / (bandwidth - dirty rate), and no ETA at all when the
//! guest dirties memory as fast as it can be sent.

use rvirt::job::field;
use rvirt_util::TypedParams;

/// virshPrintJobProgress's percentage: 100 only when nothing remains, never
/// 100 while something does.
pub fn virsh_percent(remaining: u64, total: u64) -> i32 {
    if remaining == 0 {
        return 100;
    }
    if total == 0 {
        return 0;
    }
    let p = (100.0 - remaining as f64 * 100.0 / total as f64) as i32;
    p.min(99)
}

/// The bytes virsh writes to stderr for one progress update:
/// `\rMigration: [ 50 %]` (no newline: each update overwrites the last).
pub fn virsh_progress_text(label: &str, remaining: u64, total: u64) -> String {
    format!("\r{label}: [{:3} %]", virsh_percent(remaining, total))
}

/// How long the rest of a migration will take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Eta {
    /// Nothing left to send.
    Done,
    Seconds(f64),
    /// The guest dirties memory at least as fast as it is sent.
    NotConverging,
    /// No throughput measured yet.
    Unknown,
}

/// remaining / (bandwidth - dirty rate); rates in bytes per second.
pub fn eta(remaining: u64, bandwidth: Option<f64>, dirty_rate: f64) -> Eta {
    if remaining == 0 {
        return Eta::Done;
    }
    let Some(bw) = bandwidth.filter(|b| b.is_finite() && *b > 0.0) else {
        return Eta::Unknown;
    };
    let net = bw - dirty_rate.max(0.0);
    if net <= 0.0 {
        return Eta::NotConverging;
    }
    Eta::Seconds(remaining as f64 / net)
}

impl std::fmt::Display for Eta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Eta::Done => f.write_str("0s"),
            Eta::Unknown => f.write_str("?"),
            Eta::NotConverging => f.write_str("∞ (not converging)"),
            Eta::Seconds(s) => {
                let s = s.ceil() as u64;
                match (s / 3600, (s / 60) % 60, s % 60) {
                    (0, 0, sec) => write!(f, "{sec}s"),
                    (0, m, sec) => write!(f, "{m}m{sec:02}s"),
                    (h, m, sec) => write!(f, "{h}h{m:02}m{sec:02}s"),
                }
            }
        }
    }
}

/// Bytes in binary units with one decimal ("1.5 GiB", "512 B").
pub fn human_bytes(v: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = v.max(0.0);
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Throughput measured from successive (time, bytes processed) readings,
/// smoothed so that one slow poll does not swing the ETA.
#[derive(Debug, Default)]
pub struct RateMeter {
    last: Option<(f64, u64)>,
    rate: Option<f64>,
}

/// Weight of the newest reading in the moving average.
const SMOOTHING: f64 = 0.3;

impl RateMeter {
    pub fn new() -> RateMeter {
        RateMeter::default()
    }

    /// Feed a reading (seconds since any fixed origin, bytes processed so
    /// far); returns the smoothed rate in bytes per second once two
    /// readings at distinct times exist.
    pub fn update(&mut self, at: f64, processed: u64) -> Option<f64> {
        match self.last {
            Some((t0, _)) if at <= t0 => return self.rate,
            // A counter going backwards is a new job: start over.
            Some((_, p0)) if processed < p0 => {
                self.last = Some((at, processed));
                self.rate = None;
                return None;
            }
            Some((t0, p0)) => {
                let sample = (processed - p0) as f64 / (at - t0);
                self.rate = Some(match self.rate {
                    None => sample,
                    Some(r) => r + SMOOTHING * (sample - r),
                });
            }
            None => {}
        }
        self.last = Some((at, processed));
        self.rate
    }

    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}

/// The figures of one job-stats answer that progress reporting uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub job_type: i32,
    pub data_total: u64,
    pub data_remaining: u64,
    pub mem_total: u64,
    pub mem_processed: u64,
    pub mem_remaining: u64,
    /// Bytes per second (libvirt reports pages per second).
    pub dirty_rate: f64,
    /// What the hypervisor itself reports as the transfer rate.
    pub mem_bps: Option<u64>,
    pub iteration: Option<u64>,
}

/// QEMU's target page size, assumed when the stats do not say.
const DEFAULT_PAGE_SIZE: u64 = 4096;

impl Snapshot {
    pub fn from_stats(job_type: i32, stats: &TypedParams) -> Snapshot {
        let get = |name| stats.get_u64(name);
        let page = get(field::MEMORY_PAGE_SIZE)
            .filter(|p| *p > 0)
            .unwrap_or(DEFAULT_PAGE_SIZE);
        Snapshot {
            job_type,
            data_total: get(field::DATA_TOTAL).unwrap_or(0),
            data_remaining: get(field::DATA_REMAINING).unwrap_or(0),
            mem_total: get(field::MEMORY_TOTAL).unwrap_or(0),
            mem_processed: get(field::MEMORY_PROCESSED).unwrap_or(0),
            mem_remaining: get(field::MEMORY_REMAINING).unwrap_or(0),
            dirty_rate: get(field::MEMORY_DIRTY_RATE).unwrap_or(0) as f64 * page as f64,
            mem_bps: get(field::MEMORY_BPS).filter(|b| *b > 0),
            iteration: get(field::MEMORY_ITERATION),
        }
    }

    pub fn from_info(info: &rvirt::job::JobInfo) -> Snapshot {
        Snapshot {
            job_type: info.type_,
            data_total: info.data_total,
            data_remaining: info.data_remaining,
            mem_total: info.mem_total,
            mem_processed: info.mem_processed,
            mem_remaining: info.mem_remaining,
            ..Snapshot::default()
        }
    }

    /// Bytes to send in all: memory if reported, else all data.
    pub fn total(&self) -> u64 {
        if self.mem_total > 0 {
            self.mem_total
        } else {
            self.data_total
        }
    }

    /// Bytes still to send.
    pub fn remaining(&self) -> u64 {
        if self.mem_total > 0 {
            self.mem_remaining
        } else {
            self.data_remaining
        }
    }

    /// Bytes sent so far (re-sent dirty pages included, so this may pass
    /// the total).
    pub fn processed(&self) -> u64 {
        if self.mem_total > 0 {
            self.mem_processed
        } else {
            self.data_total.saturating_sub(self.data_remaining)
        }
    }

    /// ETA from a measured throughput (falling back to the hypervisor's own
    /// figure) and the dirty rate.
    pub fn eta(&self, measured: Option<f64>) -> Eta {
        let bw = measured
            .filter(|r| *r > 0.0)
            .or(self.mem_bps.map(|b| b as f64));
        eta(self.remaining(), bw, self.dirty_rate)
    }
}

/// The text beside the bar: processed/total, throughput, pass and time
/// left, e.g. `1.5 GiB/8.0 GiB  112.0 MiB/s  iteration 1  ETA 59s`.
pub fn bar_message(snap: &Snapshot, measured: Option<f64>) -> String {
    let speed = measured
        .or(snap.mem_bps.map(|b| b as f64))
        .map(|r| format!("{}/s", human_bytes(r)))
        .unwrap_or_else(|| "-".into());
    let iteration = snap
        .iteration
        .map(|i| format!("  iteration {i}"))
        .unwrap_or_default();
    format!(
        "{}/{}  {speed}{iteration}  ETA {}",
        human_bytes(snap.processed() as f64),
        human_bytes(snap.total() as f64),
        snap.eta(measured)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_virshs() {
        assert_eq!(virsh_percent(0, 0), 100);
        assert_eq!(virsh_percent(50, 100), 50);
        assert_eq!(virsh_percent(1, 1_000_000), 99);
        assert_eq!(
            virsh_progress_text("Migration", 75, 100),
            "\rMigration: [ 25 %]"
        );
        assert_eq!(
            virsh_progress_text("Migration", 0, 100),
            "\rMigration: [100 %]"
        );
    }
}
