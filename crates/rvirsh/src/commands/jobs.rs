//! Job and migration-tuning commands: domjobinfo, domjobabort,
//! migrate-setspeed, migrate-getspeed, migrate-setmaxdowntime,
//! migrate-getmaxdowntime, migrate-postcopy, with virsh 9.0's output.

use super::opts::{opt_ul_wrap, opt_ull, require};
use super::{about, cmd, data, flag, req_int, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use rvirt::job::{abort_flags, field, job_type, stats_flags, JobInfo};
use rvirt::{Error, ErrorCode, ErrorDomain};
use rvirt_util::{TypedParamValue, TypedParams};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
"domjobinfo",
about("domain job information", "Returns information about jobs running on a domain."),
        &[
            data("domain", "domain name, id or uuid"),
            flag("completed", "return statistics of a recently completed job"),
            flag("keep-completed", "don't destroy statistics of a recently completed job when reading"),
            flag("anystats", "print statistics for any kind of job (even failed ones)"),
            flag("rawstats", "print the raw data returned by libvirt"),
        ],
        domjobinfo,
    ),
    cmd(
"domjobabort",
about("abort active domain job", "Aborts the currently running domain job"),
        &[data("domain", "domain name, id or uuid"), flag("postcopy", "interrupt post-copy migration")],
        domjobabort,
    ),
    cmd(
"migrate-setmaxdowntime",
about("set maximum tolerable downtime", "Set maximum tolerable downtime of a domain which is being live-migrated to another host."),
        &[data("domain", "domain name, id or uuid"), req_int("downtime", "maximum tolerable downtime (in milliseconds) for migration")],
        setmaxdowntime,
    ),
    cmd(
"migrate-getmaxdowntime",
about("get maximum tolerable downtime", "Get maximum tolerable downtime of a domain which is being live-migrated to another host."), &[data("domain", "domain name, id or uuid")], getmaxdowntime),
    cmd(
"migrate-setspeed",
about("Set the maximum migration bandwidth", "Set the maximum migration bandwidth (in MiB/s) for a domain which is being migrated to another host."),
        &[data("domain", "domain name, id or uuid"), req_int("bandwidth", "migration bandwidth limit in MiB/s"), flag("postcopy", "set post-copy migration bandwidth")],
        setspeed,
    ),
    cmd(
"migrate-getspeed",
about("Get the maximum migration bandwidth", "Get the maximum migration bandwidth (in MiB/s) for a domain."),
        &[data("domain", "domain name, id or uuid"), flag("postcopy", "get post-copy migration bandwidth")],
        getspeed,
    ),
    cmd(
"migrate-postcopy",
about("Switch running migration from pre-copy to post-copy", "Switch running migration from pre-copy to post-copy. The migration must have been started with --postcopy option."), &[data("domain", "domain name, id or uuid")], postcopy),
];

/// `VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY`.
pub const MAX_SPEED_POSTCOPY: u32 = 1 << 0;

/// Job-stats names this module prints that rvirt::job::field does not
/// carry (libvirt-domain.h's VIR_DOMAIN_JOB_DISK_* and COMPRESSION_*).
mod more_fields {
    pub const DISK_TOTAL: &str = "disk_total";
    pub const DISK_PROCESSED: &str = "disk_processed";
    pub const DISK_REMAINING: &str = "disk_remaining";
    pub const DISK_BPS: &str = "disk_bps";
    pub const COMPRESSION_CACHE: &str = "compression_cache";
    pub const COMPRESSION_BYTES: &str = "compression_bytes";
    pub const COMPRESSION_PAGES: &str = "compression_pages";
    pub const COMPRESSION_CACHE_MISSES: &str = "compression_cache_misses";
    pub const COMPRESSION_OVERFLOW: &str = "compression_overflow";
    pub const DISK_TEMP_USED: &str = "disk_temp_used";
    pub const DISK_TEMP_TOTAL: &str = "disk_temp_total";
}
use more_fields as mf;

/// virshDomainJobToString.
pub fn job_type_name(t: i32) -> &'static str {
    match t {
        job_type::NONE => "None",
        job_type::BOUNDED => "Bounded",
        job_type::UNBOUNDED => "Unbounded",
        job_type::COMPLETED => "Completed",
        job_type::FAILED => "Failed",
        job_type::CANCELLED => "Cancelled",
        _ => "unknown",
    }
}

/// virshDomainJobOperationToString.
pub fn operation_name(op: i32) -> &'static str {
    const NAMES: [&str; 11] = [
        "Unknown",
        "Start",
        "Save",
        "Restore",
        "Incoming migration",
        "Outgoing migration",
        "Snapshot",
        "Snapshot revert",
        "Dump",
        "Backup",
        "Snapshot delete",
    ];
    usize::try_from(op)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("unknown")
}

/// vshPrettyCapacity: the value in the largest binary unit below it.
pub fn pretty_capacity(val: u64) -> (f64, &'static str) {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut limit = 1024.0_f64;
    for (i, unit) in UNITS.iter().enumerate() {
        if (val as f64) < limit || i == UNITS.len() - 1 {
            return (val as f64 / (limit / 1024.0), unit);
        }
        limit *= 1024.0;
    }
    unreachable!("the loop returns on its last unit")
}

/// C's `%g`: six significant digits, trailing zeros dropped, exponent form
/// below 1e-4 or from 1e6.
pub fn c_format_g(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    } else {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        trim(&format!("{v:.decimals$}"))
    }
}

/// virTypedParameterToString.
pub fn typed_value_text(v: &TypedParamValue) -> String {
    match v {
        TypedParamValue::Int(i) => i.to_string(),
        TypedParamValue::UInt(u) => u.to_string(),
        TypedParamValue::LLong(l) => l.to_string(),
        TypedParamValue::ULLong(u) => u.to_string(),
        TypedParamValue::Double(d) => c_format_g(*d),
        TypedParamValue::Boolean(b) => u8::from(*b).to_string(),
        TypedParamValue::String(s) => s.clone(),
    }
}

fn wrong_type(name: &str, want: &str, got: &TypedParamValue) -> Error {
    Error::invalid_arg(
        ErrorDomain::NONE,
        format!(
            "Invalid type '{want}' requested for parameter '{name}', actual type is '{}'",
            got.kind().name()
        ),
    )
}

/// virTypedParamsGetULLong: absent is None, another type an error.
fn get_ull(stats: &TypedParams, name: &str) -> Result<Option<u64>, Error> {
    match stats.get(name) {
        None => Ok(None),
        Some(TypedParamValue::ULLong(v)) => Ok(Some(*v)),
        Some(other) => Err(wrong_type(name, "ullong", other)),
    }
}

fn get_int(stats: &TypedParams, name: &str) -> Result<Option<i32>, Error> {
    match stats.get(name) {
        None => Ok(None),
        Some(TypedParamValue::Int(v)) => Ok(Some(*v)),
        Some(other) => Err(wrong_type(name, "int", other)),
    }
}

fn get_string<'a>(stats: &'a TypedParams, name: &str) -> Result<Option<&'a str>, Error> {
    match stats.get(name) {
        None => Ok(None),
        Some(TypedParamValue::String(v)) => Ok(Some(v)),
        Some(other) => Err(wrong_type(name, "string", other)),
    }
}

/// virshDomainJobStatsToDomainJobInfo.
fn info_from_stats(type_: i32, stats: &TypedParams) -> Result<JobInfo, Error> {
    let g = |n| get_ull(stats, n).map(Option::unwrap_or_default);
    Ok(JobInfo {
        type_,
        time_elapsed: g(field::TIME_ELAPSED)?,
        time_remaining: g(field::TIME_REMAINING)?,
        data_total: g(field::DATA_TOTAL)?,
        data_processed: g(field::DATA_PROCESSED)?,
        data_remaining: g(field::DATA_REMAINING)?,
        mem_total: g(field::MEMORY_TOTAL)?,
        mem_processed: g(field::MEMORY_PROCESSED)?,
        mem_remaining: g(field::MEMORY_REMAINING)?,
        file_total: g(mf::DISK_TOTAL)?,
        file_processed: g(mf::DISK_PROCESSED)?,
        file_remaining: g(mf::DISK_REMAINING)?,
    })
}

/// cmdDomjobinfo's report, line by line; on a stats error the lines so far
/// are kept (virsh has printed them) and the error follows.
pub fn format_jobinfo(
    info: &JobInfo,
    stats: &TypedParams,
    completed_flag: bool,
    anystats: bool,
) -> (String, Result<(), Error>) {
    let mut out = String::new();
    let r = write_jobinfo(&mut out, info, stats, completed_flag, anystats);
    (out, r)
}

fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    out.push_str(&format!("{label:<17} {value}\n"));
}

fn write_jobinfo(
    out: &mut String,
    info: &JobInfo,
    stats: &TypedParams,
    completed_flag: bool,
    anystats: bool,
) -> Result<(), Error> {
    line(
        out,
        "Job type:",
        format!("{:<12}", job_type_name(info.type_)),
    );
    if info.type_ == job_type::NONE {
        return Ok(());
    }
    let op = get_int(stats, field::OPERATION)?.unwrap_or(rvirt::job::operation::UNKNOWN);
    line(out, "Operation:", format!("{:<12}", operation_name(op)));
    let active = matches!(info.type_, job_type::BOUNDED | job_type::UNBOUNDED);
    let completed = completed_flag && info.type_ == job_type::COMPLETED;
    if !(anystats || active || completed) {
        return Ok(());
    }
    write_stats(&mut Stats { out, stats }, info)
}

/// The lines of a job with statistics, in cmdDomjobinfo's order.
fn write_stats(s: &mut Stats, info: &JobInfo) -> Result<(), Error> {
    line(s.out, "Time elapsed:", Unit::Ms.show(info.time_elapsed));
    s.rows(Section::Time)?;
    if info.type_ == job_type::BOUNDED {
        line(s.out, "Time remaining:", Unit::Ms.show(info.time_remaining));
    }
    let data = [info.data_processed, info.data_remaining, info.data_total];
    amounts(s.out, "Data", data);
    let memory = [info.mem_processed, info.mem_remaining, info.mem_total];
    if amounts(s.out, "Memory", memory) {
        s.rows(Section::Memory)?;
    }
    let file = [info.file_processed, info.file_remaining, info.file_total];
    if amounts(s.out, "File", file) {
        s.rows(Section::File)?;
    }
    s.rows(Section::Pages)?;
    if let Some(v) = get_ull(s.stats, field::DOWNTIME)? {
        let label = if info.type_ == job_type::COMPLETED {
            "Total downtime:"
        } else {
            "Expected downtime:"
        };
        line(s.out, label, Unit::Ms.show(v));
    }
    s.rows(Section::Tail)?;
    if let Some(v) = get_string(s.stats, field::ERRMSG)? {
        line(s.out, "Error message:", v);
    }
    Ok(())
}

/// Which group of [`ROWS`] a line belongs to: memory and file details
/// follow their totals and appear only with them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Time,
    Memory,
    File,
    Pages,
    Tail,
}

/// The numeric lines of cmdDomjobinfo, in its order: the section, the
/// stats field, the label and how the value is printed.
#[rustfmt::skip]
const ROWS: &[(Section, &str, &str, Unit)] = {
    use field as f;
    use Section::*;
    &[
        (Time, f::TIME_ELAPSED_NET, "Time elapsed w/o network:", Unit::Ms),
        (Memory, f::MEMORY_BPS, "Memory bandwidth:", Unit::BytesPerSec),
        (Memory, f::MEMORY_DIRTY_RATE, "Dirty rate:", Unit::PagesPerSec),
        (Memory, f::MEMORY_PAGE_SIZE, "Page size:", Unit::ByteCount),
        (Memory, f::MEMORY_ITERATION, "Iteration:", Unit::Count),
        (Memory, f::MEMORY_POSTCOPY_REQS, "Postcopy requests:", Unit::Count),
        (File, mf::DISK_BPS, "File bandwidth:", Unit::BytesPerSec),
        (Pages, f::MEMORY_CONSTANT, "Constant pages:", Unit::Count),
        (Pages, f::MEMORY_NORMAL, "Normal pages:", Unit::Count),
        (Pages, f::MEMORY_NORMAL_BYTES, "Normal data:", Unit::Bytes),
        (Tail, f::DOWNTIME_NET, "Downtime w/o network:", Unit::Ms),
        (Tail, f::SETUP_TIME, "Setup time:", Unit::Ms),
        (Tail, mf::COMPRESSION_CACHE, "Compression cache:", Unit::Bytes),
        (Tail, mf::COMPRESSION_BYTES, "Compressed data:", Unit::Bytes),
        (Tail, mf::COMPRESSION_PAGES, "Compressed pages:", Unit::Counter),
        (Tail, mf::COMPRESSION_CACHE_MISSES, "Compression cache misses:", Unit::Counter),
        (Tail, mf::COMPRESSION_OVERFLOW, "Compression overflows:", Unit::Counter),
        (Tail, f::AUTO_CONVERGE_THROTTLE, "Auto converge throttle:", Unit::IntCounter),
        (Tail, mf::DISK_TEMP_USED, "Temporary disk space use:", Unit::Bytes),
        (Tail, mf::DISK_TEMP_TOTAL, "Temporary disk space total:", Unit::Bytes),
    ]
};

/// The report being written and the statistics it reads.
struct Stats<'a> {
    out: &'a mut String,
    stats: &'a TypedParams,
}

impl Stats<'_> {
    /// The section's lines whose fields the daemon sent.
    fn rows(&mut self, section: Section) -> Result<(), Error> {
        for &(_, name, label, unit) in ROWS.iter().filter(|r| r.0 == section) {
            if unit == Unit::IntCounter {
                if let Some(v) = get_int(self.stats, name)? {
                    line(self.out, label, format!("{v:<13}"));
                }
            } else if let Some(v) = get_ull(self.stats, name)? {
                unit.write(self.out, label, v);
            }
        }
        Ok(())
    }
}

/// How cmdDomjobinfo prints a number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// "%-12llu ms".
    Ms,
    /// A capacity, "%-.3lf %s".
    Bytes,
    /// A capacity per second; a zero rate is not printed.
    BytesPerSec,
    /// "%-12llu".
    Count,
    /// "%-12llu pages/s".
    PagesPerSec,
    /// "%-12llu bytes".
    ByteCount,
    /// "%-13llu" (the compression counters).
    Counter,
    /// "%-13d" (an `int` field: the auto-converge throttle).
    IntCounter,
}

impl Unit {
    fn show(self, v: u64) -> String {
        match self {
            Unit::Ms => format!("{v:<12} ms"),
            Unit::Bytes | Unit::BytesPerSec => {
                let (val, unit) = pretty_capacity(v);
                let per = if matches!(self, Unit::BytesPerSec) {
                    "/s"
                } else {
                    ""
                };
                format!("{val:.3} {unit}{per}")
            }
            Unit::Count => format!("{v:<12}"),
            Unit::PagesPerSec => format!("{v:<12} pages/s"),
            Unit::ByteCount => format!("{v:<12} bytes"),
            Unit::Counter | Unit::IntCounter => format!("{v:<13}"),
        }
    }

    fn write(self, out: &mut String, label: &str, v: u64) {
        if !(matches!(self, Unit::BytesPerSec) && v == 0) {
            line(out, label, self.show(v));
        }
    }
}

/// The "processed / remaining / total" lines of one kind of data (Data,
/// Memory, File), printed when any of them is non-zero; returns whether
/// they were, as the kind's detail lines follow only then.
fn amounts(out: &mut String, kind: &str, [processed, remaining, total]: [u64; 3]) -> bool {
    if processed == 0 && remaining == 0 && total == 0 {
        return false;
    }
    Unit::Bytes.write(out, &format!("{kind} processed:"), processed);
    Unit::Bytes.write(out, &format!("{kind} remaining:"), remaining);
    Unit::Bytes.write(out, &format!("{kind} total:"), total);
    true
}

/// `--rawstats`: the job type number, then every field as libvirt gives it.
pub fn format_rawstats(type_: i32, stats: &TypedParams) -> String {
    let mut out = format!("Job type: {type_}\n\n");
    for p in stats.iter() {
        out.push_str(&format!("{}: {}\n", p.field, typed_value_text(&p.value)));
    }
    out
}

fn domain_arg(c: &ParsedCommand) -> &str {
    c.get("domain").unwrap_or_default()
}

fn domjobinfo(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    require(c, "keep-completed", "completed")?;
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let rawstats = c.has("rawstats");
    let mut flags = 0;
    if c.has("completed") {
        flags |= stats_flags::COMPLETED;
    }
    if c.has("keep-completed") {
        flags |= stats_flags::KEEP_COMPLETED;
    }
    let (info, stats) = match dom.get_job_stats(flags) {
        Ok((ty, stats)) => (info_from_stats(ty, &stats)?, stats),
        Err(e) if e.code == ErrorCode::NO_SUPPORT => {
            if flags != 0 || rawstats {
                return Err(CmdError::with(
                    "Optional flags or --rawstats are not supported by the daemon",
                    e,
                ));
            }
            (dom.get_job_info()?, TypedParams::new())
        }
        Err(e) => return Err(e.into()),
    };
    if rawstats {
        ctl.print(&format_rawstats(info.type_, &stats));
        return Ok(());
    }
    let (out, result) = format_jobinfo(
        &info,
        &stats,
        flags & stats_flags::COMPLETED != 0,
        c.has("anystats"),
    );
    ctl.print(&out);
    result.map_err(Into::into)
}

fn domjobabort(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let flags = if c.has("postcopy") {
        abort_flags::POSTCOPY
    } else {
        0
    };
    dom.abort_job(flags)?;
    Ok(())
}

fn setmaxdowntime(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let downtime = opt_ull(c, "downtime")?.unwrap_or(0);
    if downtime < 1 {
        return Err(CmdError::msg("migrate: Invalid downtime"));
    }
    dom.migrate_set_max_downtime(downtime, 0)?;
    Ok(())
}

fn getmaxdowntime(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let downtime = dom.migrate_get_max_downtime(0)?;
    ctl.print(&format!("{downtime}\n"));
    Ok(())
}

fn speed_flags(c: &ParsedCommand) -> u32 {
    if c.has("postcopy") {
        MAX_SPEED_POSTCOPY
    } else {
        0
    }
}

fn setspeed(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    // vshCommandOptULWrap: "-1" is the largest value.
    let bandwidth = opt_ul_wrap(c, "bandwidth")?.unwrap_or(0);
    dom.migrate_set_max_speed(bandwidth, speed_flags(c))?;
    Ok(())
}

fn getspeed(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    let bandwidth = dom.migrate_get_max_speed(speed_flags(c))?;
    ctl.print(&format!("{bandwidth}\n"));
    Ok(())
}

fn postcopy(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(domain_arg(c), BY_ANY)?;
    dom.migrate_start_post_copy(0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_g_matches_c() {
        assert_eq!(c_format_g(0.5), "0.5");
        assert_eq!(c_format_g(100.0), "100");
        assert_eq!(c_format_g(1234567.0), "1.23457e+06");
        assert_eq!(c_format_g(0.0001), "0.0001");
        assert_eq!(c_format_g(0.00001), "1e-05");
        assert_eq!(c_format_g(12.3456789), "12.3457");
    }

    #[test]
    fn capacity_units() {
        assert_eq!(pretty_capacity(1023), (1023.0, "B"));
        assert_eq!(pretty_capacity(1536), (1.5, "KiB"));
        assert_eq!(pretty_capacity(8 << 30), (8.0, "GiB"));
    }
}
