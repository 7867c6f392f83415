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
        line(w, "time_elapsed", self.time_elapsed);
        if let Some(d) = self.downtime {
            line(w, "downtime", d);
        }
        if let Some(s) = self.setup_time {
            line(w, "setup_time", s);
        }
        line(w, "memory_total", self.memory_total);
        line(w, "memory_processed", self.memory_processed);
        line(w, "memory_remaining", self.memory_remaining);
        line(w, "memory_bps", self.memory_bps);
        if let Some(c) = self.memory_constant {
            line(w, "memory_constant", c);
            line(w, "memory_normal", self.memory_normal);
            line(w, "memory_normal_bytes", self.memory_normal_bytes);
        }
        line(w, "memory_dirty_rate", self.memory_dirty_rate);
        line(w, "memory_iteration", self.memory_iteration);
        line(w, "memory_postcopy_requests", self.memory_postcopy_requests);
        line(w, "memory_page_size", self.memory_page_size);
        line(w, "disk_total", self.disk_total);
        line(w, "disk_processed", self.disk_processed);
        line(w, "disk_remaining", self.disk_remaining);
        line(w, "disk_bps", self.disk_bps);
        if let Some(c) = &self.compression {
            line(w, "compression_cache", c.cache);
            line(w, "compression_bytes", c.bytes);
            line(w, "compression_pages", c.pages);
            line(w, "compression_cache_misses", c.cache_misses);
            line(w, "compression_overflow", c.overflow);
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
        let compression = get("compression_cache").map(|cache| CookieCompression {
            cache,
            bytes: u("compression_bytes"),
            pages: u("compression_pages"),
            cache_misses: u("compression_cache_misses"),
            overflow: u("compression_overflow"),
        });
        CookieStatistics {
            started: u("started"),
            stopped: u("stopped"),
            sent: u("sent"),
            delta: None,
            time_elapsed: u("time_elapsed"),
            downtime: get("downtime"),
            setup_time: get("setup_time"),
            memory_total: u("memory_total"),
            memory_processed: u("memory_processed"),
            memory_remaining: u("memory_remaining"),
            memory_bps: u("memory_bps"),
            memory_constant: get("memory_constant"),
            memory_normal: u("memory_normal"),
            memory_normal_bytes: u("memory_normal_bytes"),
            memory_dirty_rate: u("memory_dirty_rate"),
            memory_iteration: u("memory_iteration"),
            memory_postcopy_requests: u("memory_postcopy_requests"),
            memory_page_size: u("memory_page_size"),
            disk_total: u("disk_total"),
            disk_processed: u("disk_processed"),
            disk_remaining: u("disk_remaining"),
            disk_bps: u("disk_bps"),
            compression,
            auto_converge_throttle: u("auto_converge_throttle").min(i32::MAX as u64) as i32,
        }
    }

    /// As completed-job figures (typed parameter name, value), the way
    /// rvirt's drivers carry them.
    pub fn to_pairs(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(&str, u64)> = vec![
            ("time_elapsed", self.time_elapsed),
            ("memory_total", self.memory_total),
            ("memory_processed", self.memory_processed),
            ("memory_remaining", self.memory_remaining),
            ("memory_bps", self.memory_bps),
            ("memory_dirty_rate", self.memory_dirty_rate),
            ("memory_iteration", self.memory_iteration),
            ("memory_postcopy_requests", self.memory_postcopy_requests),
            ("memory_page_size", self.memory_page_size),
            ("disk_total", self.disk_total),
            ("disk_processed", self.disk_processed),
            ("disk_remaining", self.disk_remaining),
            ("disk_bps", self.disk_bps),
            (
                "auto_converge_throttle",
                self.auto_converge_throttle.max(0) as u64,
            ),
        ];
        v.extend(self.downtime.map(|d| ("downtime", d)));
        v.extend(self.setup_time.map(|d| ("setup_time", d)));
        if let Some(c) = self.memory_constant {
            v.push(("memory_constant", c));
            v.push(("memory_normal", self.memory_normal));
            v.push(("memory_normal_bytes", self.memory_normal_bytes));
        }
        if let Some(c) = self.compression {
            v.push(("compression_cache", c.cache));
            v.push(("compression_bytes", c.bytes));
            v.push(("compression_pages", c.pages));
            v.push(("compression_cache_misses", c.cache_misses));
            v.push(("compression_overflow", c.overflow));
        }
        v.push((
            "data_processed",
            self.memory_processed + self.disk_processed,
        ));
        v.into_iter().map(|(n, x)| (n.to_string(), x)).collect()
    }

    /// From completed-job figures; what is not there stays 0 / unset.
    pub fn from_pairs(pairs: &[(String, u64)], started_ms: u64) -> CookieStatistics {
        let stats = CookieStatistics::from_lookup(|name| {
            pairs.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
        });
        let ended = started_ms + stats.time_elapsed;
        CookieStatistics {
            started: started_ms,
            stopped: ended,
            sent: ended,
            ..stats
        }
    }
}
