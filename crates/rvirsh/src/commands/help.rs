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

/// One of virsh's command groups, with the commands rvirsh carries from
/// it, in virsh's order.
pub struct Group {
    pub name: &'static str,
    pub keyword: &'static str,
    pub commands: &'static [&'static str],
}

pub static GROUPS: &[Group] = &[
    Group {
        name: "Domain Management",
        keyword: "domain",
        commands: &[
            "autostart",
            "blkiotune",
            "console",
            "create",
            "define",
            "destroy",
            "domhostname",
            "domid",
            "domjobabort",
            "domjobinfo",
            "domname",
            "domuuid",
            "domxml-to-native",
            "dumpxml",
            "memtune",
            "migrate",
            "migrate-setmaxdowntime",
            "migrate-getmaxdowntime",
            "migrate-setspeed",
            "migrate-getspeed",
            "migrate-postcopy",
            "numatune",
            "reboot",
            "reset",
            "resume",
            "schedinfo",
            "setmem",
            "setvcpus",
            "shutdown",
            "start",
            "suspend",
            "undefine",
            "vcpucount",
            "vcpupin",
            "emulatorpin",
        ],
    },
    Group {
        name: "Domain Monitoring",
        keyword: "monitor",
        commands: &[
            "domblklist",
            "domiflist",
            "dominfo",
            "dommemstat",
            "domstate",
            "domstats",
            "list",
        ],
    },
    Group {
        name: "Host and Hypervisor",
        keyword: "host",
        commands: &[
            "capabilities",
            "domcapabilities",
            "hostname",
            "nodeinfo",
            "uri",
            "version",
        ],
    },
    Group {
        name: "Interface",
        keyword: "interface",
        commands: &[
            "iface-begin",
            "iface-commit",
            "iface-define",
            "iface-destroy",
            "iface-dumpxml",
            "iface-list",
            "iface-mac",
            "iface-name",
            "iface-rollback",
            "iface-start",
            "iface-undefine",
        ],
    },
    Group {
        name: "Network Filter",
        keyword: "filter",
        commands: &[
            "nwfilter-define",
            "nwfilter-dumpxml",
            "nwfilter-list",
            "nwfilter-undefine",
        ],
    },
    Group {
        name: "Networking",
        keyword: "network",
        commands: &[
            "net-autostart",
            "net-create",
            "net-define",
            "net-destroy",
            "net-dhcp-leases",
            "net-dumpxml",
            "net-edit",
            "net-event",
            "net-info",
            "net-list",
            "net-name",
            "net-start",
            "net-undefine",
            "net-update",
            "net-uuid",
        ],
    },
    Group {
        name: "Node Device",
        keyword: "nodedev",
        commands: &[
            "nodedev-create",
            "nodedev-destroy",
            "nodedev-dumpxml",
            "nodedev-list",
            "nodedev-event",
            "nodedev-info",
        ],
    },
    Group {
        name: "Secret",
        keyword: "secret",
        commands: &[
            "secret-define",
            "secret-dumpxml",
            "secret-event",
            "secret-get-value",
            "secret-list",
            "secret-set-value",
            "secret-undefine",
        ],
    },
    Group {
        name: "Snapshot",
        keyword: "snapshot",
        commands: &[
            "snapshot-create",
            "snapshot-create-as",
            "snapshot-current",
            "snapshot-delete",
            "snapshot-dumpxml",
            "snapshot-edit",
            "snapshot-info",
            "snapshot-list",
            "snapshot-parent",
            "snapshot-revert",
        ],
    },
    Group {
        name: "Storage Pool",
        keyword: "pool",
        commands: &[
            "find-storage-pool-sources-as",
            "find-storage-pool-sources",
            "pool-autostart",
            "pool-build",
            "pool-create-as",
            "pool-create",
            "pool-define-as",
            "pool-define",
            "pool-delete",
            "pool-destroy",
            "pool-dumpxml",
            "pool-edit",
            "pool-info",
            "pool-list",
            "pool-name",
            "pool-refresh",
            "pool-start",
            "pool-undefine",
            "pool-uuid",
            "pool-capabilities",
        ],
    },
    Group {
        name: "Storage Volume",
        keyword: "volume",
        commands: &[
            "vol-clone",
            "vol-create-as",
            "vol-create",
            "vol-create-from",
            "vol-delete",
            "vol-download",
            "vol-dumpxml",
            "vol-info",
            "vol-key",
            "vol-list",
            "vol-name",
            "vol-path",
            "vol-pool",
            "vol-resize",
            "vol-upload",
            "vol-wipe",
        ],
    },
    Group {
        name: "Virsh itself",
        keyword: "virsh",
        commands: &["echo", "help"],
    },
];

/// vshCmdGrpSearch: by keyword or by name.
pub fn find_group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.keyword == name || g.name == name)
}

fn group_commands(g: &Group) -> impl Iterator<Item = &'static CommandDef> + '_ {
    g.commands.iter().filter_map(|name| super::find(name))
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

fn command_lines(g: &Group) -> String {
    group_commands(g)
        .map(|c| format!("    {:<30} {}\n", c.name, c.info.help))
        .collect()
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
        for def in super::super::all() {
            let n = GROUPS
                .iter()
                .filter(|g| g.commands.contains(&def.name))
                .count();
            assert_eq!(n, 1, "{} is in {n} groups", def.name);
        }
        for g in GROUPS {
            for name in g.commands {
                assert!(super::super::find(name).is_some(), "{name} not carried");
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
