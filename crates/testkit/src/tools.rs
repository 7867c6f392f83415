//! The client tools the tests drive: stock virsh (the reference), rvirsh,
//! and python3-libvirt at /usr/bin/python3 (Debian's, with the bindings);
//! their output, named normalisations of what legitimately differs between
//! two runs, and a comparison that says readably what differs.

use std::ffi::OsStr;
use std::process::{Child, Command, Stdio};

pub use crate::normalise::{normalise, Normalise};

/// Debian's python3, where python3-libvirt is installed (a python3 earlier
/// on PATH, e.g. a virtualenv, would lack it).
pub const PYTHON3: &str = "/usr/bin/python3";

/// What one tool run printed, and whether it exited 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Output {
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            ok: out.status.success(),
        }
    }
}

impl Output {
    /// stdout's lines sorted, for a listing whose order libvirt leaves to
    /// a hash table (libvirtd's `srv-list` walks its servers' hash, seeded
    /// at random), so only the set of lines is compared.
    pub fn unordered(&self) -> Output {
        let mut lines: Vec<&str> = self.stdout.lines().collect();
        lines.sort_unstable();
        Output {
            stdout: lines.join("\n"),
            ..self.clone()
        }
    }

    /// Both streams with `rules` applied.
    pub fn normalised(&self, rules: &[Normalise]) -> Output {
        Output {
            stdout: normalise(&self.stdout, rules),
            stderr: normalise(&self.stderr, rules),
            ok: self.ok,
        }
    }
}

/// A virsh-syntax shell, to run as `PROGRAM -c URI COMMANDS` in the C locale
/// (virsh translates its messages), stdin closed.
pub fn shell_command(program: impl AsRef<OsStr>, uri: &str, commands: &str) -> Command {
    let mut cmd = Command::new(program);
    with_shell_args(&mut cmd, uri, commands);
    cmd
}

/// `-c URI COMMANDS`, the C locale, no default URI, stdin closed.
fn with_shell_args<'a>(cmd: &'a mut Command, uri: &str, commands: &str) -> &'a mut Command {
    cmd.arg("-c")
        .arg(uri)
        .arg(commands)
        .env("LC_ALL", "C")
        .env_remove("LIBVIRT_DEFAULT_URI")
        .stdin(Stdio::null())
}

/// Run `program -c URI COMMANDS`.
pub fn shell(program: impl AsRef<OsStr>, uri: &str, commands: &str) -> Output {
    let name = program.as_ref().to_string_lossy().into_owned();
    shell_command(program, uri, commands)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e} (scripts/install-deps.sh installs virsh)"))
        .into()
}

/// Stock virsh.
pub fn virsh(uri: &str, commands: &str) -> Output {
    if !commands.contains("migrate ") {
        return shell("virsh", uri, commands);
    }
    // virsh 9.0's cmdMigrate quits its job-watch main loop from the worker
    // thread; when the migration fails at once (a flag check in the client
    // library), the quit can come before the loop runs and virsh then
    // waits forever. Such a run is killed by its PID and run again.
    for _ in 0..3 {
        if let Some(out) = shell_within("virsh", uri, commands, VIRSH_MIGRATE_DEADLINE) {
            return out;
        }
        eprintln!("stock virsh hung on '{commands}' (virsh 9.0's job-watch race): again");
    }
    panic!("stock virsh hung three times on '{commands}'");
}

/// Stock virsh that must succeed: its stdout (the test fails with what
/// it printed otherwise).
pub fn virsh_ok(uri: &str, commands: &str) -> String {
    let out = virsh(uri, commands);
    assert!(
        out.ok,
        "virsh {commands} failed: {}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

/// Stock virsh on a read-only connection (`virsh -r -c URI COMMANDS`).
pub fn virsh_read_only(uri: &str, commands: &str) -> Output {
    shell_read_only("virsh", uri, commands)
}

/// rvirsh on a read-only connection (`rvirsh -r -c URI COMMANDS`).
pub fn rvirsh_read_only(uri: &str, commands: &str) -> Output {
    shell_read_only(crate::bins::rvirsh(), uri, commands)
}

fn shell_read_only(program: impl AsRef<OsStr>, uri: &str, commands: &str) -> Output {
    let name = program.as_ref().to_string_lossy().into_owned();
    let mut cmd = Command::new(program);
    cmd.arg("-r");
    with_shell_args(&mut cmd, uri, commands)
        .output()
        .unwrap_or_else(|e| panic!("run {name} -r: {e} (scripts/install-deps.sh installs virsh)"))
        .into()
}

/// Longer than any migration the tests run.
const VIRSH_MIGRATE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(90);

/// [`shell`], or `None` if it has not finished within `deadline` (then it
/// is killed).
fn shell_within(
    program: &str,
    uri: &str,
    commands: &str,
    deadline: std::time::Duration,
) -> Option<Output> {
    let dir = crate::dirs::TempDir::new("shell");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let file = |p: &std::path::Path| std::fs::File::create(p).expect("output file");
    let mut child = shell_command(program, uri, commands)
        .stdout(file(&out))
        .stderr(file(&err))
        .spawn()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let start = std::time::Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    Some(Output {
        stdout: read(&out),
        stderr: read(&err),
        ok: status.success(),
    })
}

/// Stock virt-admin (`virt-admin -c URI COMMANDS`).
pub fn virt_admin(uri: &str, commands: &str) -> Output {
    shell("virt-admin", uri, commands)
}

/// Whether stock virt-admin can be run at all.
pub fn have_virt_admin() -> bool {
    Command::new("virt-admin").arg("--version").output().is_ok()
}

/// This workspace's rvirsh.
pub fn rvirsh(uri: &str, commands: &str) -> Output {
    shell(crate::bins::rvirsh(), uri, commands)
}

/// The libvirt client logging settings (`LIBVIRT_DEBUG`,
/// `LIBVIRT_LOG_FILTERS`, `LIBVIRT_LOG_OUTPUTS`).
const LOG_SETTINGS: [&str; 3] = [
    "LIBVIRT_DEBUG",
    "LIBVIRT_LOG_FILTERS",
    "LIBVIRT_LOG_OUTPUTS",
];

/// [`rvirsh`] with exactly the logging settings of `logging` (any others
/// of [`LOG_SETTINGS`] in the test's environment removed).
pub fn rvirsh_logging(uri: &str, commands: &str, logging: &[(&str, &str)]) -> Output {
    let mut cmd = shell_command(crate::bins::rvirsh(), uri, commands);
    for k in LOG_SETTINGS {
        cmd.env_remove(k);
    }
    cmd.envs(logging.iter().copied())
        .output()
        .expect("run rvirsh")
        .into()
}

/// Whether stock virsh can be run at all.
pub fn have_virsh() -> bool {
    Command::new("virsh").arg("--version").output().is_ok()
}

/// `program -c URI COMMANDS` in the background (e.g. a migration the test
/// acts on meanwhile); collect it with [`wait`].
pub fn spawn_shell(program: impl AsRef<OsStr>, uri: &str, commands: &str) -> Child {
    shell_command(program, uri, commands)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shell")
}

/// Wait for a background run and collect its output.
pub fn wait(child: Child) -> Output {
    child.wait_with_output().expect("wait for child").into()
}

/// Whether python3-libvirt can be imported; says why not on stderr.
pub fn python_libvirt_ready() -> bool {
    let ok = Command::new(PYTHON3)
        .args(["-c", "import libvirt"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("python3-libvirt not installed (scripts/install-deps.sh): skipping");
    }
    ok
}

/// `/usr/bin/python3 ARGS...` (a script path and its arguments, or `-c CODE`).
pub fn python3<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(PYTHON3)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run /usr/bin/python3")
        .into()
}

/// A python3 run that must have succeeded with `last` as its last line;
/// else the test fails with what it printed and `context` (e.g. the
/// daemon's log).
pub fn assert_python_finished(out: &Output, last: &str, context: &str) {
    assert!(
        out.ok && out.stdout.ends_with(&format!("{last}\n")),
        "{}\n{}\n{context}",
        out.stdout,
        out.stderr
    );
}

/// How `actual` differs from `expected` (stdout, stderr, exit), if it
/// does: both sides are shown under their names, headed by `case`.
pub fn diff(case: &str, expected: (&str, &Output), actual: (&str, &Output)) -> Option<String> {
    let ((a_name, a), (b_name, b)) = (expected, actual);
    let mut d = Vec::new();
    let mut stream = |what: &str, x: &str, y: &str| {
        if x != y {
            d.push(format!("  {what}:\n--- {a_name}\n{x}\n--- {b_name}\n{y}"));
        }
    };
    stream("stdout", &a.stdout, &b.stdout);
    stream("stderr", &a.stderr, &b.stderr);
    if a.ok != b.ok {
        d.push(format!("  exit: {a_name} ok={} {b_name} ok={}", a.ok, b.ok));
    }
    (!d.is_empty()).then(|| format!("== {case}\n{}", d.join("\n")))
}

/// Where two transcripts differ line by line (libvirtd's `want`, rvirtd's
/// `got`), and whether one is longer; `None` when they are the same.
pub fn transcript_diff(want: &str, got: &str) -> Option<String> {
    let mut d: Vec<String> = want
        .lines()
        .zip(got.lines())
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("libvirtd: {w}\nrvirtd:   {g}"))
        .collect();
    let (nw, ng) = (want.lines().count(), got.lines().count());
    if nw != ng {
        d.push(format!("libvirtd: {nw} lines, rvirtd: {ng} lines"));
    }
    (!d.is_empty()).then(|| d.join("\n"))
}

/// The path of the python3-libvirt script `name` that the daemon's
/// tests share (crates/rvirtd/tests/python/).
pub fn python_script(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rvirtd/tests/python");
    dir.join(name).display().to_string()
}

/// python3-libvirt's `script` against a stock libvirtd at `reference`
/// (its transcript must end "DONE"), then against each of rvirtd's
/// `uris`: every transcript must be libvirtd's, line for line (`log`
/// gives rvirtd's log for the failure). libvirtd's transcript.
pub fn assert_python_transcripts_agree(
    script: &str,
    reference: &str,
    uris: &[String],
    log: &dyn Fn() -> String,
) -> String {
    let want = python3([script, reference]);
    assert!(
        want.ok && want.stdout.ends_with("DONE\n"),
        "libvirtd:\n{}\n{}",
        want.stdout,
        want.stderr
    );
    for uri in uris {
        let got = python3([script, uri.as_str()]);
        if let Some(d) = transcript_diff(&want.stdout, &got.stdout) {
            panic!(
                "{uri}:\n{d}\n--- rvirtd stdout:\n{}\n{}\n--- daemon log:\n{}",
                got.stdout,
                got.stderr,
                log()
            );
        }
    }
    want.stdout
}

/// Run `commands` through stock virsh and rvirsh against `uri`, normalise
/// both with `rules`, and describe any difference.
pub fn compare_shells(uri: &str, commands: &str, rules: &[Normalise]) -> Option<String> {
    let want = virsh(uri, commands).normalised(rules);
    let got = rvirsh(uri, commands).normalised(rules);
    diff(commands, ("virsh", &want), ("rvirsh", &got))
}

/// Every case of `cases` gives the same output through stock virsh and
/// rvirsh on `uri` (after `rules`); panics listing the cases that differ.
pub fn assert_shells_agree<S: AsRef<str>>(uri: &str, cases: &[S], rules: &[Normalise]) {
    let failures = differing_cases(cases, |c| compare_shells(uri, c, rules));
    assert_none_differ(&failures, cases.len(), "");
}

/// Stock virsh against `uri`, with `uri` masked in what it prints: one
/// daemon's side of a comparison.
pub fn virsh_on(uri: &str) -> impl Fn(&str) -> Output + '_ {
    virsh_on_with(uri, &[])
}

/// As [`virsh_on`], with `rules` applied too.
pub fn virsh_on_with<'a>(uri: &'a str, rules: &'a [Normalise]) -> impl Fn(&str) -> Output + 'a {
    move |c| {
        let mut all = rules.to_vec();
        all.push(Normalise::Uri(uri.to_string()));
        virsh(uri, c).normalised(&all)
    }
}

/// rvirsh against `uri`, with `uri` masked in what it prints.
pub fn rvirsh_on(uri: &str) -> impl Fn(&str) -> Output + '_ {
    move |c| rvirsh(uri, c).normalised(&[Normalise::Uri(uri.to_string())])
}

/// One side of a comparison: its name in a difference, and how it runs a
/// case (a tool, a URI, its normalisations).
pub type Side<'a> = (&'a str, &'a dyn Fn(&str) -> Output);

/// One case sequence run three ways, step by step: stock virsh on the
/// stock daemon (`want`), stock virsh on rvirtd (`got`) and rvirsh on
/// rvirtd (`own`). The [`diff`] of each step where rvirtd answers
/// otherwise than libvirtd, then of each where rvirsh prints otherwise
/// than virsh.
pub fn three_way_differences(
    want: &[(String, Output)],
    got: &[(String, Output)],
    own: &[(String, Output)],
) -> Vec<String> {
    let daemons = want
        .iter()
        .zip(got)
        .filter_map(|((case, w), (_, g))| diff(case, ("libvirtd", w), ("rvirtd", g)));
    let clients = want
        .iter()
        .zip(own)
        .filter_map(|((case, w), (_, g))| diff(case, ("virsh", w), ("rvirsh", g)));
    daemons.chain(clients).collect()
}

/// The [`diff`] of each case that `compare` finds differing.
pub fn differing_cases<S: AsRef<str>>(
    cases: &[S],
    compare: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    cases.iter().filter_map(|c| compare(c.as_ref())).collect()
}

/// Every case gives the same output on side `want` and side `got`; panics
/// listing those that differ, then `context` (e.g. a daemon's log).
pub fn assert_sides_agree<S: AsRef<str>>(cases: &[S], want: Side, got: Side, context: &str) {
    let failures = differing_cases(cases, |c| {
        diff(c, (want.0, &(want.1)(c)), (got.0, &(got.1)(c)))
    });
    assert_none_differ(&failures, cases.len(), context);
}

/// One domain document of a define/dump comparison: its name, its XML,
/// and whether to start it too.
pub struct DefineCase {
    pub name: String,
    pub xml: String,
    pub start: bool,
}

/// Each case through stock virsh and rvirsh on `test:///default`, in one
/// shell each: define, dumpxml, (start, dumpxml,) dumpxml --inactive. The
/// cases that differ; the documents live in a temporary directory.
pub fn compare_definitions(tag: &str, cases: &[DefineCase]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("rvirsh-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut failures = Vec::new();
    for c in cases {
        let path = dir.join(format!("{}.xml", c.name));
        std::fs::write(&path, &c.xml).expect("write the document");
        let name = &c.name;
        let start = match c.start {
            true => format!("start {name}; dumpxml {name}; "),
            false => String::new(),
        };
        let commands = format!(
            "define {}; dumpxml {name}; {start}dumpxml --inactive {name}",
            path.display()
        );
        failures.extend(compare_shells(
            "test:///default",
            &commands,
            &[Normalise::CpuTime],
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    failures
}

/// Panics if any of `total` cases differed: lists `failures` (one [`diff`]
/// each), then `context` (e.g. a daemon's log).
pub fn assert_none_differ(failures: &[String], total: usize, context: &str) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ:\n{}{context}",
        failures.len(),
        failures.join("\n")
    );
}

/// The `*-edit` commands with `$EDITOR` scripts: for each `(name, body)`
/// of `editors`, a shell script running `body` on the file (`$1`) is
/// written to `dir`, and `commands` on test:///default print the same
/// through stock virsh and rvirsh with it as the editor (both normalised
/// with `rules`).
pub fn assert_editors_agree(
    dir: &std::path::Path,
    editors: &[(&str, &str)],
    commands: &str,
    rules: &[Normalise],
) {
    use std::os::unix::fs::PermissionsExt;
    let mut failures = Vec::new();
    for (name, body) in editors {
        let script = dir.join(format!("ed-{name}.sh"));
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).expect("editor script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .expect("editor script mode");
        let run = |program: std::path::PathBuf| -> Output {
            shell_command(program, "test:///default", commands)
                .env("EDITOR", &script)
                .env_remove("VISUAL")
                .output()
                .expect("run the shell")
                .into()
        };
        let want = run("virsh".into()).normalised(rules);
        let got = run(crate::bins::rvirsh()).normalised(rules);
        failures.extend(diff(
            &format!("EDITOR={name}: {commands}"),
            ("virsh", &want),
            ("rvirsh", &got),
        ));
    }
    assert_none_differ(&failures, editors.len(), "");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_times_keep_their_width() {
        let text = " s1     2026-12-04 10:53:44 +0000   running\n\
                    <creationTime>1796381624</creationTime>\n\
                    Domain snapshot 1796381624 created\nid 12345678901 stays\n";
        assert_eq!(
            normalise(text, &[Normalise::SnapshotTime]),
            " s1     <snaptime>                  running\n\
             <creationTime><epoch>   </creationTime>\n\
             Domain snapshot <epoch>    created\nid 12345678901 stays\n"
        );
    }

    #[test]
    fn storage_rules_blank_times_and_file_system_figures_only() {
        let text = "  <capacity unit='bytes'>52613349376</capacity>\n\
                    <capacity unit='bytes'>4194304</capacity>\n\
                    <atime>1796381624.123456789</atime>\n<btime>0</btime>\n";
        let rules = [Normalise::LargeBytes, Normalise::XmlText("atime")];
        assert_eq!(
            normalise(text, &rules),
            "  <capacity unit='bytes'><bytes></capacity>\n\
             <capacity unit='bytes'>4194304</capacity>\n<atime>..</atime>\n<btime>0</btime>\n"
        );
    }

    #[test]
    fn cpu_time_keeps_its_label_and_padding() {
        let text = "Name:           test\nCPU time:       1234.5s\n";
        assert_eq!(
            normalise(text, &[Normalise::CpuTime]),
            "Name:           test\nCPU time:       <clock>\n"
        );
    }

    #[test]
    fn uri_and_uuid_rules_compose() {
        let text = "test+tcp://127.0.0.1:4000/default 6695eb01-f6a4-8304-79aa-97f2502e193f";
        let rules = [
            Normalise::Uri("test+tcp://127.0.0.1:4000/default".into()),
            Normalise::Uuid,
        ];
        assert_eq!(normalise(text, &rules), "<uri> <uuid>");
        assert_eq!(
            normalise("x6695eb01-f6a4-8304-79aa-97f2502e193f", &rules[1..]),
            "x6695eb01-f6a4-8304-79aa-97f2502e193f"
        );
    }

    #[test]
    fn virt_admin_rules_blank_times_fields_and_ids() {
        let text = " 12   unix        2026-12-03 08:21:12+0000\n\
                    unix_process_id: 4221\nreadonly       : no\n";
        let rules = [
            Normalise::Timestamp,
            Normalise::Field("unix_process_id"),
            Normalise::RowId,
        ];
        assert_eq!(
            normalise(text, &rules),
            " <id>   unix        <time>\nunix_process_id: <unix_process_id>\nreadonly       : no\n"
        );
        assert_eq!(normalise(" Id   Name", &rules), " Id   Name");
    }

    #[test]
    fn diff_names_each_differing_stream() {
        let a = Output {
            stdout: "same".into(),
            stderr: "a".into(),
            ok: true,
        };
        let b = Output {
            stdout: "same".into(),
            stderr: "b".into(),
            ok: false,
        };
        let d = diff("case", ("virsh", &a), ("rvirsh", &b)).expect("differs");
        assert!(
            d.starts_with("== case\n  stderr:\n--- virsh\na\n--- rvirsh\nb"),
            "{d}"
        );
        assert!(d.ends_with("exit: virsh ok=true rvirsh ok=false"), "{d}");
        assert_eq!(diff("case", ("x", &a), ("y", &a)), None);
    }
}
