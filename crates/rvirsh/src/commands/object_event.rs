//! virsh's nodedev-event, secret-event and pool-event
//! (tools/virsh-nodedev.c, virsh-secret.c, virsh-pool.c): list the event types, or wait for one event (or, with
//! --loop, every event until --timeout) and print it in virsh's words.
//! Ctrl-C is not caught yet (virsh prints "event loop interrupted").

use super::opts::{opt_string, opt_uint};
use super::{about, cmd, flag, int, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::driver::storage::{PoolEvent, PoolEventCallback, PoolRef};
use rvirt::driver::SecretRef;
use rvirt::events_nodedev::{
    NodeDeviceEvent, NodeDeviceEventCallback, SecretEvent, SecretEventCallback,
};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT_OPTS_HELP: [(&str, &str); 4] = [
    (
        "loop",
        "loop until timeout or interrupt, rather than one-shot",
    ),
    ("timeout", "timeout seconds"),
    ("list", "list valid event types"),
    ("timestamp", "show timestamp for each printed event"),
];

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "nodedev-event",
        about(
            "Node Device Events",
            "List event types, or wait for node device events to occur",
        ),
        &[
            string("device", "filter by node device name"),
            string("event", "which event type to wait for"),
            flag(WAIT_OPTS_HELP[0].0, WAIT_OPTS_HELP[0].1),
            int(WAIT_OPTS_HELP[1].0, WAIT_OPTS_HELP[1].1),
            flag(WAIT_OPTS_HELP[2].0, WAIT_OPTS_HELP[2].1),
            flag(WAIT_OPTS_HELP[3].0, WAIT_OPTS_HELP[3].1),
        ],
        nodedev_event,
    ),
    cmd(
        "secret-event",
        about(
            "Secret Events",
            "List event types, or wait for secret events to occur",
        ),
        &[
            string("secret", "filter by secret name or uuid"),
            string("event", "which event type to wait for"),
            flag(WAIT_OPTS_HELP[0].0, WAIT_OPTS_HELP[0].1),
            int(WAIT_OPTS_HELP[1].0, WAIT_OPTS_HELP[1].1),
            flag(WAIT_OPTS_HELP[2].0, WAIT_OPTS_HELP[2].1),
            flag(WAIT_OPTS_HELP[3].0, WAIT_OPTS_HELP[3].1),
        ],
        secret_event,
    ),
    cmd(
        "pool-event",
        about(
            "Storage Pool Events",
            "List event types, or wait for storage pool events to occur",
        ),
        &[
            string("pool", "filter by storage pool name or uuid"),
            string("event", "which event type to wait for"),
            flag(WAIT_OPTS_HELP[0].0, WAIT_OPTS_HELP[0].1),
            int(WAIT_OPTS_HELP[1].0, WAIT_OPTS_HELP[1].1),
            flag(WAIT_OPTS_HELP[2].0, WAIT_OPTS_HELP[2].1),
            flag(WAIT_OPTS_HELP[3].0, WAIT_OPTS_HELP[3].1),
        ],
        pool_event,
    ),
];

/// What both commands share up to the registration: `None` when --list
/// printed the types.
struct Wait {
    event_id: i32,
    timeout: Option<Duration>,
    lp: bool,
    timestamp: bool,
}

fn wait_args(ctl: &Ctl, c: &ParsedCommand, types: &[&str]) -> Result<Option<Wait>, CmdError> {
    if c.has("list") {
        ctl.print(&types.iter().map(|t| format!("{t}\n")).collect::<String>());
        return Ok(None);
    }
    let Some(name) = opt_string(c, "event")? else {
        return Err(CmdError::msg("either --list or --event <type> is required"));
    };
    let event_id = types
        .iter()
        .position(|t| *t == name)
        .ok_or_else(|| CmdError::msg(format!("unknown event type {name}")))?
        as i32;
    let timeout = match opt_uint(c, "timeout")? {
        None => None,
        Some(t) if t == 0 || t > i32::MAX as u32 / 1000 => {
            return Err(CmdError::msg(format!(
                "Numeric value '{t}' for <timeout> option is malformed or out of range"
            )))
        }
        Some(t) => Some(Duration::from_secs(t as u64)),
    };
    Ok(Some(Wait {
        event_id,
        timeout,
        lp: c.has("loop"),
        timestamp: c.has("timestamp"),
    }))
}

/// `virTimeStringNowRaw`: local time as `YYYY-MM-DD HH:MM:SS.mmm+ZZZZ`.
fn timestamp() -> String {
    let out = std::process::Command::new("date")
        .arg("+%Y-%m-%d %H:%M:%S.%3N%z")
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// vshEventWait and the summary: print each line the callback sends until
/// one arrived (or, with --loop, the timeout); then the count.
fn wait_and_report(ctl: &Ctl, w: &Wait, lines: mpsc::Receiver<String>) -> CmdResult {
    let deadline = w.timeout.map(|t| Instant::now() + t);
    let mut count = 0;
    loop {
        let line = match deadline {
            Some(d) => match lines.recv_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(l) => l,
                Err(_) => {
                    ctl.print("event loop timed out\n");
                    break;
                }
            },
            None => match lines.recv() {
                Ok(l) => l,
                Err(_) => break,
            },
        };
        let stamp = if w.timestamp {
            format!("{}: ", timestamp())
        } else {
            String::new()
        };
        ctl.print(&format!("{stamp}{line}\n"));
        count += 1;
        if !w.lp {
            break;
        }
    }
    ctl.print(&format!("events received: {count}\n"));
    if count == 0 {
        // virsh fails the command without a message of its own.
        return Err(CmdError::default());
    }
    Ok(())
}

const NODEDEV_LIFECYCLE: [&str; 4] = ["Created", "Deleted", "Defined", "Undefined"];

fn nodedev_event(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let Some(w) = wait_args(ctl, c, &["lifecycle", "update"])? else {
        return Ok(());
    };
    let conn = ctl.conn()?.clone();
    let dev =
        match opt_string(c, "device")? {
            Some(name) => Some(conn.node_device_lookup_by_name(name).map_err(|e| {
                CmdError::with(format!("Could not find matching device '{name}'"), e)
            })?),
            None => None,
        };
    let (tx, rx) = mpsc::channel();
    let callback: NodeDeviceEventCallback = Arc::new(move |name: &str, ev: &NodeDeviceEvent| {
        let line = match ev {
            NodeDeviceEvent::Lifecycle { event, .. } => format!(
                "event 'lifecycle' for node device {name}: {}",
                NODEDEV_LIFECYCLE.get(*event as usize).unwrap_or(&"unknown")
            ),
            NodeDeviceEvent::Update => format!("event 'update' for node device {name}"),
        };
        let _ = tx.send(line);
    });
    let id = conn.node_device_event_register_any(dev.as_ref(), w.event_id, callback)?;
    let result = wait_and_report(ctl, &w, rx);
    conn.node_device_event_deregister_any(id)?;
    result
}

fn secret_event(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let Some(w) = wait_args(ctl, c, &["lifecycle", "value-changed"])? else {
        return Ok(());
    };
    let conn = ctl.conn()?.clone();
    // virsh goes on without the filter when the lookup fails.
    let secret = match opt_string(c, "secret")? {
        Some(uuid) => match conn.secret_lookup_by_uuid_string(uuid) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("error: failed to get secret '{uuid}'");
                eprintln!("error: {}", e.message);
                None
            }
        },
        None => None,
    };
    let (tx, rx) = mpsc::channel();
    let callback: SecretEventCallback = Arc::new(move |s: &SecretRef, ev: &SecretEvent| {
        let uuid = s.uuid_string();
        let line = match ev {
            SecretEvent::Lifecycle { event, .. } => format!(
                "event 'lifecycle' for secret {uuid}: {}",
                ["Defined", "Undefined"]
                    .get(*event as usize)
                    .unwrap_or(&"unknown")
            ),
            SecretEvent::ValueChanged => format!("event 'value-changed' for secret {uuid}"),
        };
        let _ = tx.send(line);
    });
    let id = conn.secret_event_register_any(secret.as_ref(), w.event_id, callback)?;
    let result = wait_and_report(ctl, &w, rx);
    conn.secret_event_deregister_any(id)?;
    result
}

const POOL_LIFECYCLE: [&str; 6] = [
    "Defined",
    "Undefined",
    "Started",
    "Stopped",
    "Created",
    "Deleted",
];

fn pool_event(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let Some(w) = wait_args(ctl, c, &["lifecycle", "refresh"])? else {
        return Ok(());
    };
    let conn = ctl.conn()?.clone();
    // virsh goes on without the filter when the lookup fails, saying so
    // at once; libvirt's error stays pending, printed only if the command
    // fails.
    let by = crate::shell::BY_NAME | crate::shell::BY_UUID;
    let mut pending = None;
    let pool = match c.has("pool") {
        true => match super::pool::lookup_pool(ctl, c, "pool", by) {
            Ok(p) => Some(p),
            Err(e) => {
                if let Some(own) = &e.own {
                    eprintln!("error: {own}");
                }
                pending = e.libvirt;
                None
            }
        },
        false => None,
    };
    let (tx, rx) = mpsc::channel();
    let callback: PoolEventCallback = Arc::new(move |p: &PoolRef, ev: &PoolEvent| {
        let line = match ev {
            PoolEvent::Lifecycle { event, .. } => format!(
                "event 'lifecycle' for storage pool {}: {}",
                p.name,
                POOL_LIFECYCLE.get(*event as usize).unwrap_or(&"unknown")
            ),
            PoolEvent::Refresh => format!("event 'refresh' for storage pool {}", p.name),
        };
        let _ = tx.send(line);
    });
    let id = conn.storage_pool_event_register_any(pool.as_ref(), w.event_id, callback)?;
    let result = wait_and_report(ctl, &w, rx);
    conn.storage_pool_event_deregister_any(id)?;
    result.map_err(|e| CmdError {
        libvirt: e.libvirt.or(pending),
        ..e
    })
}
