//! `help` and `--help` with virsh 9.0's layout (cmdHelp, vshCmddefHelp,
//! vshCmdGrpHelp, virshUsage). Everything printed about a command comes
//! from the table the parser binds with: its name, info and options.

use super::{about, cmd, string, CommandDef, OptKind};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};

pub static COMMANDS: &[CommandDef] = &[CommandDef {
    no_connect: true,
    ..cmd(
        "help",
        about(
            "print help",
            "Prints global help, command specific help, or help for a\n    group of related commands",
        ),
        &[string(
            "command",
            "Prints global help, command specific help, or help for a group of related commands",
        )],
        help,
    )
}];

pub use super::groups::{Group, GROUPS};

/// vshCmdGrpSearch: by keyword or by name.
pub fn find_group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.keyword == name || g.name == name)
}

/// vshCmddefHelp.
pub fn command_help(def: &CommandDef) -> String {
    let mut out = format!(
        "  NAME\n    {} - {}\n\n  SYNOPSIS\n    {}",
        def.name, def.info.help, def.name
    );
    let mut shortopt = false;
    for o in def.opts {
        let n = o.name;
        out.push(' ');
        out.push_str(&match (o.kind, o.required) {
            (OptKind::Bool, _) => format!("[--{n}]"),
            (OptKind::Int | OptKind::NamedInt | OptKind::Data, true) => format!("<{n}>"),
            (OptKind::Int | OptKind::NamedInt, false) => format!("[--{n} <number>]"),
            (OptKind::String | OptKind::NamedString, _) => format!("[--{n} <string>]"),
            (OptKind::Data, false) => format!("[<{n}>]"),
            // "[[--N] <string>]..." once an earlier option can be given
            // by position (virsh's `shortopt`).
            (OptKind::Argv, true) if shortopt => format!("{{[--{n}] <string>}}..."),
            (OptKind::Argv, true) => format!("<{n}>..."),
            (OptKind::Argv, _) if shortopt => format!("[[--{n}] <string>]..."),
            (OptKind::Argv, _) => format!("[<{n}>]..."),
        });
        shortopt |= matches!(o.kind, OptKind::Int | OptKind::String | OptKind::Data);
    }
    out.push('\n');
    if !def.info.desc.is_empty() {
        out.push_str(&format!("\n  DESCRIPTION\n    {}\n", def.info.desc));
    }
    if !def.opts.is_empty() {
        out.push_str("\n  OPTIONS\n");
        for o in def.opts {
            let n = o.name;
            let left = match (o.kind, o.required) {
                (OptKind::Bool, _) => format!("--{n}"),
                (OptKind::Int | OptKind::NamedInt, true) => format!("[--{n}] <number>"),
                (OptKind::Int | OptKind::NamedInt, false) => format!("--{n} <number>"),
                (OptKind::String | OptKind::NamedString, _) => format!("--{n} <string>"),
                (OptKind::Data, _) => format!("[--{n}] <string>"),
                (OptKind::Argv, _) if shortopt => format!("[--{n}] <string>"),
                (OptKind::Argv, _) => format!("<{n}>"),
            };
            out.push_str(&format!("    {left:<15}  {}\n", o.help));
        }
    }
    out.push('\n');
    out
}

/// What a grouped list adds to the help line of a command rvirsh does not
/// carry.
pub const NOT_CARRIED_MARK: &str = " [not carried by rvirsh]";

/// A group's command lines: virsh's, with the commands rvirsh does not
/// carry marked.
fn command_lines(g: &Group) -> String {
    let line = |name: &str| match (super::find(name), not_carried(name)) {
        (Some(c), _) => format!("    {:<30} {}\n", c.name, c.info.help),
        (None, Some((_, help, _))) => format!("    {name:<30} {help}{NOT_CARRIED_MARK}\n"),
        (None, None) => String::new(),
    };
    g.commands.iter().map(|name| line(name)).collect()
}

/// A virsh command rvirsh does not carry: its name, help line and the
/// libvirt API rvirt lacks for it.
pub fn not_carried(
    name: &str,
) -> Option<&'static (&'static str, &'static str, Option<&'static str>)> {
    super::not_carried::NOT_CARRIED
        .iter()
        .find(|(n, _, _)| *n == name)
}

/// What rvirsh says when asked to run or explain a virsh command it does
/// not carry, or `None` if `name` is not a virsh command.
pub fn not_carried_error(name: &str) -> Option<String> {
    not_carried(name).map(|(n, _, api)| match api {
        Some(api) => format!("command '{n}' is not carried by rvirsh: rvirt has no {api}"),
        None => format!("command '{n}' is not carried by rvirsh yet"),
    })
}

/// vshCmdGrpHelp.
pub fn group_help(g: &Group) -> String {
    format!(
        " {} (help keyword '{}'):\n{}",
        g.name,
        g.keyword,
        command_lines(g)
    )
}

/// `help` without a command: every group.
pub fn grouped_list() -> String {
    let mut out = String::from("Grouped commands:\n\n");
    for g in GROUPS {
        out.push_str(&group_help(g));
        out.push('\n');
    }
    out
}

/// virshUsage, for `rvirsh --help`: the options rvirsh takes, then the
/// groups.
pub fn usage(progname: &str) -> String {
    let mut out = format!(
        "\n{progname} [options]... [<command_string>]\n\
         {progname} [options]... <command> [args...]\n\n  \
         options:\n    \
         -c | --connect=URI      hypervisor connection URI\n    \
         -h | --help             this help\n    \
         -q | --quiet            quiet mode\n    \
         -r | --readonly         connect readonly\n    \
         -v | --version          short version\n  \
         commands (non interactive mode):\n\n"
    );
    for g in GROUPS {
        out.push_str(&format!(
            " {} (help keyword '{}')\n{}\n",
            g.name,
            g.keyword,
            command_lines(g)
        ));
    }
    out.push_str("\n  (specify help <group> for details about the commands in the group)\n");
    out.push_str("\n  (specify help <command> for details about the command)\n\n");
    out
}

/// cmdHelp: a command first, then a group; no (or an empty) name lists
/// every group.
fn help(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let text = match c.get("command").filter(|n| !n.is_empty()) {
        None => grouped_list(),
        Some(name) => match (super::find(name), find_group(name)) {
            (Some(def), _) => command_help(def),
            (None, Some(g)) => group_help(g),
            (None, None) if not_carried(name).is_some() => {
                return Err(CmdError::msg(not_carried_error(name).unwrap_or_default()))
            }
            (None, None) => {
                return Err(CmdError::msg(format!(
                    "command or command group '{name}' doesn't exist"
                )))
            }
        },
    };
    ctl.print(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_exactly_one_group() {
        for (name, _, _) in super::super::not_carried::NOT_CARRIED {
            assert!(super::super::find(name).is_none(), "{name} carried");
            let n = GROUPS.iter().filter(|g| g.commands.contains(name)).count();
            assert_eq!(n, 1, "{name} is in {n} groups");
        }
        for def in super::super::all() {
            let n = GROUPS
                .iter()
                .filter(|g| g.commands.contains(&def.name))
                .count();
            assert_eq!(n, 1, "{} is in {n} groups", def.name);
        }
        for g in GROUPS {
            for name in g.commands {
                let known = super::super::find(name).is_some() || not_carried(name).is_some();
                assert!(known, "{name} neither carried nor listed as not carried");
            }
        }
    }

    #[test]
    fn synopsis_and_options_follow_the_option_kinds() {
        let def = super::super::find("migrate-setspeed").unwrap();
        let text = command_help(def);
        assert!(text.contains("    migrate-setspeed <domain> <bandwidth> [--postcopy]\n"));
        assert!(text.contains("    [--bandwidth] <number>  migration bandwidth limit in MiB/s\n"));
        assert!(text.contains("    --postcopy       set post-copy migration bandwidth\n"));
    }
}
