//! `echo` (vsh.c's cmdEcho): its arguments back, joined by spaces, as they
//! are or escaped for a shell or XML, or split at commas; to stderr as an
//! error with `--err`. libvirt's own tests script virsh with it.

use super::opts::exclusive;
use super::{about, argv, cmd, flag, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdResult, Ctl};

pub static COMMANDS: &[CommandDef] = &[CommandDef {
    no_connect: true,
    ..cmd(
        "echo",
        about(
            "echo arguments. Used for internal testing.",
            "Echo back arguments, possibly with quoting. Used for internal testing.",
        ),
        &[
            flag("shell", "escape for shell use"),
            flag("xml", "escape for XML use"),
            flag(
                "split",
                "split each argument on ','; ',,' is an escape sequence",
            ),
            flag("err", "output to stderr"),
            argv("string", "arguments to echo"),
        ],
        echo,
    )
}];

/// virBufferEscapeShell: quoted only when it holds a shell metacharacter.
fn escape_shell(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if !s
        .chars()
        .any(|c| "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn echo(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "shell", "xml")?;
    exclusive(c, "shell", "split")?;
    exclusive(c, "xml", "split")?;
    let parts: Vec<String> = c
        .argv
        .iter()
        .map(|a| {
            if c.has("xml") {
                rvirt_conf::xml::escape(a)
            } else if c.has("shell") {
                escape_shell(a)
            } else if c.has("split") {
                super::opts::string_to_array(a)
                    .iter()
                    .map(|p| format!("{p}\n"))
                    .collect()
            } else {
                a.clone()
            }
        })
        .collect();
    let text = parts.join(" ");
    let text = text.trim_end_matches(' ');
    if c.argv.is_empty() {
        return Ok(());
    }
    if c.has("err") {
        eprintln!("error: {text}");
    } else {
        ctl.print(text);
    }
    Ok(())
}
