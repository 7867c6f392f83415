//! libvirt's logging settings as a `tracing` subscriber: the level
//! (`LIBVIRT_DEBUG`, libvirtd.conf's `log_level`), filters
//! (`LIBVIRT_LOG_FILTERS`, `log_filters`) and outputs
//! (`LIBVIRT_LOG_OUTPUTS`, `log_outputs`), with libvirt's syntax and
//! priorities (1 debug, 2 info, 3 warning, 4 error; src/util/virlog.c).
//!
//! A message is kept when its priority reaches the level of the first
//! filter whose name it matches, or the default level when none matches;
//! each output then writes the kept messages at or above its own level.
//! libvirt matches a filter against the source's log name (`rpc.netclient`);
//! ours are module paths (`rvirt_driver_remote::conn`), so a filter matches
//! a target that contains its name, with `.` standing for `::`.

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// One `LEVEL:NAME` filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFilter {
    pub priority: u8,
    pub name: String,
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

fn priority(word: &str, what: &str) -> Result<u8, String> {
    match word.parse::<u8>() {
        Ok(p @ 1..=4) => Ok(p),
        _ => Err(format!("Invalid log priority '{word}' in {what}")),
    }
}

/// `virLogParseFilters`: space-separated `[+]LEVEL:NAME`.
pub fn parse_filters(text: &str) -> Result<Vec<LogFilter>, String> {
    text.split_whitespace()
        .map(|item| {
            let (level, name) = item
                .split_once(':')
                .filter(|(_, n)| !n.is_empty())
                .ok_or_else(|| format!("Malformed format for filter '{item}'"))?;
            Ok(LogFilter {
                priority: priority(level.trim_start_matches('+'), "filter")?,
                name: name.to_string(),
            })
        })
        .collect()
}

/// `virLogParseOutputs`: space-separated `LEVEL:stderr` / `LEVEL:file:PATH`.
/// Destinations rvirt cannot write to (syslog, journald) are refused.
pub fn parse_outputs(text: &str) -> Result<Vec<LogOutput>, String> {
    text.split_whitespace()
        .map(|item| {
            let malformed = || format!("Malformed format for output '{item}'");
            let (level, rest) = item.split_once(':').ok_or_else(malformed)?;
            if rest == "journald" || rest.starts_with("syslog") {
                return Err(format!("Unsupported log output '{item}'"));
            }
            let destination = match rest.split_once(':') {
                None if rest == "stderr" => LogDestination::Stderr,
                Some(("file", path)) if path.starts_with('/') => {
                    LogDestination::File(PathBuf::from(path))
                }
                Some(("file", _)) => {
                    return Err(format!(
                        "Invalid log output '{item}': the path must be absolute"
                    ))
                }
                _ => return Err(malformed()),
            };
            Ok(LogOutput {
                priority: priority(level, "output")?,
                destination,
            })
        })
        .collect()
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
    /// What a client library reads from its environment, as
    /// `virLogSetFromEnv` does; `None` when none of the variables is set
    /// (a client then logs nothing, so its output stays virsh's).
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
            Some(d) => priority(&d, "LIBVIRT_DEBUG")?,
            None => 3,
        };
        let outputs = match outputs {
            Some(o) => parse_outputs(&o)?,
            None => vec![LogOutput {
                priority,
                destination: LogDestination::Stderr,
            }],
        };
        Ok(Some(LogSettings {
            priority,
            filters: parse_filters(filters.as_deref().unwrap_or(""))?,
            outputs,
        }))
    }

    /// The priority a message from `target` must reach to be kept.
    pub fn threshold(&self, target: &str) -> u8 {
        self.filters
            .iter()
            .find(|f| target.contains(&f.name.replace('.', "::")))
            .map_or(self.priority, |f| f.priority)
    }

    /// Install as the process's global subscriber (once; later calls are
    /// ignored, as a second `virLogSetFromEnv` would change nothing here).
    pub fn install(&self) -> Result<(), String> {
        let mut layers = Vec::new();
        for output in &self.outputs {
            let settings = self.clone();
            let floor = to_level(output.priority);
            let keep = filter_fn(move |meta| {
                *meta.level() <= floor
                    && *meta.level() <= to_level(settings.threshold(meta.target()))
            });
            let layer = match &output.destination {
                LogDestination::Stderr => tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false)
                    .with_filter(keep)
                    .boxed(),
                LogDestination::File(path) => {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .map_err(|e| format!("failed to open {}: {e}", path.display()))?;
                    let file = Arc::new(Mutex::new(file));
                    tracing_subscriber::fmt::layer()
                        .with_writer(move || SharedFile(file.clone()))
                        .with_ansi(false)
                        .with_filter(keep)
                        .boxed()
                }
            };
            layers.push(layer);
        }
        let _ =
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layers));
        Ok(())
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
                name: "util.object".into()
            }
        );
        assert!(parse_filters("9:remote").is_err());
        assert!(parse_filters("remote").is_err());
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
        assert!(parse_outputs("1:nowhere")
            .unwrap_err()
            .contains("Malformed"));
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
    }
}
