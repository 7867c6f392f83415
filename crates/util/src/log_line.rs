//! One log line as libvirt writes it (`virLogFormatString` and
//! `virLogOutputToFd` in src/util/virlog.c):
//!
//! ```text
//! 2026-12-05 04:55:00.123+0000: 4242: warning : rvirt_driver_remote::tls::context:198 : Certificate check failed ...
//! ```
//!
//! Timestamp in UTC with milliseconds, the thread's kernel id, the
//! priority's name, where the message comes from (libvirt's C function;
//! ours is the module path) with its line, and the message. Before its
//! first message an output writes the two lines libvirt starts every log
//! with, the version and the host name, so an operator reading rvirtd's
//! log or rvirsh's stderr finds what they find in libvirt's.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter of one output; it remembers whether that output
/// has written its opening lines yet (libvirt's `logInitMessage`).
pub struct LibvirtLine {
    opening_pending: AtomicBool,
}

impl LibvirtLine {
    pub fn new() -> LibvirtLine {
        LibvirtLine {
            opening_pending: AtomicBool::new(true),
        }
    }
}

impl Default for LibvirtLine {
    fn default() -> Self {
        LibvirtLine::new()
    }
}

/// `virLogPriorityString`.
fn priority_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        _ => "debug",
    }
}

/// `virTimeStringNowRaw`: "YYYY-MM-DD HH:MM:SS.mmm+0000".
fn timestamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `virThreadSelfID`: the kernel's id of the calling thread.
fn thread_id() -> i64 {
    // SAFETY: gettid has no preconditions and cannot fail.
    i64::from(unsafe { libc::gettid() })
}

/// The two lines every libvirt log opens with (`virLogVersionString`,
/// `virLogHostnameString`): no source, priority info.
fn write_opening(w: &mut Writer<'_>, stamp: &str, tid: i64) -> fmt::Result {
    let version = format!(
        "libvirt version: 9.0.0, package: rvirt {}",
        env!("CARGO_PKG_VERSION")
    );
    let host = crate::host::hostname().unwrap_or_default();
    writeln!(w, "{stamp}: {tid}: info : {version}")?;
    writeln!(w, "{stamp}: {tid}: info : hostname: {host}")
}

impl<S, N> FormatEvent<S, N> for LibvirtLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        cx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let (stamp, tid) = (timestamp(), thread_id());
        if self.opening_pending.swap(false, Ordering::Relaxed) {
            write_opening(&mut w, &stamp, tid)?;
        }
        write!(
            w,
            "{stamp}: {tid}: {} : {}:{} : ",
            priority_name(meta.level()),
            meta.target(),
            meta.line().unwrap_or(0)
        )?;
        cx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_libvirts_shape() {
        let t = timestamp();
        assert_eq!(t.len(), "2026-12-05 04:55:00.123+0000".len(), "{t}");
        assert_eq!(&t[4..5], "-");
        assert_eq!(&t[10..11], " ");
        assert!(t.ends_with("+0000"));
    }

    #[test]
    fn a_log_opens_with_version_and_host_then_libvirts_line() {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt;
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = out.clone();
        let layer = tracing_subscriber::fmt::layer()
            .event_format(LibvirtLine::new())
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!("Certificate check failed {}", "because");
            tracing::error!("second");
        });
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].contains(": info : libvirt version: 9.0.0, package: rvirt "));
        assert!(lines[1].contains(": info : hostname: "));
        let rest = lines[2].split_once("+0000: ").unwrap().1;
        let (tid, rest) = rest.split_once(": ").unwrap();
        assert!(tid.parse::<i64>().is_ok(), "{tid}");
        assert!(
            rest.starts_with("warning : rvirt_util::log_line::tests:"),
            "{rest}"
        );
        assert!(
            rest.ends_with(" : Certificate check failed because"),
            "{rest}"
        );
        assert!(lines[3].contains(": error : ") && lines[3].ends_with(" : second"));
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
