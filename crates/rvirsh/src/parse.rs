//! virsh's command-line grammar: a command string is split into commands at
//! `;` and newlines, into tokens at blanks, with single and double quotes and
//! backslash escapes; `#` starts a comment (libvirt's vshCommandStringParse).
//! Tokens are then bound to a command's declared options (vshCommandParse).

use crate::commands::{CommandDef, OptDef, OptKind};
use std::collections::BTreeMap;

/// One command ready to run: its definition and the option values given.
pub struct ParsedCommand {
    pub def: &'static CommandDef,
    /// Each option given, with its value (an argv option: its first).
    pub opts: BTreeMap<&'static str, String>,
    /// Every value of the command's argv option, in order.
    pub argv: Vec<String>,
}

impl ParsedCommand {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.opts.get(name).map(String::as_str)
    }
    pub fn has(&self, name: &str) -> bool {
        self.opts.contains_key(name)
    }
}

/// Split a command string into commands, each a list of tokens.
pub fn tokenize(input: &str) -> Result<Vec<Vec<String>>, String> {
    let mut commands = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(' ' | '\t')) {
            chars.next();
        }
        match chars.peek() {
            None => break,
            Some(';' | '\n') => {
                chars.next();
                commands.push(std::mem::take(&mut current));
                continue;
            }
            Some('#') => {
                while !matches!(chars.peek(), None | Some('\n')) {
                    chars.next();
                }
                continue;
            }
            _ => {}
        }
        let mut token = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (c, quote) {
                (' ' | '\t' | ';' | '\n', None) => break,
                ('\'' | '"', None) => quote = Some(c),
                (q, Some(open)) if q == open => quote = None,
                ('\\', q) if q != Some('\'') => {
                    chars.next();
                    match chars.next() {
                        Some(escaped) => token.push(escaped),
                        None => return Err("dangling \\".into()),
                    }
                    continue;
                }
                _ => token.push(c),
            }
            chars.next();
        }
        if quote.is_some() {
            return Err("missing \"".into());
        }
        current.push(token);
    }
    commands.push(current);
    Ok(commands.into_iter().filter(|c| !c.is_empty()).collect())
}

/// Bind tokens to a command's options; errors carry virsh's wording.
pub fn bind(def: &'static CommandDef, args: &[String]) -> Result<ParsedCommand, String> {
    let mut opts: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut argv = Vec::new();
    let mut only_data = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if !only_data && arg == "--" {
            only_data = true;
            continue;
        }
        // `COMMAND --help` is `help COMMAND`, whatever else is given.
        if !only_data && arg == "--help" {
            return Ok(help_for(def));
        }
        if let Some(spec) = arg.strip_prefix("--").filter(|_| !only_data) {
            let (name, inline) = match spec.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (spec, None),
            };
            let opt = find_opt(def, name)
                .ok_or_else(|| format!("command '{}' doesn't support option --{name}", def.name))?;
            if opts.contains_key(opt.name) && opt.kind != OptKind::Argv {
                return Err(format!("option --{} already seen", opt.name));
            }
            let value = if opt.kind == OptKind::Bool {
                if inline.is_some() {
                    return Err(format!("invalid '=' after option --{}", opt.name));
                }
                String::new()
            } else if let Some(v) = inline {
                v
            } else if i < args.len() {
                i += 1;
                args[i - 1].clone()
            } else {
                return Err(format!(
                    "expected syntax: --{} <{}>",
                    opt.name,
                    if matches!(opt.kind, OptKind::Int | OptKind::NamedInt) {
                        "number"
                    } else {
                        "string"
                    }
                ));
            };
            if opt.kind == OptKind::Argv {
                argv.push(value.clone());
            }
            opts.entry(opt.name).or_insert(value);
        } else {
            // virsh binds a bare word to the first option that takes a
            // value and has not been given yet, in declaration order
            // (vshCmddefGetData), so `migrate-setspeed dom 100` fills
            // <bandwidth> and `migrate dom uri tcp://x` fills --migrateuri.
            let opt = def.opts.iter().find(|o| {
                o.kind == OptKind::Argv
                    || (!matches!(
                        o.kind,
                        OptKind::Bool | OptKind::NamedString | OptKind::NamedInt
                    ) && !opts.contains_key(o.name))
            });
            match opt {
                Some(o) => {
                    if o.kind == OptKind::Argv {
                        argv.push(arg.clone());
                    }
                    opts.entry(o.name).or_insert_with(|| arg.clone());
                }
                None => return Err(format!("unexpected data '{arg}'")),
            }
        }
    }
    // virsh names every missing required option, one error line each.
    let missing: Vec<String> = def
        .opts
        .iter()
        .filter(|o| o.required && !opts.contains_key(o.name))
        .map(|opt| {
            if matches!(opt.kind, OptKind::Data | OptKind::Argv) {
                format!("command '{}' requires <{}> option", def.name, opt.name)
            } else {
                format!("command '{}' requires --{} option", def.name, opt.name)
            }
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing.join("\nerror: "));
    }
    Ok(ParsedCommand { def, opts, argv })
}

fn help_for(def: &'static CommandDef) -> ParsedCommand {
    let help = crate::commands::find("help").expect("help is in the command table");
    ParsedCommand {
        def: help,
        opts: BTreeMap::from([("command", def.name.to_string())]),
        argv: Vec::new(),
    }
}

fn find_opt(def: &'static CommandDef, name: &str) -> Option<&'static OptDef> {
    def.opts
        .iter()
        .find(|o| o.name == name || o.aliases.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands_and_quotes() {
        let t = tokenize("suspend test; list --all\ndominfo 'te st' \"a\\\"b\" # comment").unwrap();
        assert_eq!(
            t,
            vec![
                vec!["suspend", "test"],
                vec!["list", "--all"],
                vec!["dominfo", "te st", "a\"b"],
            ]
        );
        assert!(tokenize("echo 'unterminated").is_err());
    }

    #[test]
    fn bare_words_fill_value_options_in_order() {
        let def = crate::commands::find("shutdown").unwrap();
        let c = bind(def, &["test".into(), "acpi".into()]).unwrap();
        assert_eq!(c.get("domain"), Some("test"));
        assert_eq!(c.get("mode"), Some("acpi"));
        let c = bind(def, &["--mode".into(), "agent".into(), "test".into()]).unwrap();
        assert_eq!(c.get("domain"), Some("test"));
        assert_eq!(c.get("mode"), Some("agent"));
        let e = bind(def, &["a".into(), "b".into(), "c".into()])
            .err()
            .unwrap();
        assert_eq!(e, "unexpected data 'c'");
    }
}
