//! domjobinfo's report layout (cmdDomjobinfo's printf formats), and the job
//! commands run by the rvirsh binary on in-process test-driver hosts:
//! `test:///default`, and two node-file hosts for a real migration with
//! `--verbose`, `--timeout` and the completed-job report.

use rvirsh::commands::jobs::{c_format_g, format_jobinfo, format_rawstats, typed_value_text};
use rvirt::job::{field, job_type, JobInfo};
use rvirt_testkit::tools::rvirsh;
use rvirt_util::{TypedParamValue as V, TypedParams};
use std::path::PathBuf;
use std::process::Command;

const MIB: u64 = 1024 * 1024;

fn running_stats() -> (JobInfo, TypedParams) {
    let stats = TypedParams::new()
        .with(field::OPERATION, V::Int(5))
        .with(field::TIME_ELAPSED, V::ULLong(1234))
        .with(field::DATA_TOTAL, V::ULLong(1024 * MIB))
        .with(field::DATA_PROCESSED, V::ULLong(512 * MIB))
        .with(field::DATA_REMAINING, V::ULLong(512 * MIB))
        .with(field::MEMORY_TOTAL, V::ULLong(1024 * MIB))
        .with(field::MEMORY_PROCESSED, V::ULLong(512 * MIB))
        .with(field::MEMORY_REMAINING, V::ULLong(512 * MIB))
        .with(field::MEMORY_BPS, V::ULLong(100 * MIB))
        .with(field::MEMORY_DIRTY_RATE, V::ULLong(256))
        .with(field::MEMORY_PAGE_SIZE, V::ULLong(4096))
        .with(field::MEMORY_ITERATION, V::ULLong(2))
        .with(field::MEMORY_CONSTANT, V::ULLong(10))
        .with(field::MEMORY_NORMAL, V::ULLong(20))
        .with(field::MEMORY_NORMAL_BYTES, V::ULLong(81920))
        .with(field::DOWNTIME, V::ULLong(300))
        .with(field::SETUP_TIME, V::ULLong(5))
        .with(field::AUTO_CONVERGE_THROTTLE, V::Int(20));
    (JobInfo::from_stats(job_type::UNBOUNDED, &stats), stats)
}

#[test]
fn running_job_report_has_virshs_labels_units_and_padding() {
    let (info, stats) = running_stats();
    let (out, r) = format_jobinfo(&info, &stats, false, false);
    r.unwrap();
    assert_eq!(
        out,
        "Job type:         Unbounded   \n\
         Operation:        Outgoing migration\n\
         Time elapsed:     1234         ms\n\
         Data processed:   512.000 MiB\n\
         Data remaining:   512.000 MiB\n\
         Data total:       1.000 GiB\n\
         Memory processed: 512.000 MiB\n\
         Memory remaining: 512.000 MiB\n\
         Memory total:     1.000 GiB\n\
         Memory bandwidth: 100.000 MiB/s\n\
         Dirty rate:       256          pages/s\n\
         Page size:        4096         bytes\n\
         Iteration:        2           \n\
         Constant pages:   10          \n\
         Normal pages:     20          \n\
         Normal data:      80.000 KiB\n\
         Expected downtime: 300          ms\n\
         Setup time:       5            ms\n\
         Auto converge throttle: 20           \n"
    );
}

#[test]
fn report_stops_where_virsh_stops() {
    let none = JobInfo::default();
    let (out, r) = format_jobinfo(&none, &TypedParams::new(), false, false);
    r.unwrap();
    assert_eq!(out, "Job type:         None        \n");
    // A completed job shows its figures only with --completed (or
    // --anystats), and calls the downtime "Total".
    let stats = TypedParams::new()
        .with(field::OPERATION, V::Int(4))
        .with(field::TIME_ELAPSED, V::ULLong(7))
        .with(field::DOWNTIME, V::ULLong(42));
    let done = JobInfo::from_stats(job_type::COMPLETED, &stats);
    let (out, _) = format_jobinfo(&done, &stats, false, false);
    assert_eq!(
        out,
        "Job type:         Completed   \nOperation:        Incoming migration\n"
    );
    let (out, _) = format_jobinfo(&done, &stats, true, false);
    assert!(
        out.ends_with("Time elapsed:     7            ms\nTotal downtime:   42           ms\n"),
        "{out}"
    );
    let (anystats, _) = format_jobinfo(&done, &stats, false, true);
    assert_eq!(anystats, out);
}

#[test]
fn wrong_typed_stat_is_libvirts_error_after_the_lines_so_far() {
    let stats = TypedParams::new()
        .with(field::OPERATION, V::Int(5))
        .with(field::TIME_ELAPSED_NET, V::String("x".into()));
    let info = JobInfo::from_stats(job_type::UNBOUNDED, &stats);
    let (out, r) = format_jobinfo(&info, &stats, false, false);
    assert!(
        out.ends_with("Time elapsed:     0            ms\n"),
        "{out}"
    );
    assert_eq!(
        r.unwrap_err().message,
        "invalid argument: Invalid type 'ullong' requested for parameter 'time_elapsed_net', actual type is 'string'"
    );
}

#[test]
fn rawstats_print_every_field_as_libvirt_formats_it() {
    let stats = TypedParams::new()
        .with("a", V::Int(-1))
        .with("b", V::UInt(2))
        .with("c", V::LLong(-3))
        .with("d", V::ULLong(4))
        .with("e", V::Double(0.25))
        .with("f", V::Boolean(true))
        .with("g", V::String("s".into()));
    assert_eq!(
        format_rawstats(2, &stats),
        "Job type: 2\n\na: -1\nb: 2\nc: -3\nd: 4\ne: 0.25\nf: 1\ng: s\n"
    );
    assert_eq!(typed_value_text(&V::Double(1e20)), "1e+20");
    assert_eq!(c_format_g(123456.0), "123456");
}

#[test]
fn job_commands_on_test_default() {
    let o = rvirsh(
        "test:///default",
        "domjobinfo test; domjobinfo test --completed --keep-completed; migrate-getspeed test; \
         migrate-getspeed test --postcopy; migrate-setspeed test 100; migrate-getspeed test; \
         migrate-setspeed test 5 --postcopy; migrate-getspeed test --postcopy; \
         migrate-getmaxdowntime test; migrate-setmaxdowntime test 50; migrate-getmaxdowntime test",
    );
    assert!(o.ok, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "Job type:         None        \n\nJob type:         None        \n\n\
         8796093022207\n\n8796093022207\n\n\n100\n\n\n5\n\n300\n\n\n50\n\n"
    );
}

#[test]
fn job_command_errors() {
    let cases = [
        ("domjobinfo nosuch", "error: failed to get domain 'nosuch'\n"),
        (
            "domjobinfo test --keep-completed",
            "error: Option --completed is required by option --keep-completed\n",
        ),
        (
            "migrate-setmaxdowntime test 0",
            "error: migrate: Invalid downtime\n",
        ),
        (
            "migrate-setmaxdowntime test -1",
            "error: Numeric value '-1' for <downtime> option is malformed or out of range\n",
        ),
        (
            "migrate-setspeed test abc",
            "error: Numeric value 'abc' for <bandwidth> option is malformed or out of range\n",
        ),
        (
            "migrate-setspeed test",
            "error: command 'migrate-setspeed' requires --bandwidth option\n",
        ),
        (
            "domjobabort test",
            "error: Requested operation is not valid: no job is active on the domain\n",
        ),
        (
            "migrate-postcopy test",
            "error: Requested operation is not valid: post-copy can only be started while outgoing migration is in progress\n",
        ),
        ("migrate nosuch test:///default", "error: failed to get domain 'nosuch'\n"),
        (
            "migrate --live --offline test test:///default",
            "error: Options --live and --offline are mutually exclusive\n",
        ),
        (
            "migrate test test:///default --timeout 5",
            "error: migrate: Unexpected timeout for offline migration\n",
        ),
    ];
    for (cmd, want) in cases {
        let o = rvirsh("test:///default", cmd);
        assert!(!o.ok, "`{cmd}` succeeded");
        assert_eq!(o.stderr, want, "`{cmd}`");
    }
}

/// Two node-file hosts in one rvirsh process.
struct Hosts {
    dir: PathBuf,
}

impl Hosts {
    fn new(tag: &str, guest_meta: &str, mib: u64) -> Hosts {
        let dir = std::env::temp_dir().join(format!("rvirsh-migjobs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for h in ["src.xml", "dst.xml"] {
            std::fs::write(dir.join(h), "<node><memory>8388608</memory></node>").unwrap();
        }
        std::fs::write(
            dir.join("guest.xml"),
            format!(
                "<domain type='test'><name>g</name><metadata>\
                 <rvirt:guest xmlns:rvirt='https://rvirt.dev/xmlns/test-guest/1'>{guest_meta}</rvirt:guest>\
                 </metadata><memory unit='MiB'>{mib}</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
            ),
        )
        .unwrap();
        Hosts { dir }
    }
    fn uri(&self, host: &str) -> String {
        format!("test://{}", self.dir.join(host).display())
    }
    /// Define and start the guest on the source, then run `commands`.
    fn run(&self, commands: &str) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_rvirsh"))
            .arg("-c")
            .arg(self.uri("src.xml"))
            .arg(format!(
                "define {}; start g; {commands}",
                self.dir.join("guest.xml").display()
            ))
            .env("LC_ALL", "C")
            .output()
            .expect("run rvirsh")
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn verbose_migration_prints_virsh_progress_and_completed_stats() {
    let hosts = Hosts::new(
        "verbose",
        "<rvirt:working-set unit='KiB'>16384</rvirt:working-set>",
        64,
    );
    let out = hosts.run(&format!(
        "migrate g {} --live --verbose --bandwidth 8; domjobinfo g --completed; domstate g",
        hosts.uri("dst.xml")
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    // stderr is not a terminal here: virsh's own `\rMigration: [ NN %]`
    // updates, ending with [100 %]; ~2 s at 8 MiB/s gives some updates.
    assert!(stderr.ends_with("\rMigration: [100 %]"), "{stderr:?}");
    let updates: Vec<&str> = stderr.split('\r').filter(|s| !s.is_empty()).collect();
    assert!(updates.len() >= 2, "{stderr:?}");
    for u in &updates {
        assert!(
            u.len() == "Migration: [100 %]".len()
                && u.starts_with("Migration: [")
                && u.ends_with(" %]"),
            "{u:?}"
        );
    }
    assert!(
        stdout.contains("Job type:         Completed   \nOperation:        Outgoing migration\nTime elapsed:     "),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nMemory total:     64.000 MiB\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\nTotal downtime:   "), "{stdout}");
    assert!(stdout.ends_with("shut off\n\n"), "{stdout}");
}

/// A guest that dirties its 16 MiB working set at 64 MiB/s never
/// converges over an 8 MiB/s link; only a switch to post-copy finishes it.
fn non_converging(tag: &str) -> Hosts {
    Hosts::new(
        tag,
        "<rvirt:working-set unit='KiB'>16384</rvirt:working-set>\
         <rvirt:dirty-rate unit='KiB/s'>65536</rvirt:dirty-rate>",
        64,
    )
}

fn migrate_finishes(hosts: &Hosts, opts: &str) -> String {
    let start = std::time::Instant::now();
    let out = hosts.run(&format!(
        "migrate g {} --live --postcopy --bandwidth 8 {opts}; domjobinfo g --completed",
        hosts.uri("dst.xml")
    ));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "`{opts}`: {stdout}{stderr}");
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    assert!(
        stdout.contains("Job type:         Completed   "),
        "{stdout}"
    );
    assert!(
        !stderr.contains("Migration:"),
        "no progress without --verbose: {stderr:?}"
    );
    stdout
}

#[test]
fn postcopy_after_precopy_switches_after_the_first_pass() {
    let hosts = non_converging("after-precopy");
    let stdout = migrate_finishes(&hosts, "--postcopy-after-precopy");
    // The switch waits for pass 2 to begin (virsh's MIGRATION_ITERATION 2).
    let passes: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Iteration:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("an Iteration line");
    assert!(passes >= 2, "{stdout}");
}

#[test]
fn timeout_postcopy_switches_when_the_time_is_up() {
    let hosts = non_converging("timeout-postcopy");
    migrate_finishes(&hosts, "--timeout 2 --timeout-postcopy");
}
