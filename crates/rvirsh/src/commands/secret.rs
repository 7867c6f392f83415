//! virsh's secret commands (tools/virsh-secret.c): secret-define,
//! secret-undefine, secret-dumpxml, secret-list, secret-get-value and
//! secret-set-value (--base64, --file, --plain, --interactive), values
//! base64-coded as glib does for virsh.

use super::lifecycle::read_file;
use super::opts::{exclusive, opt_string};
use super::snapshot::dump_xml;
use super::{about, cmd, data, flag, named_string, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::secret::{list_flags, USAGE_NAMES};
use rvirt::{ErrorCode, Secret};
use rvirt_util::base64;

const SECRET: super::OptDef = data("secret", "secret UUID");

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "secret-define",
        about(
            "define or modify a secret from an XML file",
            "Define or modify a secret.",
        ),
        &[
            data("file", "file containing secret attributes in XML"),
            flag("validate", "validate the XML against the schema"),
        ],
        secret_define,
    ),
    cmd(
        "secret-dumpxml",
        about(
            "secret attributes in XML",
            "Output attributes of a secret as an XML dump to stdout.",
        ),
        &[
            SECRET,
            named_string("xpath", "xpath expression to filter the XML document"),
            flag("wrap", "wrap xpath results in an common root element"),
        ],
        secret_dumpxml,
    ),
    cmd(
        "secret-get-value",
        about("Output a secret value", "Output a secret value to stdout."),
        &[
            SECRET,
            flag("plain", "get value without converting to base64"),
        ],
        secret_get_value,
    ),
    cmd(
        "secret-list",
        about("list secrets", "Returns a list of secrets"),
        &[
            flag("ephemeral", "list ephemeral secrets"),
            flag("no-ephemeral", "list non-ephemeral secrets"),
            flag("private", "list private secrets"),
            flag("no-private", "list non-private secrets"),
        ],
        secret_list,
    ),
    cmd(
        "secret-set-value",
        about("set a secret value", "Set a secret value."),
        &[
            SECRET,
            named_string("file", "read secret from file"),
            flag(
                "plain",
                "read the secret from file without converting from base64",
            ),
            flag("interactive", "read the secret from the terminal"),
            string("base64", "base64-encoded secret value"),
        ],
        secret_set_value,
    ),
    cmd(
        "secret-undefine",
        about("undefine a secret", "Undefine a secret."),
        &[SECRET],
        secret_undefine,
    ),
];

/// virshCommandOptSecret: the secret the option's UUID names.
fn lookup(ctl: &Ctl, c: &ParsedCommand) -> Result<(Secret, String), CmdError> {
    let n = opt_string(c, "secret")?.unwrap_or_default().to_string();
    match ctl.conn()?.secret_lookup_by_uuid_string(&n) {
        Ok(s) => Ok((s, n)),
        Err(e) => Err(CmdError::with(format!("failed to get secret '{n}'"), e)),
    }
}

fn secret_define(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let from = opt_string(c, "file")?.unwrap_or_default();
    let f = if c.has("validate") { 1 } else { 0 };
    let xml = read_file(from)?;
    let secret = ctl
        .conn()?
        .secret_define_xml(&xml, f)
        .map_err(|e| CmdError::with(format!("Failed to set attributes from {from}"), e))?;
    ctl.print_extra(&format!("Secret {} created\n", secret.uuid_string()));
    Ok(())
}

fn secret_dumpxml(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (secret, _) = lookup(ctl, c)?;
    let xml = secret.get_xml_desc(0)?;
    dump_xml(ctl, &xml, "secret", c.get("xpath"), c.has("wrap"))
}

fn secret_undefine(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (secret, uuid) = lookup(ctl, c)?;
    secret
        .undefine()
        .map_err(|e| CmdError::with(format!("Failed to delete secret {uuid}"), e))?;
    ctl.print_extra(&format!("Secret {uuid} deleted\n"));
    Ok(())
}

fn secret_get_value(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let (secret, _) = lookup(ctl, c)?;
    let value = secret.get_value(0)?;
    if c.has("plain") {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(&value)
            .and_then(|_| out.flush())
            .map_err(|_| CmdError::msg("failed to write secret"))?;
    } else {
        ctl.print(&base64::encode(&value));
    }
    Ok(())
}

fn secret_set_value(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    for (a, b) in [
        ("file", "base64"),
        ("plain", "base64"),
        ("interactive", "base64"),
        ("interactive", "plain"),
        ("interactive", "file"),
    ] {
        exclusive(c, a, b)?;
    }
    let (secret, _) = lookup(ctl, c)?;
    let base64 = opt_string(c, "base64")?;
    let file = opt_string(c, "file")?;
    let mut plain = c.has("plain");
    let raw: Vec<u8> = if let Some(b) = base64 {
        eprintln!("error: Passing secret value as command-line argument is insecure!");
        b.as_bytes().to_vec()
    } else if let Some(path) = file {
        read_limited(path)?
    } else if c.has("interactive") {
        ctl.print("Enter new value for secret:");
        plain = true;
        read_password().ok_or_else(|| CmdError::msg("Failed to read secret"))?
    } else {
        return Err(CmdError::msg("Input secret value is missing"));
    };
    let value = if plain {
        raw
    } else {
        base64::decode(&String::from_utf8_lossy(&raw))
    };
    secret
        .set_value(&value, 0)
        .map_err(|e| CmdError::with("Failed to set secret value", e))?;
    ctl.print_extra("Secret value set\n");
    Ok(())
}

/// `virFileReadAll(path, 1024)`.
fn read_limited(path: &str) -> Result<Vec<u8>, CmdError> {
    let err = |e: &std::io::Error| {
        rvirt::Error::system(
            rvirt_util::ErrorDomain::NONE,
            format!("Failed to open file '{path}'"),
            e,
        )
    };
    let data = std::fs::read(path).map_err(|e| err(&e))?;
    if data.len() > 1024 {
        return Err(rvirt::Error::new(
            rvirt_util::ErrorDomain::NONE,
            ErrorCode::INTERNAL_ERROR,
            format!("File '{path}' is too large"),
        )
        .into());
    }
    Ok(data)
}

/// `virGetPassword`: a line from the terminal (stdin), without its
/// newline.
fn read_password() -> Option<Vec<u8>> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).ok()?;
    Some(line.trim_end_matches('\n').as_bytes().to_vec())
}

fn secret_list(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let table = [
        ("ephemeral", list_flags::EPHEMERAL),
        ("no-ephemeral", list_flags::NO_EPHEMERAL),
        ("private", list_flags::PRIVATE),
        ("no-private", list_flags::NO_PRIVATE),
    ];
    let flags = table
        .iter()
        .filter(|(o, _)| c.has(o))
        .fold(0, |acc, (_, b)| acc | b);
    let mut list = collect(ctl, flags)?;
    list.sort_by_key(|s| s.uuid_string());
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let usage = match s.usage_type() {
                0 => "Unused".to_string(),
                t => format!(
                    "{} {}",
                    USAGE_NAMES.get(t as usize).unwrap_or(&""),
                    s.usage_id()
                ),
            };
            vec![s.uuid_string(), usage]
        })
        .collect();
    ctl.print(&crate::table::render(&["UUID", "Usage"], &rows));
    Ok(())
}

/// virshSecretListCollect, with its fallback to the old calls.
fn collect(ctl: &Ctl, flags: u32) -> Result<Vec<Secret>, CmdError> {
    let conn = ctl.conn()?;
    match conn.list_all_secrets(flags) {
        Ok(l) => return Ok(l),
        Err(e) if e.code == ErrorCode::NO_SUPPORT => {}
        Err(e) => return Err(CmdError::with("Failed to list node secrets", e)),
    }
    if flags != 0 {
        return Err(CmdError::msg("Filtering is not supported by this libvirt"));
    }
    let n = conn
        .num_of_secrets()
        .map_err(|e| CmdError::with("Failed to count secrets", e))?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let uuids = conn
        .list_secrets(n)
        .map_err(|e| CmdError::with("Failed to list secrets", e))?;
    Ok(uuids
        .iter()
        .filter_map(|u| conn.secret_lookup_by_uuid_string(u).ok())
        .collect())
}
