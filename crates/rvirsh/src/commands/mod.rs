//! The command table: every command rvirsh carries, with virsh's name,
//! options and output. One module per group, as virsh's source is split.

mod host;
mod info;
pub mod jobs;
pub(crate) mod lifecycle;
mod list;
pub mod migrate;
pub mod opts;
mod states;

use crate::parse::ParsedCommand;
use crate::shell::{CmdResult, Ctl};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OptKind {
    /// A flag: `--all`.
    Bool,
    /// A named value: `--mode acpi`.
    String,
    /// A named number.
    Int,
    /// A value that may also be given by position: `<domain>`.
    Data,
}

pub struct OptDef {
    pub name: &'static str,
    pub kind: OptKind,
    pub required: bool,
    pub aliases: &'static [&'static str],
}

pub const fn flag(name: &'static str) -> OptDef {
    OptDef {
        name,
        kind: OptKind::Bool,
        required: false,
        aliases: &[],
    }
}
pub const fn string(name: &'static str) -> OptDef {
    OptDef {
        name,
        kind: OptKind::String,
        required: false,
        aliases: &[],
    }
}
/// A flag that also answers to other names (virsh's VSH_OT_ALIAS).
pub const fn flag_alias(name: &'static str, aliases: &'static [&'static str]) -> OptDef {
    OptDef {
        name,
        kind: OptKind::Bool,
        required: false,
        aliases,
    }
}
/// A named number (VSH_OT_INT).
pub const fn int(name: &'static str) -> OptDef {
    OptDef {
        name,
        kind: OptKind::Int,
        required: false,
        aliases: &[],
    }
}
/// A required number, which may also be given by position.
pub const fn req_int(name: &'static str) -> OptDef {
    OptDef {
        name,
        kind: OptKind::Int,
        required: true,
        aliases: &[],
    }
}
/// A positional value, required unless `optional_data` is used.
pub const fn data(name: &'static str) -> OptDef {
    OptDef {
        name,
        kind: OptKind::Data,
        required: true,
        aliases: &[],
    }
}

pub type Handler = fn(&mut Ctl, &ParsedCommand) -> CmdResult;

pub struct CommandDef {
    pub name: &'static str,
    pub opts: &'static [OptDef],
    /// Runs without a hypervisor connection (virsh's VSH_CMD_FLAG_NOCONNECT);
    /// such commands get no trailing blank line.
    pub no_connect: bool,
    pub handler: Handler,
}

pub const fn cmd(name: &'static str, opts: &'static [OptDef], handler: Handler) -> CommandDef {
    CommandDef {
        name,
        opts,
        no_connect: false,
        handler,
    }
}

static GROUPS: &[&[CommandDef]] = &[
    host::COMMANDS,
    list::COMMANDS,
    info::COMMANDS,
    lifecycle::COMMANDS,
    migrate::COMMANDS,
    jobs::COMMANDS,
];

pub fn find(name: &str) -> Option<&'static CommandDef> {
    GROUPS
        .iter()
        .flat_map(|g| g.iter())
        .find(|c| c.name == name)
}
