//! The cookie's `<statistics>`: the source's completed-job figures, which
//! the destination shows as its own `domjobinfo --completed`.

use crate::xml::{Element, Writer};

/// The xbzrle figures, sent together when the cache size is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieCompression {
    pub cache: u64,
    pub bytes: u64,
    pub pages: u64,
    pub cache_misses: u64,
    pub overflow: u64,
}

/// `qemuMigrationCookieStatisticsXMLFormat`'s fields; element names are
/// the `VIR_DOMAIN_JOB_*` typed parameter names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieStatistics {
    pub started: u64,
    pub stopped: u64,
    pub sent: u64,
    pub delta: Option<i64>,
    pub time_elapsed: u64,
    pub downtime: Option<u64>,
    pub setup_time: Option<u64>,
    pub memory_total: u64,
    pub memory_processed: u64,
    pub memory_remaining: u64,
    pub memory_bps: u64,
    /// With it, `memory_normal` and `memory_normal_bytes` are sent.
    pub memory_constant: Option<u64>,
    pub memory_normal: u64,
    pub memory_normal_bytes: u64,
    pub memory_dirty_rate: u64,
    pub memory_iteration: u64,
    pub memory_postcopy_requests: u64,
    pub memory_page_size: u64,
    pub disk_total: u64,
    pub disk_processed: u64,
    pub disk_remaining: u64,
    pub disk_bps: u64,
    pub compression: Option<CookieCompression>,
    pub auto_converge_throttle: i32,
}

fn line(w: &mut Writer, name: &str, v: impl std::fmt::Display) {
    w.line(&format!("<{name}>{v}</{name}>"));
}

/// One figure of the table: its element / typed parameter name, its value
/// when it is sent, and how a read value is stored.
struct Figure {
    name: &'static str,
    /// Sent with every statistics (else only when set).
    always: bool,
    get: fn(&CookieStatistics) -> Option<u64>,
    set: fn(&mut CookieStatistics, u64),
}

/// A plain `u64` field, always sent.
macro_rules! always {
    ($f:ident) => {
        Figure {
            name: stringify!($f),
            always: true,
            get: |s| Some(s.$f),
            set: |s, v| s.$f = v,
        }
    };
}

/// An `Option<u64>` field, sent when set.
macro_rules! optional {
    ($f:ident) => {
        Figure {
            name: stringify!($f),
            always: false,
            get: |s| s.$f,
            set: |s, v| s.$f = Some(v),
        }
    };
}

/// A field sent with its group (`memory_constant`, the compression cache).
macro_rules! grouped {
    ($f:ident, $group:ident) => {
        Figure {
            name: stringify!($f),
            always: false,
            get: |s| s.$group.map(|_| s.$f),
            set: |s, v| s.$f = v,
        }
    };
    ($f:ident, $name:literal) => {
        Figure {
            name: $name,
            always: false,
            get: |s| s.compression.map(|c| c.$f),
            set: |s, v| {
                if let Some(c) = &mut s.compression {
                    c.$f = v
                }
            },
        }
    };
}

/// The figures after `started`, `stopped`, `sent` and `delta`, in
/// `qemuMigrationCookieStatisticsXMLFormat`'s order (the throttle, an
/// `int`, ends it).
const FIGURES: &[Figure] = &[
    always!(time_elapsed),
    optional!(downtime),
    optional!(setup_time),
    always!(memory_total),
    always!(memory_processed),
    always!(memory_remaining),
    always!(memory_bps),
    optional!(memory_constant),
    grouped!(memory_normal, memory_constant),
    grouped!(memory_normal_bytes, memory_constant),
    always!(memory_dirty_rate),
    always!(memory_iteration),
    always!(memory_postcopy_requests),
    always!(memory_page_size),
    always!(disk_total),
    always!(disk_processed),
    always!(disk_remaining),
    always!(disk_bps),
    Figure {
        name: "compression_cache",
        always: false,
        get: |s| s.compression.map(|c| c.cache),
        set: |s, v| {
            s.compression = Some(CookieCompression {
                cache: v,
                ..CookieCompression::default()
            })
        },
    },
    grouped!(bytes, "compression_bytes"),
    grouped!(pages, "compression_pages"),
    grouped!(cache_misses, "compression_cache_misses"),
    grouped!(overflow, "compression_overflow"),
];

impl CookieStatistics {
    pub(super) fn format(&self, w: &mut Writer) {
        w.line("<statistics>");
        w.indent();
        line(w, "started", self.started);
        line(w, "stopped", self.stopped);
        line(w, "sent", self.sent);
        if let Some(d) = self.delta {
            line(w, "delta", d);
        }
        for f in FIGURES {
            if let Some(v) = (f.get)(self) {
                line(w, f.name, v);
            }
        }
        line(w, "auto_converge_throttle", self.auto_converge_throttle);
        w.dedent();
        w.line("</statistics>");
    }

    /// `qemuMigrationCookieStatisticsXMLParse`: an absent or malformed
    /// figure is 0 (or unset, for the optional ones).
    pub(super) fn parse(e: &Element) -> CookieStatistics {
        let text = |name: &str| e.child(name).map(|c| c.text().trim().to_string());
        let stats = CookieStatistics::from_lookup(|name| text(name)?.parse().ok());
        CookieStatistics {
            delta: text("delta").and_then(|d| d.parse().ok()),
            auto_converge_throttle: text("auto_converge_throttle")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
            ..stats
        }
    }

    /// Every figure by its element / typed parameter name from `get`; what
    /// it lacks is 0 (or unset, for the optional ones).
    fn from_lookup(get: impl Fn(&str) -> Option<u64>) -> CookieStatistics {
        let u = |name: &str| get(name).unwrap_or(0);
        let mut stats = CookieStatistics {
            started: u("started"),
            stopped: u("stopped"),
            sent: u("sent"),
            auto_converge_throttle: u("auto_converge_throttle").min(i32::MAX as u64) as i32,
            ..CookieStatistics::default()
        };
        for f in FIGURES {
            if let Some(v) = get(f.name) {
                (f.set)(&mut stats, v);
            }
        }
        stats
    }

    /// As completed-job figures (typed parameter name, value), the way
    /// rvirt's drivers carry them: those always sent, then the set ones,
    /// then the times (`delta`, signed, as its two's complement bits).
    pub fn to_pairs(&self) -> Vec<(String, u64)> {
        let figures = |always: bool| {
            FIGURES
                .iter()
                .filter(move |f| f.always == always)
                .filter_map(|f| Some((f.name, (f.get)(self)?)))
        };
        let throttle = (
            "auto_converge_throttle",
            self.auto_converge_throttle.max(0) as u64,
        );
        let processed = self.memory_processed + self.disk_processed;
        let times = [
            ("started", Some(self.started)),
            ("stopped", Some(self.stopped)),
            ("sent", Some(self.sent)),
            ("delta", self.delta.map(|d| d as u64)),
        ];
        figures(true)
            .chain([throttle])
            .chain(figures(false))
            .chain([("data_processed", processed)])
            .chain(times.into_iter().filter_map(|(n, v)| Some((n, v?))))
            .map(|(n, x)| (n.to_string(), x))
            .collect()
    }

    /// From completed-job figures; what is not there stays 0 / unset. A
    /// figure set without its times started `started_ms` and stopped and
    /// was sent at its end.
    pub fn from_pairs(pairs: &[(String, u64)], started_ms: u64) -> CookieStatistics {
        let find = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
        let stats = CookieStatistics::from_lookup(find);
        let started = Some(stats.started).filter(|t| *t > 0).unwrap_or(started_ms);
        let ended = started + stats.time_elapsed;
        let or_ended = |t: u64| if t > 0 { t } else { ended };
        CookieStatistics {
            started,
            stopped: or_ended(stats.stopped),
            sent: or_ended(stats.sent),
            delta: find("delta").map(|d| d as i64),
            ..stats
        }
    }
}
