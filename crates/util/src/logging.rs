//! libvirt's logging settings as a `tracing` subscriber: the level
//! (`LIBVIRT_DEBUG`, libvirtd.conf's `log_level`), filters
//! (`LIBVIRT_LOG_FILTERS`, `log_filters`) and outputs
//! (`LIBVIRT_LOG_OUTPUTS`, `log_outputs`), with libvirt's syntax, messages
//! and priorities (1 debug, 2 info, 3 warning, 4 error; src/util/virlog.c).
//!
//! A message is kept when its priority reaches the level of the first
//! filter whose pattern matches its source, or the default level when none
//! matches; each output then writes the kept messages at or above its own
//! level. libvirt stores a filter `NAME` as the glob `*NAME*` and matches it
//! against the source's log name (`rpc.netclient`); ours are module paths
//! (`rvirt_driver_remote::conn`), matched with `::` read as `.`.
//!
//! A daemon installs the settings reloadably ([`LogSettings::install_reloadable`]),
//! so the admin program's `virAdmConnectSetLoggingFilters`/`Outputs` change
//! them while it runs, as `virLogSetFilters`/`virLogSetOutputs` do.

use crate::{Error, ErrorDomain};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::{Level, Metadata};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::Registry;
use tracing_subscriber::{reload, Layer};

/// One `LEVEL:NAME` filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFilter {
    pub priority: u8,
    /// The glob matched against a source name: `*NAME*`, as libvirt keeps it.
    pub pattern: String,
}

/// Where an output writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogDestination {
    Stderr,
    File(PathBuf),
}

/// One `LEVEL:stderr` or `LEVEL:file:PATH` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogOutput {
    pub priority: u8,
    pub destination: LogDestination,
}

/// Everything that decides what is logged where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub priority: u8,
    pub filters: Vec<LogFilter>,
    pub outputs: Vec<LogOutput>,
}

fn parse_priority(word: &str) -> Option<u8> {
    match word.parse::<u8>() {
        Ok(p @ 1..=4) => Some(p),
        _ => None,
    }
}

/// `virLogParseFilters`: space-separated `[+]LEVEL:NAME`, with
/// `virLogParseFilter`'s messages.
pub fn parse_filters(text: &str) -> Result<Vec<LogFilter>, String> {
    text.split_whitespace()
        .map(|item| {
            let mut tokens = item.split(':');
            let (Some(level), Some(name)) = (tokens.next(), tokens.next()) else {
                return Err(format!("Malformed format for filter '{item}'"));
            };
            let priority = parse_priority(level)
                .ok_or_else(|| format!("Invalid priority '{level}' for filter '{item}'"))?;
            // A leading '+' once asked for a stack trace; libvirt chomps it.
            let name = name.strip_prefix('+').unwrap_or(name);
            if name.is_empty() {
                let raw = item.split(':').nth(1).unwrap_or_default();
                return Err(format!("Invalid match string '{raw}'"));
            }
            Ok(LogFilter {
                priority,
                pattern: format!("*{name}*"),
            })
        })
        .collect()
}

/// `virLogParseOutputs`: space-separated `LEVEL:stderr` / `LEVEL:file:PATH`,
/// with `virLogParseOutput`'s messages. Destinations rvirt cannot write to
/// (syslog, journald) are refused.
pub fn parse_outputs(text: &str) -> Result<Vec<LogOutput>, String> {
    text.split_whitespace().map(parse_output).collect()
}

fn parse_output(item: &str) -> Result<LogOutput, String> {
    let tokens: Vec<&str> = item.split(':').collect();
    if tokens.len() < 2 {
        return Err(format!("Malformed format for log output '{item}'"));
    }
    let priority = parse_priority(tokens[0]).ok_or_else(|| {
        format!(
            "Invalid log priority '{}' for log output '{item}'",
            tokens[0]
        )
    })?;
    let dest = tokens[1];
    let wanted = match dest {
        "stderr" | "journald" => 2,
        "file" | "syslog" => 3,
        _ => {
            return Err(format!(
                "Invalid log destination '{dest}' for log output '{item}'"
            ))
        }
    };
    if tokens.len() != wanted {
        return Err(format!(
            "Log output '{item}' does not meet the format requirements for destination type '{dest}'"
        ));
    }
    let destination = match dest {
        "stderr" => LogDestination::Stderr,
        "file" if tokens[2].starts_with('/') => LogDestination::File(PathBuf::from(tokens[2])),
        "file" => {
            return Err(format!(
                "Invalid log output '{item}': the path must be absolute"
            ))
        }
        _ => return Err(format!("Unsupported log output '{item}'")),
    };
    Ok(LogOutput {
        priority,
        destination,
    })
}

/// `virLogGetFilters`: each filter as `LEVEL:PATTERN ` (with its trailing
/// space, as libvirt prints it).
pub fn format_filters(filters: &[LogFilter]) -> String {
    filters
        .iter()
        .map(|f| format!("{}:{} ", f.priority, f.pattern))
        .collect()
}

/// `virLogGetOutputs`: the outputs, space-separated.
pub fn format_outputs(outputs: &[LogOutput]) -> String {
    let one = |o: &LogOutput| match &o.destination {
        LogDestination::Stderr => format!("{}:stderr", o.priority),
        LogDestination::File(p) => format!("{}:file:{}", o.priority, p.display()),
    };
    outputs.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// `g_pattern_match_simple`: `*` any run, `?` one character.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob_match(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && glob_match(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob_match(rest, &text[1..]),
    }
}

fn to_level(priority: u8) -> Level {
    match priority {
        1 => Level::DEBUG,
        2 => Level::INFO,
        3 => Level::WARN,
        _ => Level::ERROR,
    }
}

impl LogSettings {
    /// What a client library logs: its environment's settings, or with
    /// none, libvirt's default (warnings and errors on stderr, as virsh
    /// prints "Certificate check failed ..." before its error).
    pub fn for_client() -> Result<LogSettings, String> {
        Ok(LogSettings::from_env()?.unwrap_or_else(|| LogSettings {
            priority: 3,
            filters: Vec::new(),
            outputs: LogSettings::default_outputs(3),
        }))
    }

    /// What a client library reads from its environment, as
    /// `virLogSetFromEnv` does; `None` when none of the variables is set.
    pub fn from_env() -> Result<Option<LogSettings>, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (debug, filters, outputs) = (
            var("LIBVIRT_DEBUG"),
            var("LIBVIRT_LOG_FILTERS"),
            var("LIBVIRT_LOG_OUTPUTS"),
        );
        if debug.is_none() && filters.is_none() && outputs.is_none() {
            return Ok(None);
        }
        let priority = match debug {
            Some(d) => parse_priority(&d).ok_or_else(|| {
                format!("Failed to set logging priority, argument '{d}' is invalid")
            })?,
            None => 3,
        };
        let outputs = match outputs {
            Some(o) => parse_outputs(&o)?,
            None => LogSettings::default_outputs(priority),
        };
        Ok(Some(LogSettings {
            priority,
            filters: parse_filters(filters.as_deref().unwrap_or(""))?,
            outputs,
        }))
    }

    /// The output used when none is configured (`virLogSetDefaultOutput`
    /// for a process that does not daemonize): stderr at the default level.
    pub fn default_outputs(priority: u8) -> Vec<LogOutput> {
        vec![LogOutput {
            priority,
            destination: LogDestination::Stderr,
        }]
    }

    /// The priority a message from `target` must reach to be kept.
    pub fn threshold(&self, target: &str) -> u8 {
        let name = target.replace("::", ".");
        self.filters
            .iter()
            .find(|f| glob_match(f.pattern.as_bytes(), name.as_bytes()))
            .map_or(self.priority, |f| f.priority)
    }

    fn keeps(&self, meta: &Metadata<'_>) -> bool {
        *meta.level() <= to_level(self.threshold(meta.target()))
    }

    /// Install as the process's global subscriber (once; later calls are
    /// ignored, as a second `virLogSetFromEnv` would change nothing here).
    pub fn install(&self) -> Result<(), String> {
        let layer = LogLayer::new(self.clone())?;
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
        Ok(())
    }

    /// Install as the global subscriber and return the control through
    /// which filters and outputs change while the process runs.
    pub fn install_reloadable(&self) -> Result<LogControl, String> {
        let (layer, handle) = reload::Layer::new(LogLayer::new(self.clone())?);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .map_err(|e| e.to_string())?;
        Ok(LogControl {
            settings: Mutex::new(self.clone()),
            handle,
        })
    }
}

/// The running daemon's logging: what `virLogGetFilters`/`virLogSetFilters`
/// and their output counterparts read and change.
pub struct LogControl {
    settings: Mutex<LogSettings>,
    handle: reload::Handle<LogLayer, Registry>,
}

impl LogControl {
    fn current(&self) -> parking_lot::MutexGuard<'_, LogSettings> {
        self.settings.lock()
    }

    /// The filters in libvirt's format and how many there are.
    pub fn filters(&self) -> (String, usize) {
        let s = self.current();
        (format_filters(&s.filters), s.filters.len())
    }

    /// The outputs in libvirt's format and how many there are.
    pub fn outputs(&self) -> (String, usize) {
        let s = self.current();
        (format_outputs(&s.outputs), s.outputs.len())
    }

    /// `virLogSetFilters`: replace the filters (none for an empty text).
    pub fn set_filters(&self, text: &str) -> crate::Result<()> {
        let filters = parse_filters(text).map_err(invalid_arg)?;
        self.apply(|s| s.filters = filters)
    }

    /// `virLogSetOutputs`: replace the outputs; an empty text restores the
    /// default output.
    pub fn set_outputs(&self, text: &str) -> crate::Result<()> {
        let outputs = if text.trim().is_empty() {
            None
        } else {
            Some(parse_outputs(text).map_err(invalid_arg)?)
        };
        self.apply(|s| {
            s.outputs = outputs.unwrap_or_else(|| LogSettings::default_outputs(s.priority))
        })
    }

    fn apply(&self, change: impl FnOnce(&mut LogSettings)) -> crate::Result<()> {
        let mut settings = self.current();
        let mut next = settings.clone();
        change(&mut next);
        let layer =
            LogLayer::new(next.clone()).map_err(|e| Error::internal(ErrorDomain::NONE, e))?;
        self.handle
            .reload(layer)
            .map_err(|e| Error::internal(ErrorDomain::NONE, e.to_string()))?;
        *settings = next;
        Ok(())
    }
}

fn invalid_arg(detail: String) -> Error {
    Error::invalid_arg(ErrorDomain::NONE, detail)
}

type FmtLayer = tracing_subscriber::fmt::Layer<
    Registry,
    tracing_subscriber::fmt::format::DefaultFields,
    crate::log_line::LibvirtLine,
    tracing_subscriber::fmt::writer::BoxMakeWriter,
>;

/// The filters and every output as one layer, so the whole configuration
/// is swapped at once (a reloaded layer cannot carry per-layer filters).
pub struct LogLayer {
    settings: LogSettings,
    outputs: Vec<(Level, FmtLayer)>,
}

impl LogLayer {
    fn new(settings: LogSettings) -> Result<LogLayer, String> {
        use tracing_subscriber::fmt::writer::BoxMakeWriter;
        let mut outputs = Vec::new();
        for output in &settings.outputs {
            let writer = match &output.destination {
                LogDestination::Stderr => BoxMakeWriter::new(std::io::stderr),
                LogDestination::File(path) => {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .map_err(|e| format!("failed to open {}: {e}", path.display()))?;
                    let file = Arc::new(Mutex::new(file));
                    BoxMakeWriter::new(move || SharedFile(file.clone()))
                }
            };
            let fmt = tracing_subscriber::fmt::layer()
                .event_format(crate::log_line::LibvirtLine::new())
                .with_writer(writer)
                .with_ansi(false);
            outputs.push((to_level(output.priority), fmt));
        }
        Ok(LogLayer { settings, outputs })
    }
}

impl Layer<Registry> for LogLayer {
    fn enabled(&self, meta: &Metadata<'_>, _cx: Context<'_, Registry>) -> bool {
        self.settings.keeps(meta)
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        cx: Context<'_, Registry>,
    ) {
        // One fmt layer records the span's fields for all of them (they
        // share the field formatter).
        if let Some((_, fmt)) = self.outputs.first() {
            fmt.on_new_span(attrs, id, cx);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, Registry>) {
        let level = *event.metadata().level();
        for (floor, fmt) in &self.outputs {
            if level <= *floor {
                fmt.on_event(event, cx.clone());
            }
        }
    }
}

/// A log file several writers append to.
struct SharedFile(Arc<Mutex<std::fs::File>>);

impl std::io::Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut f = self.0.lock();
        f.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_outputs_in_libvirts_syntax() {
        let f = parse_filters("1:remote  +4:util.object").unwrap();
        assert_eq!(
            f[1],
            LogFilter {
                priority: 4,
                pattern: "*util.object*".into()
            }
        );
        assert_eq!(format_filters(&f), "1:*remote* 4:*util.object* ");
        for (bad, why) in [
            ("9:remote", "Invalid priority '9' for filter '9:remote'"),
            ("remote", "Malformed format for filter 'remote'"),
            ("1:+", "Invalid match string '+'"),
        ] {
            assert_eq!(parse_filters(bad).unwrap_err(), why);
        }
        let o = parse_outputs("1:file:/tmp/x.log 3:stderr").unwrap();
        assert_eq!(o[0].destination, LogDestination::File("/tmp/x.log".into()));
        assert_eq!(
            o[1],
            LogOutput {
                priority: 3,
                destination: LogDestination::Stderr
            }
        );
        assert!(parse_outputs("1:file:relative.log").is_err());
        assert!(parse_outputs("1:journald")
            .unwrap_err()
            .contains("Unsupported"));
        for (bad, why) in [
            (
                "1:nowhere",
                "Invalid log destination 'nowhere' for log output '1:nowhere'",
            ),
            ("stderr", "Malformed format for log output 'stderr'"),
        ] {
            assert_eq!(parse_outputs(bad).unwrap_err(), why);
        }
        assert!(parse_outputs("1:stderr:x")
            .unwrap_err()
            .contains("does not meet the format requirements for destination type 'stderr'"));
        assert_eq!(format_outputs(&o), "1:file:/tmp/x.log 3:stderr");
    }

    #[test]
    fn the_first_matching_filter_decides() {
        let s = LogSettings {
            priority: 3,
            filters: parse_filters("1:driver_remote 4:rvirt").unwrap(),
            outputs: Vec::new(),
        };
        assert_eq!(s.threshold("rvirt_driver_remote::conn"), 1);
        assert_eq!(s.threshold("rvirt::events"), 4);
        assert_eq!(s.threshold("rvirsh"), 3);
        let glob = LogSettings {
            filters: parse_filters("1:rvirtd.*.admin").unwrap(),
            ..s
        };
        assert_eq!(glob.threshold("rvirtd::admin"), 3, "needs a middle part");
        assert_eq!(glob.threshold("rvirtd::server::admin::x"), 1);
    }
}
