//! The shell's own commands (virsh.c's cmdConnect, vsh.c's cmdCd, cmdPwd
//! and cmdQuit): `connect`, `cd`, `pwd`, `exit`, `quit`. rvirsh has no
//! interactive mode, so `cd` always answers as virsh does outside one;
//! `quit`/`exit` end the command string (see `main`'s run loop).

use super::{about, cmd, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};

const fn shell_cmd(
    name: &'static str,
    info: super::Info,
    opts: &'static [super::OptDef],
    handler: super::Handler,
) -> CommandDef {
    CommandDef {
        no_connect: true,
        ..cmd(name, info, opts, handler)
    }
}

pub static COMMANDS: &[CommandDef] = &[
    shell_cmd(
        "cd",
        about(
            "change the current directory",
            "Change the current directory.",
        ),
        &[string(
            "dir",
            "directory to switch to (default: home or else root)",
        )],
        cd,
    ),
    shell_cmd(
        "exit",
        about("quit this interactive terminal", ""),
        &[],
        quit,
    ),
    shell_cmd(
        "pwd",
        about(
            "print the current directory",
            "Print the current directory.",
        ),
        &[],
        pwd,
    ),
    shell_cmd(
        "quit",
        about("quit this interactive terminal", ""),
        &[],
        quit,
    ),
    shell_cmd(
        "connect",
        about(
            "(re)connect to hypervisor",
            "Connect to local hypervisor. This is built-in command after shell start up.",
        ),
        &[
            string("name", "hypervisor connection URI"),
            flag("readonly", "read-only connection"),
        ],
        connect,
    ),
];

fn cd(_ctl: &mut Ctl, _c: &ParsedCommand) -> CmdResult {
    Err(CmdError::msg("cd: command valid only in interactive mode"))
}

fn pwd(ctl: &mut Ctl, _c: &ParsedCommand) -> CmdResult {
    let cwd = std::env::current_dir().map_err(|e| CmdError::msg(e.to_string()))?;
    ctl.print(&format!("{}\n", cwd.display()));
    Ok(())
}

fn quit(_ctl: &mut Ctl, _c: &ParsedCommand) -> CmdResult {
    Ok(())
}

/// cmdConnect: the errors are virshReconnect's, already printed.
fn connect(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    if ctl.reconnect(c.get("name"), c.has("readonly")) {
        Ok(())
    } else {
        Err(CmdError::default())
    }
}
