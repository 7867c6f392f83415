//! `qemu-monitor-command` (virsh-domain.c's cmdQemuMonitorCommand): a QMP
//! command as given, or wrapped into `{"execute":NAME,"arguments":{...}}`
//! (cmdQemuMonitorCommandQMPWrap), or an HMP line with `--hmp`; the reply
//! raw, pretty-printed, or only its `return` member, in the layout of
//! libvirt's JSON formatter (yajl, two-space indent when pretty).
//! `--pass-fds` is not carried: rvirt has no
//! virDomainQemuMonitorCommandWithFiles.

use super::opts::exclusive;
use super::snapshot::domain;
use super::{about, argv, cmd, data, flag, CommandDef, OptDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use serde_json::Value;

/// `VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP`.
const HMP: u32 = 1;

pub static COMMANDS: &[CommandDef] = &[cmd(
    "qemu-monitor-command",
    about("QEMU Monitor Command", "QEMU Monitor Command"),
    &[
        data("domain", "domain name, id or uuid"),
        flag("hmp", "command is in human monitor protocol"),
        flag("pretty", "pretty-print any qemu monitor protocol output"),
        flag(
            "return-value",
            "extract the value of the 'return' key from the returned string",
        ),
        OptDef {
            required: true,
            ..argv("cmd", "command")
        },
    ],
    qemu_monitor_command,
)];

/// virJSONValueFromString, for an object only.
fn object(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
}

/// cmdQemuMonitorCommandQMPWrap.
fn qmp_wrap(words: &[String]) -> Result<String, CmdError> {
    let full = words.join(" ");
    if object(&full).is_some() {
        return Ok(full);
    }
    let name = words.first().cloned().unwrap_or_default();
    let rest = &words[words.len().min(1)..];
    let arguments = if rest.is_empty() {
        None
    } else if let Some(obj) = object(&rest.join(" ")) {
        Some(obj)
    } else {
        let wrapped = format!("{{{}}}", rest.join(","));
        Some(
            serde_json::from_str::<Value>(&wrapped)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    CmdError::msg(format!(
                        "failed to wrap arguments '{}' into a QMP command wrapper",
                        rest.join(" ")
                    ))
                })?,
        )
    };
    let mut command = serde_json::Map::new();
    command.insert("execute".into(), Value::String(name));
    if let Some(a) = arguments {
        command.insert("arguments".into(), a);
    }
    Ok(format_json(&Value::Object(command), false))
}

/// yajl's string encoding as libvirt configures it: quotes, backslashes
/// and control characters escaped, `/` and non-ASCII kept.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// virJSONValueToString: yajl's generator, compact or beautified (a
/// newline after every opening bracket and member, two spaces a level,
/// `": "` after keys; an empty container still gets its two newlines).
pub fn format_json(v: &Value, pretty: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, v, pretty, 0);
    if pretty {
        out.push('\n');
    }
    out
}

fn write_value(out: &mut String, v: &Value, pretty: bool, depth: usize) {
    let indent = |out: &mut String, depth: usize| {
        if pretty {
            out.push_str(&"  ".repeat(depth));
        }
    };
    let newline = |out: &mut String| {
        if pretty {
            out.push('\n');
        }
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_string(out, s),
        Value::Array(items) => {
            out.push('[');
            newline(out);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    newline(out);
                }
                indent(out, depth + 1);
                write_value(out, item, pretty, depth + 1);
            }
            newline(out);
            indent(out, depth);
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            newline(out);
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    newline(out);
                }
                indent(out, depth + 1);
                push_string(out, key);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_value(out, item, pretty, depth + 1);
            }
            newline(out);
            indent(out, depth);
            out.push('}');
        }
    }
}

fn qemu_monitor_command(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "hmp", "pretty")?;
    exclusive(c, "hmp", "return-value")?;
    let (pretty, return_value) = (c.has("pretty"), c.has("return-value"));
    let dom = domain(ctl, c)?;
    let (command, flags) = if c.has("hmp") {
        (c.argv.join(" "), HMP)
    } else {
        (qmp_wrap(&c.argv)?, 0)
    };
    let result = dom.qemu_monitor_command(&command, flags)?;
    let parsed = if pretty || return_value {
        serde_json::from_str::<Value>(&result).ok()
    } else {
        None
    };
    let Some(reply) = parsed else {
        if return_value {
            return Err(CmdError::msg("failed to parse JSON returned by qemu"));
        }
        ctl.print(&format!("{result}\n"));
        return Ok(());
    };
    let shown = if return_value {
        reply
            .get("return")
            .ok_or_else(|| CmdError::msg("'return' member missing"))?
    } else {
        &reply
    };
    ctl.print(format_json(shown, pretty).trim_end());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_names_and_arguments_as_virsh_does() {
        let w = |s: &[&str]| qmp_wrap(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(
            w(&["query-status"]).unwrap(),
            r#"{"execute":"query-status"}"#
        );
        assert_eq!(
            w(&[r#"{"execute":"stop"}"#]).unwrap(),
            r#"{"execute":"stop"}"#
        );
        assert_eq!(
            w(&["human-monitor-command", r#""command-line":"info""#]).unwrap(),
            r#"{"execute":"human-monitor-command","arguments":{"command-line":"info"}}"#
        );
        assert!(w(&["x", "bad"]).is_err());
    }

    #[test]
    fn pretty_output_follows_yajl() {
        let v: Value =
            serde_json::from_str(r#"{"return":{"status":"running","a":[1,{}],"e":[]},"id":"x/y"}"#)
                .unwrap();
        assert_eq!(
            format_json(&v, true),
            "{\n  \"return\": {\n    \"status\": \"running\",\n    \"a\": [\n      1,\n      {\n\n      }\n    ],\n    \"e\": [\n\n    ]\n  },\n  \"id\": \"x/y\"\n}\n"
        );
        assert_eq!(
            format_json(&v, false),
            r#"{"return":{"status":"running","a":[1,{}],"e":[]},"id":"x/y"}"#
        );
    }
}
