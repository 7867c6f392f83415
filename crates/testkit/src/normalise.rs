//! The named normalisations a comparison of two tools' output allows
//! (each exception explicit): times, ids, UUIDs, URIs, log lines.

/// One named thing two runs may legitimately print differently; a
/// comparison lists the ones it allows, so each exception is explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalise {
    /// `CPU time:` (dominfo) is the test driver's clock reading: the value
    /// is blanked, the label and its padding kept.
    CpuTime,
    /// A URI that differs between the two runs (e.g. two daemons' ports),
    /// printed as `<uri>`.
    Uri(String),
    /// Any UUID (8-4-4-4-12 hex), e.g. a generated one, printed as `<uuid>`.
    Uuid,
    /// A `YYYY-MM-DD HH:MM:SS+ZZZZ` time (when a client connected),
    /// printed as `<time>`.
    Timestamp,
    /// The value of a `NAME : VALUE` line (virt-admin's typed parameters,
    /// e.g. a client's `unix_process_id` or `sock_addr`, or a count that
    /// depends on the daemon's own clients), printed as `<NAME>`.
    Field(&'static str),
    /// A given text that differs between the two runs (a client id inside
    /// a message), printed as `<NAME>`.
    Value(String, &'static str),
    /// The first word of a table row that starts with a number (a client
    /// id in `srv-clients-list`), printed as `<id>`.
    RowId,
    /// A snapshot's creation time: ten-digit epoch seconds (in
    /// `<creationTime>` and in the names of unnamed snapshots) as
    /// `<epoch>`, and snapshot-list's `YYYY-MM-DD HH:MM:SS +ZZZZ` as
    /// `<snaptime>` (both keep their width, so tables still line up).
    SnapshotTime,
    /// The text of one-line `<NAME>TEXT</NAME>` elements (a volume's
    /// `<atime>`...), printed as `<NAME>..</NAME>`.
    XmlText(&'static str),
    /// Byte counts of a gibibyte and more in `unit='bytes'>N<` (a file
    /// system's capacity and free space behind a pool), printed as
    /// `<bytes>`; a volume's smaller figures are kept.
    LargeBytes,
    /// A libvirt log line on stderr (`STAMP: TID: LEVEL : SOURCE:LINE :
    /// MESSAGE`) as `<log> LEVEL : MESSAGE`: the time, thread and source
    /// (libvirt's C function, rvirt's module) differ, the rest must not;
    /// the version line that opens a log is `<log> info : <version>`.
    LogLine,
    /// A line's last word when it is a number of nine digits or more (the
    /// test driver's block and interface counters, clock readings),
    /// printed as `<counter>`.
    Counter,
}

impl Normalise {
    fn apply(&self, line: &str) -> String {
        match self {
            Normalise::CpuTime => match line.strip_prefix("CPU time:") {
                Some(value) => {
                    let pad = value.len() - value.trim_start().len();
                    format!("CPU time:{}<clock>", " ".repeat(pad.max(1)))
                }
                None => line.to_string(),
            },
            Normalise::Uri(uri) => line.replace(uri.as_str(), "<uri>"),
            Normalise::Uuid => blank_uuids(line),
            Normalise::Timestamp => blank_times(line),
            Normalise::Field(name) => match line.split_once(':') {
                Some((key, _)) if key.trim_end() == *name => format!("{key}: <{name}>"),
                _ => line.to_string(),
            },
            Normalise::Value(text, name) => line.replace(text.as_str(), &format!("<{name}>")),
            Normalise::SnapshotTime => blank_snapshot_times(line),
            Normalise::XmlText(name) => {
                let (open, close) = (format!("<{name}>"), format!("</{name}>"));
                match (line.find(&open), line.find(&close)) {
                    (Some(a), Some(b)) if a < b => {
                        format!("{}{open}..{}", &line[..a], &line[b..])
                    }
                    _ => line.to_string(),
                }
            }
            Normalise::LogLine => blank_log_line(line),
            Normalise::Counter => {
                let head = line.trim_end_matches(|c: char| c.is_ascii_digit());
                let digits = line.len() - head.len();
                if digits >= 9 && (head.is_empty() || head.ends_with(' ')) {
                    format!("{head}<counter>")
                } else {
                    line.to_string()
                }
            }
            Normalise::LargeBytes => match line.split_once("unit='bytes'>") {
                Some((head, tail)) => {
                    let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
                    match tail[..digits].parse::<u64>() {
                        Ok(n) if n >= 1 << 30 => {
                            format!("{head}unit='bytes'><bytes>{}", &tail[digits..])
                        }
                        _ => line.to_string(),
                    }
                }
                None => line.to_string(),
            },
            Normalise::RowId => {
                let body = line.trim_start();
                let indent = &line[..line.len() - body.len()];
                match body.split_once(' ') {
                    Some((id, rest)) if id.bytes().all(|b| b.is_ascii_digit()) => {
                        format!("{indent}<id> {rest}")
                    }
                    _ => line.to_string(),
                }
            }
        }
    }
}

/// `text` with every rule applied to every line; line ends kept.
pub fn normalise(text: &str, rules: &[Normalise]) -> String {
    if rules.is_empty() {
        return text.to_string();
    }
    text.split_inclusive('\n')
        .map(|line| {
            let (body, end) = match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            };
            let body = rules.iter().fold(body.to_string(), |l, r| r.apply(&l));
            body + end
        })
        .collect()
}

/// Whether `w` has `shape`'s form: `d` a digit, `+` a sign, any other
/// byte itself.
fn fits_shape(w: &[u8], shape: &[u8]) -> bool {
    w.iter().zip(shape).all(|(c, s)| match s {
        b'd' => c.is_ascii_digit(),
        b'+' => *c == b'+' || *c == b'-',
        _ => c == s,
    })
}

/// `line` with each `YYYY-MM-DD HH:MM:SS+ZZZZ` replaced by `<time>`.
fn blank_times(line: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd+dddd";
    let fits = |w: &[u8]| fits_shape(w, SHAPE);
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        if i + SHAPE.len() <= bytes.len() && fits(&bytes[i..i + SHAPE.len()]) {
            out.push_str("<time>");
            i += SHAPE.len();
        } else {
            let c = line[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `line` with epoch seconds and snapshot-list times blanked, padded to
/// their own width.
fn blank_snapshot_times(line: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd +dddd";
    let fits = |w: &[u8]| fits_shape(w, SHAPE);
    let bytes = line.as_bytes();
    let word_edge = |i: usize| i >= bytes.len() || !bytes[i].is_ascii_alphanumeric();
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        let start_ok = i == 0 || word_edge(i - 1);
        if start_ok && i + SHAPE.len() <= bytes.len() && fits(&bytes[i..i + SHAPE.len()]) {
            out.push_str(&format!("{:<25}", "<snaptime>"));
            i += SHAPE.len();
        } else if start_ok
            && i + 10 <= bytes.len()
            && bytes[i..i + 10].iter().all(u8::is_ascii_digit)
            && word_edge(i + 10)
        {
            out.push_str("<epoch>   ");
            i += 10;
        } else {
            let c = line[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `line` with each UUID-shaped word replaced by `<uuid>`.
fn blank_uuids(line: &str) -> String {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let is_uuid = |s: &str| {
        let groups: Vec<&str> = s.split('-').collect();
        groups.len() == 5
            && groups
                .iter()
                .zip(SHAPE)
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        let fits = i + 36 <= line.len()
            && line.is_char_boundary(i + 36)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 36).is_none_or(|b| !b.is_ascii_alphanumeric());
        if fits && is_uuid(&line[i..i + 36]) {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let c = line[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// See [`Normalise::LogLine`].
fn blank_log_line(line: &str) -> String {
    let stamp_len = "2026-12-05 04:55:00.123+0000: ".len();
    let is_stamp = line.len() > stamp_len
        && line.as_bytes()[..stamp_len]
            .iter()
            .zip(b"dddd-dd-dd dd:dd:dd.ddd+dddd: ")
            .all(|(c, shape)| match shape {
                b'd' => c.is_ascii_digit(),
                s => c == s,
            });
    let Some((tid, rest)) = is_stamp
        .then(|| line[stamp_len..].split_once(": "))
        .flatten()
        .filter(|(tid, _)| tid.bytes().all(|b| b.is_ascii_digit()))
    else {
        return line.to_string();
    };
    let _ = tid;
    let Some((level, rest)) = rest.split_once(" : ") else {
        return line.to_string();
    };
    let message = match rest.split_once(" : ") {
        Some((source, message))
            if !source.contains(' ')
                && source
                    .rsplit_once(':')
                    .is_some_and(|(_, n)| n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            message
        }
        _ => rest,
    };
    if message.starts_with("libvirt version: ") {
        return format!("<log> {level} : <version>");
    }
    format!("<log> {level} : {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_keep_level_and_message_only() {
        let rules = [Normalise::LogLine];
        let text = "2026-12-05 04:55:26.482+0000: 21421: info : libvirt version: 9.0.0, package: 4 (Debian)\n\
                    2026-12-05 04:55:26.482+0000: 21421: warning : virNetTLSContextCheckCertificate:1086 : Certificate check failed x: y\n\
                    error: authentication failed";
        assert_eq!(
            normalise(text, &rules),
            "<log> info : <version>\n<log> warning : Certificate check failed x: y\nerror: authentication failed"
        );
    }
}
