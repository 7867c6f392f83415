//! The wall-clock times a migration's two ends exchange through the
//! cookie's `<statistics>` (libvirt's `virDomainJobData` `started`,
//! `stopped`, `sent` and `timeDelta`). With them the destination shows the
//! whole job's elapsed time and the downtime the guest really had, from the
//! source stopping its CPUs to the destination resuming them; each end also
//! shows both without the clock difference and network latency between the
//! hosts (`time_elapsed_net`, `downtime_net`). A libvirtd on the other end
//! reads and writes the same figures.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch, as libvirt's `virTimeMillisNow`.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The cookie figures' names (elements of `<statistics>`).
pub const STARTED: &str = "started";
pub const STOPPED: &str = "stopped";
pub const SENT: &str = "sent";
/// Signed; carried in the `u64` figures as its two's complement bits.
pub const DELTA: &str = "delta";

/// A job's wall-clock times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobTimes {
    /// When the job started; on a destination, the source's start.
    pub started: Option<u64>,
    /// When the guest's CPUs stopped on the source.
    pub stopped: Option<u64>,
    /// The destination's receipt of the perform cookie minus its sending:
    /// clock skew plus network latency.
    pub delta: Option<i64>,
}

/// The figure `name` of `figures`.
pub fn figure(figures: &[(String, u64)], name: &str) -> Option<u64> {
    figures.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

impl JobTimes {
    /// A job starting now.
    pub fn starting() -> JobTimes {
        JobTimes {
            started: Some(now_ms()),
            ..JobTimes::default()
        }
    }

    /// The time figures a cookie sent now carries. A source whose stop
    /// time is unknown derives it from the downtime QEMU measured up to
    /// now, the end of the transfer.
    pub fn to_figures(&self, downtime: Option<u64>) -> Vec<(String, u64)> {
        let sent = now_ms();
        let stopped = self
            .stopped
            .or_else(|| downtime.map(|d| sent.saturating_sub(d)));
        let pairs = [
            (STARTED, self.started),
            (STOPPED, stopped),
            (SENT, Some(sent)),
            (DELTA, self.delta.map(|d| d as u64)),
        ];
        pairs
            .into_iter()
            .filter_map(|(n, v)| Some((n.to_string(), v?)))
            .collect()
    }

    /// The source's times from its perform cookie, which reached this
    /// destination at `received` (libvirt's `qemuMigrationDstFinishFresh`).
    pub fn from_source(figures: &[(String, u64)], received: u64) -> JobTimes {
        let set = |name| figure(figures, name).filter(|t| *t > 0);
        JobTimes {
            started: set(STARTED),
            stopped: set(STOPPED),
            delta: set(SENT).map(|sent| received as i64 - sent as i64),
        }
    }

    /// The delta the other end measured, from its cookie's figures.
    pub fn delta_of(figures: &[(String, u64)]) -> Option<i64> {
        figure(figures, DELTA).map(|d| d as i64)
    }

    /// The downtime the guest has had once it runs again now: from the
    /// source's stop to this moment.
    pub fn downtime_until_now(&self) -> Option<u64> {
        self.stopped.map(|s| now_ms().saturating_sub(s))
    }

    /// `elapsed` or `downtime` without the delta, as libvirt reports it:
    /// only when there is a delta and it is smaller.
    pub fn without_delta(&self, ms: u64) -> Option<u64> {
        let d = self.delta?;
        (ms as i64 > d).then(|| (ms as i64 - d) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, u64)]) -> Vec<(String, u64)> {
        p.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }

    #[test]
    fn the_destination_takes_the_source_times_and_measures_the_delta() {
        let figures = pairs(&[(STARTED, 1_000), (STOPPED, 4_000), (SENT, 4_050)]);
        let t = JobTimes::from_source(&figures, 4_080);
        assert_eq!(t.started, Some(1_000));
        assert_eq!(t.stopped, Some(4_000));
        assert_eq!(t.delta, Some(30));
        assert_eq!(t.without_delta(100), Some(70));
        assert_eq!(t.without_delta(20), None);
    }

    #[test]
    fn a_negative_delta_survives_the_figures() {
        let t = JobTimes {
            delta: Some(-25),
            ..JobTimes::default()
        };
        let figures = t.to_figures(None);
        assert_eq!(JobTimes::delta_of(&figures), Some(-25));
        assert_eq!(t.without_delta(10), Some(35));
    }

    #[test]
    fn the_stop_time_comes_from_the_downtime_when_unknown() {
        let t = JobTimes {
            started: Some(5),
            ..JobTimes::default()
        };
        let figures = t.to_figures(Some(200));
        let sent = figure(&figures, SENT).unwrap();
        assert_eq!(figure(&figures, STOPPED), Some(sent - 200));
        assert_eq!(figure(&figures, STARTED), Some(5));
        assert_eq!(figure(&figures, DELTA), None);
    }

    #[test]
    fn no_figures_no_times() {
        let t = JobTimes::from_source(&[], 10);
        assert_eq!(t, JobTimes::default());
        assert_eq!(t.downtime_until_now(), None);
    }
}
