//! QEMU's own view of a migration, whichever daemon runs it: the test
//! guest's emulator is a wrapper ([`EventTap::emulator`]) that gives each
//! guest QEMU a second QMP monitor at `qmp-PID.sock` in the tap's
//! directory. [`EventTap::watch`] listens on the source QEMU's (MIGRATION
//! setup/completed and STOP events, then `query-migrate` for QEMU's
//! total-time, downtime and bytes sent) and on the destination QEMU's as
//! soon as it appears (RESUME), so the guest-visible downtime is the
//! destination's RESUME minus the source's STOP, both stamped by QEMU with
//! the same host clock. Nothing here changes what either daemon does.

use crate::dirs::TempDir;
use crate::qemu_hosts::alive;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The directory of the wrapper and the monitors' sockets.
pub struct EventTap {
    dir: TempDir,
}

/// What QEMU said about one migration; times in seconds since the epoch
/// (QEMU's event timestamps), durations in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct QemuMigration {
    pub setup: Option<f64>,
    pub completed: Option<f64>,
    pub stopped: Option<f64>,
    pub resumed: Option<f64>,
    /// `query-migrate` on the source once it completed.
    pub total_time_ms: Option<u64>,
    pub downtime_ms: Option<u64>,
    pub transferred: Option<u64>,
}

impl QemuMigration {
    /// QEMU's total time: from its MIGRATION setup to completed events,
    /// else its `total-time` (which a source QEMU that the daemon already
    /// moved on from can report as 0).
    pub fn total_ms(&self) -> Option<f64> {
        let by_events = self.completed.zip(self.setup).map(|(c, s)| (c - s) * 1e3);
        let reported = self.total_time_ms.filter(|t| *t > 0).map(|t| t as f64);
        by_events.or(reported)
    }

    /// When the source stopped the guest, completed, and the destination
    /// resumed it, in ms after the source's setup event: where a downtime
    /// went (a late stop, a slow drain, a slow resume).
    pub fn timeline(&self) -> String {
        let at = |t: Option<f64>| match (t, self.setup) {
            (Some(t), Some(s)) => format!("{:.0}", (t - s) * 1e3),
            _ => "?".into(),
        };
        format!(
            "stop +{} ms, completed +{} ms, resumed +{} ms",
            at(self.stopped),
            at(self.completed),
            at(self.resumed)
        )
    }

    /// Guest-visible downtime: destination RESUME minus source STOP.
    pub fn guest_downtime_ms(&self) -> Option<f64> {
        self.resumed.zip(self.stopped).map(|(r, s)| (r - s) * 1e3)
    }
}

/// The two listeners of one migration; [`Watch::finish`] collects them.
pub struct Watch {
    source: JoinHandle<QemuMigration>,
    destination: JoinHandle<Option<f64>>,
    stop: Arc<AtomicBool>,
}

impl Default for EventTap {
    fn default() -> Self {
        Self::new()
    }
}

impl EventTap {
    pub fn new() -> EventTap {
        let dir = TempDir::new("qmp-tap");
        // QEMU (running as the daemon's QEMU user) makes its socket here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod tap dir");
        // Only a guest (it has -name) gets the monitor, not a daemon's
        // capability probe; sh execs QEMU, so $$ is QEMU's PID.
        let script = format!(
            "#!/bin/sh\ncase \" $* \" in\n*\" -name \"*)\n    \
             exec /usr/bin/qemu-system-x86_64 \"$@\" -qmp unix:{}/qmp-$$.sock,server=on,wait=off ;;\n\
             esac\nexec /usr/bin/qemu-system-x86_64 \"$@\"\n",
            dir.path().display()
        );
        let wrapper = dir.write("qemu-system-x86_64", script);
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .expect("chmod wrapper");
        EventTap { dir }
    }

    /// The wrapper, for the guest's `<emulator>`.
    pub fn emulator(&self) -> PathBuf {
        self.dir.join("qemu-system-x86_64")
    }

    fn socket_of(&self, pid: i32) -> PathBuf {
        self.dir.join(format!("qmp-{pid}.sock"))
    }

    /// Listen to the source QEMU `src_pid` (connected when this returns)
    /// and to whichever new guest QEMU appears next (the destination).
    pub fn watch(&self, src_pid: i32) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let mut src = Monitor::connect(&self.socket_of(src_pid)).expect("source QEMU's tap");
        let flag = stop.clone();
        let source = std::thread::spawn(move || src.follow_source(&flag));
        let (dir, flag) = (self.dir.path().to_path_buf(), stop.clone());
        let destination = std::thread::spawn(move || follow_destination(&dir, src_pid, &flag));
        Watch {
            source,
            destination,
            stop,
        }
    }
}

impl Watch {
    /// Once the migration returned: what both QEMUs said (each gets up to
    /// 10 s more).
    pub fn finish(self) -> QemuMigration {
        let deadline = Instant::now() + Duration::from_secs(10);
        let done = |w: &Watch| w.destination.is_finished() && w.source.is_finished();
        while !done(&self) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stop.store(true, Ordering::SeqCst);
        let mut m = self.source.join().unwrap_or_default();
        m.resumed = self.destination.join().ok().flatten();
        m
    }
}

/// The destination: the first guest QEMU other than `src_pid` whose tap
/// appears; its RESUME's timestamp.
fn follow_destination(dir: &Path, src_pid: i32, stop: &AtomicBool) -> Option<f64> {
    let mut tried = HashSet::from([src_pid]);
    while !stop.load(Ordering::SeqCst) {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("qmp-")
                .and_then(|n| n.strip_suffix(".sock"))
                .and_then(|n| n.parse::<i32>().ok());
            if pid.filter(|p| alive(*p) && tried.insert(*p)).is_none() {
                continue;
            }
            if let Some(mut mon) = Monitor::connect(&entry.path()) {
                return mon.wait_event("RESUME", stop).map(|(ts, _)| ts);
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

/// A line-oriented QMP client, past negotiation.
struct Monitor {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Monitor {
    /// Connect (QEMU may still be creating the socket: up to 5 s) and
    /// negotiate.
    fn connect(path: &Path) -> Option<Monitor> {
        let start = Instant::now();
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(_) if start.elapsed() < Duration::from_secs(5) => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(_) => return None,
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .ok()?;
        let mut mon = Monitor {
            reader: BufReader::new(stream.try_clone().ok()?),
            writer: stream,
        };
        mon.execute("qmp_capabilities")?;
        Some(mon)
    }

    /// The next line; `None` at EOF or on an error, `Some("")` on a timeout.
    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(line),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock) => Some(String::new()),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut) => Some(String::new()),
            Err(_) => None,
        }
    }

    /// Run `command`; its `return` line (events before it are skipped).
    fn execute(&mut self, command: &str) -> Option<String> {
        writeln!(self.writer, "{{\"execute\": \"{command}\"}}").ok()?;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let line = self.line()?;
            if line.contains("\"return\"") || line.contains("\"error\"") {
                return Some(line);
            }
        }
        None
    }

    /// Wait for event `name`: its timestamp and line.
    fn wait_event(&mut self, name: &str, stop: &AtomicBool) -> Option<(f64, String)> {
        let wanted = format!("\"event\": \"{name}\"");
        while !stop.load(Ordering::SeqCst) {
            let line = self.line()?;
            if line.contains(&wanted) {
                return Some((timestamp(&line)?, line));
            }
        }
        None
    }

    /// The source's events until the migration completed (or failed, or
    /// QEMU went), then its `query-migrate`.
    fn follow_source(&mut self, stop: &AtomicBool) -> QemuMigration {
        let mut m = QemuMigration::default();
        while let Some(line) = self.line().filter(|_| !stop.load(Ordering::SeqCst)) {
            let Some(ts) = timestamp(&line) else { continue };
            if line.contains("\"event\": \"STOP\"") {
                m.stopped = Some(ts);
            }
            if !line.contains("\"event\": \"MIGRATION\"") {
                continue;
            }
            match string_field(&line, "status").as_deref() {
                Some("setup") => m.setup = Some(ts),
                Some("completed") => {
                    m.completed = Some(ts);
                    if let Some(info) = self.execute("query-migrate") {
                        m.total_time_ms = number(&info, "total-time");
                        m.downtime_ms = number(&info, "downtime");
                        m.transferred = number(&info, "transferred");
                    }
                    return m;
                }
                Some("failed" | "cancelled") => return m,
                _ => {}
            }
        }
        m
    }
}

/// An event's `timestamp` as seconds.
fn timestamp(line: &str) -> Option<f64> {
    let seconds = number(line, "seconds")?;
    let micros = number(line, "microseconds")?;
    Some(seconds as f64 + micros as f64 / 1e6)
}

/// The first `"key": NUMBER` in a QMP line.
fn number(line: &str, key: &str) -> Option<u64> {
    let at = line.find(&format!("\"{key}\": "))? + key.len() + 4;
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The first `"key": "STRING"` in a QMP line.
fn string_field(line: &str, key: &str) -> Option<String> {
    let at = line.find(&format!("\"{key}\": \""))? + key.len() + 5;
    Some(line[at..].split('"').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qmp_lines_give_their_figures() {
        let event = r#"{"timestamp": {"seconds": 1700000000, "microseconds": 250000}, "event": "MIGRATION", "data": {"status": "completed"}}"#;
        assert_eq!(timestamp(event), Some(1_700_000_000.25));
        assert_eq!(string_field(event, "status").as_deref(), Some("completed"));
        let info = r#"{"return": {"status": "completed", "setup-time": 3, "downtime": 41, "total-time": 1234, "ram": {"transferred": 987654}}}"#;
        assert_eq!(number(info, "total-time"), Some(1234));
        assert_eq!(number(info, "downtime"), Some(41));
        assert_eq!(number(info, "transferred"), Some(987654));
        assert_eq!(number(info, "absent"), None);
    }
}
