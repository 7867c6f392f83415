//! `rvirsh help ...`, `rvirsh COMMAND --help` and `rvirsh --help` against
//! stock virsh 9.0 (`virsh -c test:///default`), byte for byte.
//!
//! Deliberate differences, each removed from virsh's text before comparing:
//! - options rvirsh does not carry (NOT_CARRIED below): rvirsh's help is
//!   built from the option table its parser binds with, so it lists only
//!   what rvirsh accepts;
//! - the grouped lists mark the commands rvirsh does not carry;
//! - `--help` lists only rvirsh's own options (-c, -h, -q, -r, and -v /
//!   --version as one line: rvirsh has no -d/-e/-k/-K/-l/-t/-V nor
//!   --version=TYPE), and names the program as run (virsh's progname).

use rvirt_testkit::tools::{diff, rvirsh, virsh};
use std::process::Command;

/// Options of virsh's commands that rvirsh does not carry.
const NOT_CARRIED: &[(&str, &[&str])] = &[
    ("list", &["id"]),
    (
        "undefine",
        &[
            "storage",
            "remove-all-storage",
            "delete-storage-volume-snapshots",
            "wipe-storage",
        ],
    ),
    (
        "create",
        &["console", "autodestroy", "pass-fds", "reset-nvram"],
    ),
    (
        "start",
        &[
            "console",
            "autodestroy",
            "bypass-cache",
            "pass-fds",
            "reset-nvram",
        ],
    ),
    ("destroy", &["remove-logs"]),
    // virDomainSetMemoryStatsPeriod is not in rvirt's API.
    ("dommemstat", &["period"]),
    // virDomainQemuMonitorCommandWithFiles is not in rvirt's API.
    ("qemu-monitor-command", &["pass-fds"]),
];

fn not_carried(cmd: &str) -> &'static [&'static str] {
    NOT_CARRIED
        .iter()
        .find(|(c, _)| *c == cmd)
        .map_or(&[], |(_, o)| o)
}

/// virsh's help for `cmd` without the options rvirsh does not carry.
fn without_options(text: &str, opts: &[&str]) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let dropped = opts.iter().any(|o| {
            line.starts_with(&format!("    --{o} ")) || line.starts_with(&format!("    --{o}\n"))
        });
        if dropped {
            continue;
        }
        let mut l = line.to_string();
        for o in opts {
            for form in [
                format!(" [--{o}]"),
                format!(" [--{o} <string>]"),
                format!(" [--{o} <number>]"),
            ] {
                // Whole tokens only: --console is not --console-x.
                for end in [" ", "\n"] {
                    l = l.replace(&format!("{form}{end}"), end);
                }
            }
        }
        out.push_str(&l);
    }
    out
}

fn carried(name: &str) -> bool {
    rvirsh::commands::find(name).is_some()
}

/// A grouped list from virsh (`help`, `help GROUP`, `--help`) with the
/// commands rvirsh does not carry marked as rvirsh marks them: every group
/// and every virsh command is listed.
fn mark_uncarried_commands(text: &str) -> String {
    let mark = rvirsh::commands::help::NOT_CARRIED_MARK;
    let mut out = String::new();
    let mut in_group = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with(' ') && line.contains("(help keyword '") {
            in_group = true;
        } else if line == "\n" {
            in_group = false;
        }
        let cmd = line
            .strip_prefix("    ")
            .and_then(|l| l.split(' ').next())
            .filter(|c| !c.is_empty());
        match cmd {
            Some(c) if in_group && !carried(c) => {
                out.push_str(line.trim_end_matches('\n'));
                out.push_str(mark);
                out.push('\n');
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// rvirsh's output against virsh's with `expect` applied to virsh's stdout
/// (the help rvirsh gives is virsh's, less what it does not carry).
fn check(commands: &str, expect: impl Fn(&str) -> String) -> Option<String> {
    let mut want = virsh("test:///default", commands);
    want.stdout = expect(&want.stdout);
    let got = rvirsh("test:///default", commands);
    diff(commands, ("virsh", &want), ("rvirsh", &got))
}

#[test]
fn help_for_every_carried_command_matches_virsh() {
    let mut failures = Vec::new();
    let names: Vec<&str> = rvirsh::commands::all().map(|c| c.name).collect();
    assert!(names.len() >= 31, "{names:?}");
    for name in &names {
        let opts = not_carried(name);
        for form in [format!("help {name}"), format!("{name} --help")] {
            failures.extend(check(&form, |t| without_options(t, opts)));
        }
    }
    // --help wins over the rest of the line, as in virsh.
    failures.extend(check("migrate --live --help --p2p", |t| t.to_string()));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn grouped_lists_match_virsh_with_uncarried_commands_marked() {
    let mut cases = vec!["help".to_string(), "help ''".into()];
    for g in rvirsh::commands::help::GROUPS {
        cases.push(format!("help {}", g.keyword));
        cases.push(format!("help '{}'", g.name));
    }
    cases.push("help nosuch".into());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check(c, mark_uncarried_commands))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A virsh command rvirsh does not carry is named, with the API rvirt
    // lacks for it, by `help` and when run.
    for line in ["help attach-device", "attach-device test x.xml"] {
        let o = rvirsh("test:///default", line);
        assert!(!o.ok);
        assert_eq!(
            o.stderr,
            "error: command 'attach-device' is not carried by rvirsh: \
             rvirt has no virDomainAttachDeviceFlags\n"
        );
    }
    // -q drops the blank line after the command, as in virsh.
    let want = Command::new("virsh")
        .args(["-q", "-c", "test:///default", "help uri"])
        .output()
        .unwrap();
    let got = Command::new(env!("CARGO_BIN_EXE_rvirsh"))
        .args(["-q", "help uri"])
        .output()
        .unwrap();
    assert_eq!(got.stdout, want.stdout);
}

/// virsh's usage reduced to rvirsh's options, named as rvirsh.
fn expected_usage(virsh_usage: &str) -> String {
    let mut out = String::new();
    let mut skipping_continuation = false;
    for line in virsh_usage.split_inclusive('\n') {
        let opt = line.trim_start();
        let is_option = line.starts_with("    -") || line.starts_with("         --");
        if skipping_continuation && line.starts_with("                            ") {
            continue;
        }
        skipping_continuation = false;
        if is_option {
            if ["-c |", "-h |", "-q |", "-r |"]
                .iter()
                .any(|p| opt.starts_with(p))
            {
                out.push_str(line);
            } else if opt.starts_with("-v ") {
                out.push_str("    -v | --version          short version\n");
            } else {
                skipping_continuation = true;
            }
            continue;
        }
        out.push_str(&line.replace("virsh [options]", "rvirsh [options]"));
    }
    mark_uncarried_commands(&out)
}

#[test]
fn usage_matches_virsh_for_what_rvirsh_takes() {
    let want = Command::new("virsh").arg("--help").output().unwrap();
    let got = Command::new(env!("CARGO_BIN_EXE_rvirsh"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(want.status.success() && got.status.success());
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        expected_usage(&String::from_utf8_lossy(&want.stdout))
    );
    // Help needs no connection: the default URI is opened only when a
    // command needs it.
    let o = Command::new(env!("CARGO_BIN_EXE_rvirsh"))
        .args(["help", "domstate"])
        .env("LIBVIRT_DEFAULT_URI", "nosuch:///x")
        .env_remove("VIRSH_DEFAULT_CONNECT_URI")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("  NAME\n    domstate - domain state\n"));
    // A URI named with -c must open first, as in virsh.
    let run = |program: &str| {
        Command::new(program)
            .args(["-c", "nosuch:///x", "help", "domstate"])
            .output()
            .unwrap()
    };
    let (want, got) = (run("virsh"), run(env!("CARGO_BIN_EXE_rvirsh")));
    assert!(!got.status.success());
    assert_eq!(got.stderr, want.stderr);
}
