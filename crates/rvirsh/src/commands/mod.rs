//! The command table: every command rvirsh carries, with virsh's name,
//! options and output. One module per group, as virsh's source is split.

mod checkpoint;
mod console;
mod devlist;
mod display;
mod domain_event;
mod domain_text;
mod echo;
mod groups;
pub mod help;
mod host;
mod iface;
mod iface_bridge;
mod info;
mod iothreads;
pub mod jobs;
pub(crate) mod lifecycle;
mod list;
pub mod migrate;
mod monitor;
mod network;
mod network_edit;
mod network_event;
mod nodedev;
mod nodedev_manage;
mod not_carried;
mod nwfilter;
mod nwfilter_binding;
mod object_edit;
mod object_event;
pub mod opts;
mod pool;
mod pool_list;
mod qemu_monitor;
mod resources;
mod secret;
mod shell_cmds;
mod snapshot;
mod snapshot_edit;
mod snapshot_list;
mod states;
mod stats;
mod tuning;
mod vcpuinfo;
mod vol_info;
mod vol_stream;
mod volume;

use crate::parse::ParsedCommand;
use crate::shell::{CmdResult, Ctl};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OptKind {
    /// A flag: `--all`.
    Bool,
    /// A named value: `--mode acpi`.
    String,
    /// A named value never bound by position (virsh's VSH_OFLAG_REQ_OPT):
    /// `domxml-to-native FORMAT --domain NAME`.
    NamedString,
    /// A named number.
    Int,
    /// A named number never bound by position (VSH_OT_INT with
    /// VSH_OFLAG_REQ_OPT): `schedinfo --weight`.
    NamedInt,
    /// A value that may also be given by position: `<domain>`.
    Data,
    /// The last option, taking every remaining value (virsh's
    /// VSH_OT_ARGV): `domstats [<domain>]...`.
    Argv,
}

/// One option of a command: what the parser binds and what `help` prints
/// (virsh's vshCmdOptDef), so the two cannot drift apart.
pub struct OptDef {
    pub name: &'static str,
    pub kind: OptKind,
    pub required: bool,
    /// Other names (virsh's VSH_OT_ALIAS); help does not show them.
    pub aliases: &'static [&'static str],
    /// The OPTIONS line's text.
    pub help: &'static str,
}

const fn opt(name: &'static str, kind: OptKind, required: bool, help: &'static str) -> OptDef {
    OptDef {
        name,
        kind,
        required,
        aliases: &[],
        help,
    }
}

pub const fn flag(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::Bool, false, help)
}
pub const fn string(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::String, false, help)
}
/// A string option given only by its name.
pub const fn named_string(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::NamedString, false, help)
}
/// A flag that also answers to other names (virsh's VSH_OT_ALIAS).
pub const fn flag_alias(
    name: &'static str,
    aliases: &'static [&'static str],
    help: &'static str,
) -> OptDef {
    OptDef {
        name,
        kind: OptKind::Bool,
        required: false,
        aliases,
        help,
    }
}
/// A named number (VSH_OT_INT).
pub const fn int(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::Int, false, help)
}
/// A number given only by its name.
pub const fn named_int(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::NamedInt, false, help)
}
/// A required number, which may also be given by position.
pub const fn req_int(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::Int, true, help)
}
/// An optional list of values, the command's last option.
pub const fn argv(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::Argv, false, help)
}
/// A required positional value.
pub const fn data(name: &'static str, help: &'static str) -> OptDef {
    opt(name, OptKind::Data, true, help)
}

/// A command's `help` line and DESCRIPTION (virsh's vshCmdInfo; an empty
/// description is not printed).
#[derive(Clone, Copy)]
pub struct Info {
    pub help: &'static str,
    pub desc: &'static str,
}

pub const fn about(help: &'static str, desc: &'static str) -> Info {
    Info { help, desc }
}

pub type Handler = fn(&mut Ctl, &ParsedCommand) -> CmdResult;

pub struct CommandDef {
    pub name: &'static str,
    pub info: Info,
    pub opts: &'static [OptDef],
    /// Runs without a hypervisor connection (virsh's VSH_CMD_FLAG_NOCONNECT).
    pub no_connect: bool,
    pub handler: Handler,
}

impl CommandDef {
    pub fn needs_connection(&self) -> bool {
        !self.no_connect
    }
}

pub const fn cmd(
    name: &'static str,
    info: Info,
    opts: &'static [OptDef],
    handler: Handler,
) -> CommandDef {
    CommandDef {
        name,
        info,
        opts,
        no_connect: false,
        handler,
    }
}

static MODULES: &[&[CommandDef]] = &[
    host::COMMANDS,
    list::COMMANDS,
    info::COMMANDS,
    lifecycle::COMMANDS,
    domain_text::COMMANDS,
    display::COMMANDS,
    domain_event::COMMANDS,
    migrate::COMMANDS,
    qemu_monitor::COMMANDS,
    jobs::COMMANDS,
    console::COMMANDS,
    devlist::COMMANDS,
    stats::COMMANDS,
    monitor::COMMANDS,
    vcpuinfo::COMMANDS,
    resources::COMMANDS,
    tuning::COMMANDS,
    iothreads::COMMANDS,
    network::COMMANDS,
    network_edit::COMMANDS,
    network_event::COMMANDS,
    nwfilter::COMMANDS,
    nwfilter_binding::COMMANDS,
    iface::COMMANDS,
    iface_bridge::COMMANDS,
    nodedev::COMMANDS,
    nodedev_manage::COMMANDS,
    object_event::COMMANDS,
    object_edit::COMMANDS,
    secret::COMMANDS,
    snapshot::COMMANDS,
    checkpoint::COMMANDS,
    snapshot_edit::COMMANDS,
    snapshot_list::COMMANDS,
    pool::COMMANDS,
    pool_list::COMMANDS,
    volume::COMMANDS,
    vol_info::COMMANDS,
    vol_stream::COMMANDS,
    echo::COMMANDS,
    shell_cmds::COMMANDS,
    help::COMMANDS,
];

/// Every command rvirsh carries.
pub fn all() -> impl Iterator<Item = &'static CommandDef> {
    MODULES.iter().flat_map(|g| g.iter())
}

pub fn find(name: &str) -> Option<&'static CommandDef> {
    all().find(|c| c.name == name)
}
