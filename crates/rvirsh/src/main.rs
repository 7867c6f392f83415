//! rvirsh: virsh's commands, syntax and output on rvirt.
//!
//! `rvirsh [-c URI] [-r] [-q] COMMAND_STRING...` runs the commands and exits
//! with the last one's status, as virsh does; errors go to stderr as
//! `error: ...` lines.

use rvirsh::{commands, parse, shell::Ctl};
use std::process::ExitCode;

struct Args {
    uri: Option<String>,
    read_only: bool,
    quiet: bool,
    command: Vec<String>,
}

const USAGE: &str = "Usage: rvirsh [-c URI] [-r] [-q] [COMMAND_STRING | COMMAND [ARGS...]]";

/// virsh's own option letters (a subset: -c/--connect, -r/--readonly,
/// -q/--quiet, -h/--help, -v/--version); everything after the first
/// non-option is the command.
fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        uri: None,
        read_only: false,
        quiet: false,
        command: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-c" | "--connect" => {
                args.uri = Some(it.next().ok_or("option requires an argument -- 'c'")?)
            }
            s if s.starts_with("--connect=") => args.uri = Some(s["--connect=".len()..].into()),
            "-r" | "--readonly" => args.read_only = true,
            "-q" | "--quiet" => args.quiet = true,
            "-h" | "--help" => {
                print!("{}", commands::help::usage(&progname()));
                std::process::exit(0);
            }
            "-v" | "--version" => {
                println!("9.0.0");
                std::process::exit(0);
            }
            s if s.starts_with('-') && s.len() > 1 && args.command.is_empty() => {
                return Err(format!("unsupported option '{s}'. See --help."))
            }
            _ => {
                args.command.push(arg);
                args.command.extend(it.by_ref());
            }
        }
    }
    Ok(args)
}

/// The name this program was run as (virsh's progname).
fn progname() -> String {
    std::env::args()
        .next()
        .map(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map_or(a.clone(), |f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "rvirsh".into())
}

fn main() -> ExitCode {
    // The client library's logging, as libvirt's virInitialize sets it up
    // from LIBVIRT_DEBUG / LIBVIRT_LOG_FILTERS / LIBVIRT_LOG_OUTPUTS.
    match rvirt_util::logging::LogSettings::for_client().and_then(|s| s.install()) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: Failed to initialize libvirt: {e}");
            return ExitCode::FAILURE;
        }
    }
    rvirt_driver_test::register();
    rvirt_driver_remote::register();
    rvirsh::auth::install();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let commands = if args.command.len() == 1 {
        match parse::tokenize(&args.command[0]) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        vec![args.command.clone()]
    };
    if commands.is_empty() {
        eprintln!("error: interactive mode is not supported; give a command. {USAGE}");
        return ExitCode::FAILURE;
    }
    let uri = args.uri.or_else(|| {
        std::env::var("VIRSH_DEFAULT_CONNECT_URI")
            .ok()
            .filter(|u| !u.is_empty())
    });
    let mut ctl = Ctl::new(uri, args.read_only, args.quiet);
    if run(&mut ctl, &commands) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Parse every command first (virsh rejects the whole line on a syntax
/// error), then run them in order; the result is the last command's.
fn run(ctl: &mut Ctl, commands: &[Vec<String>]) -> bool {
    let mut parsed = Vec::new();
    for tokens in commands {
        let Some(def) = commands::find(&tokens[0]) else {
            match commands::help::not_carried_error(&tokens[0]) {
                Some(e) => eprintln!("error: {e}"),
                None => eprintln!("error: unknown command: '{}'", tokens[0]),
            }
            return false;
        };
        match parse::bind(def, &tokens[1..]) {
            Ok(p) => parsed.push(p),
            Err(e) => {
                eprintln!("error: {e}");
                return false;
            }
        }
    }
    // A URI named with -c (or VIRSH_DEFAULT_CONNECT_URI) must open before
    // anything runs; the default one opens when a command first needs it.
    if ctl.uri.is_some() && !ctl.connect() {
        return false;
    }
    let mut ok = true;
    for cmd in &parsed {
        ok = (!cmd.def.needs_connection() || ctl.connect())
            && match (cmd.def.handler)(ctl, cmd) {
                Ok(()) => true,
                Err(e) => {
                    if let Some(own) = &e.own {
                        eprintln!("error: {own}");
                    }
                    if let Some(err) = &e.libvirt {
                        eprintln!("error: {}", err.message);
                    }
                    false
                }
            };
        // `quit` and `exit` end the command string (vshCommandRun).
        if matches!(cmd.def.name, "quit" | "exit") {
            return ok;
        }
        // virsh follows every command with a blank line unless quiet.
        ctl.print_extra("\n");
    }
    ok
}
