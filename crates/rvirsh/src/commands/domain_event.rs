//! `event` (virsh-domain-event.c's cmdEvent): list the domain event
//! types, or wait for one event (or, with --loop, every event until a
//! timeout or Ctrl-C) of one type or of all, and print it in virsh's
//! words. rvirt delivers lifecycle, reboot, tunable, migration-iteration
//! and job-completed events; registering for the others succeeds where
//! the driver accepts it, and nothing arrives for them.

use super::network_event::{now_utc, timeout};
use super::opts::{exclusive, opt_string};
use super::{about, cmd, flag, int, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use crate::watch::{SigintGuard, INTERRUPTED};
use rvirt::events::lifecycle as lc;
use rvirt::{DomainEvent, DomainRef, EventCallback};
use rvirt_util::TypedParams;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub static COMMANDS: &[CommandDef] = &[cmd(
    "event",
    about(
        "Domain Events",
        "List event types, or wait for domain events to occur",
    ),
    &[
        string("domain", "filter by domain name, id or uuid"),
        string("event", "which event type to wait for"),
        flag("all", "wait for all events instead of just one type"),
        flag(
            "loop",
            "loop until timeout or interrupt, rather than one-shot",
        ),
        int("timeout", "timeout seconds"),
        flag("list", "list valid event types"),
        flag("timestamp", "show timestamp for each printed event"),
    ],
    event,
)];

/// virsh's event names, indexed by `virDomainEventID`.
const EVENT_NAMES: [&str; 27] = [
    "lifecycle",
    "reboot",
    "rtc-change",
    "watchdog",
    "io-error",
    "graphics",
    "io-error-reason",
    "control-error",
    "block-job",
    "disk-change",
    "tray-change",
    "pm-wakeup",
    "pm-suspend",
    "balloon-change",
    "pm-suspend-disk",
    "device-removed",
    "block-job-2",
    "tunable",
    "agent-lifecycle",
    "device-added",
    "migration-iteration",
    "job-completed",
    "device-removal-failed",
    "metadata-change",
    "block-threshold",
    "memory-failure",
    "memory-device-size-change",
];

/// virshDomainEventToString and virshDomainEventDetailToString.
fn lifecycle_words(event: i32, detail: i32) -> (&'static str, &'static str) {
    const EVENTS: [&str; 9] = [
        "Defined",
        "Undefined",
        "Started",
        "Suspended",
        "Resumed",
        "Stopped",
        "Shutdown",
        "PMSuspended",
        "Crashed",
    ];
    let details: &[&str] = match event {
        lc::DEFINED => &["Added", "Updated", "Renamed", "Snapshot"],
        lc::UNDEFINED => &["Removed", "Renamed"],
        lc::STARTED => &["Booted", "Migrated", "Restored", "Snapshot", "Event wakeup"],
        lc::SUSPENDED => &[
            "Paused",
            "Migrated",
            "I/O Error",
            "Watchdog",
            "Restored",
            "Snapshot",
            "API error",
            "Post-copy",
            "Post-copy Error",
        ],
        lc::RESUMED => &[
            "Unpaused",
            "Migrated",
            "Snapshot",
            "Post-copy",
            "Post-copy Error",
        ],
        lc::STOPPED => &[
            "Shutdown",
            "Destroyed",
            "Crashed",
            "Migrated",
            "Saved",
            "Failed",
            "Snapshot",
        ],
        lc::SHUTDOWN => &[
            "Finished",
            "Finished after guest request",
            "Finished after host request",
        ],
        lc::PMSUSPENDED => &["Memory", "Disk"],
        lc::CRASHED => &["Panicked", "Crashloaded"],
        _ => &[],
    };
    let word = |list: &[&'static str], i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| list.get(i).copied())
            .unwrap_or("unknown")
    };
    (word(&EVENTS, event), word(details, detail))
}

/// `\tFIELD: VALUE` lines of typed parameters (virTypedParameterToString).
fn param_lines(params: &TypedParams) -> String {
    params
        .iter()
        .map(|p| {
            format!(
                "\t{}: {}\n",
                p.field,
                super::jobs::typed_value_text(&p.value)
            )
        })
        .collect()
}

/// The text virsh prints for one event.
fn describe(dom: &DomainRef, ev: &DomainEvent) -> String {
    let name = &dom.name;
    match ev {
        DomainEvent::Lifecycle { event, detail } => {
            let (what, why) = lifecycle_words(*event, *detail);
            format!("event 'lifecycle' for domain '{name}': {what} {why}\n")
        }
        DomainEvent::Reboot => format!("event 'reboot' for domain '{name}'\n"),
        DomainEvent::MigrationIteration { iteration } => {
            format!("event 'migration-iteration' for domain '{name}': iteration: '{iteration}'\n")
        }
        DomainEvent::JobCompleted { stats } => format!(
            "event 'job-completed' for domain '{name}':\n{}",
            param_lines(stats)
        ),
        DomainEvent::Tunable { params } => format!(
            "event 'tunable' for domain '{name}':\n{}",
            param_lines(params)
        ),
    }
}

fn event(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    exclusive(c, "all", "event")?;
    exclusive(c, "list", "all")?;
    exclusive(c, "list", "event")?;
    if c.has("list") {
        ctl.print(
            &EVENT_NAMES
                .iter()
                .map(|n| format!("{n}\n"))
                .collect::<String>(),
        );
        return Ok(());
    }
    let wanted = opt_string(c, "event")?;
    if wanted.is_none() && !c.has("all") {
        return Err(CmdError::msg(
            "one of --list, --all, or --event <type> is required",
        ));
    }
    let ids: Vec<i32> = (0..EVENT_NAMES.len() as i32)
        .filter(|&i| wanted.is_none_or(|w| EVENT_NAMES[i as usize] == w))
        .collect();
    if ids.is_empty() {
        return Err(CmdError::msg(format!(
            "unknown event type {}",
            wanted.unwrap_or_default()
        )));
    }
    let limit = timeout(c)?;
    let dom = match c.get("domain") {
        Some(name) => Some(ctl.lookup_domain(name, BY_ANY)?),
        None => None,
    };
    let (looping, stamp) = (c.has("loop"), c.has("timestamp"));
    let (tx, rx) = mpsc::channel::<String>();
    let tx = Mutex::new(tx);
    let callback: EventCallback = Arc::new(move |d: &DomainRef, e: &DomainEvent| {
        let text = describe(d, e);
        let text = if stamp {
            format!("{}: {text}", now_utc())
        } else {
            text
        };
        let _ = tx.lock().map(|t| t.send(text));
    });
    let conn = ctl.conn()?.clone();
    let mut registered = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        match conn.domain_event_register_any(dom.as_ref(), *id, callback.clone()) {
            Ok(cb) => registered.push(cb),
            // Later registrations may fail on an older server: ignored.
            Err(_) if n > 0 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let sigint = SigintGuard::install();
    let deadline = limit.map(|d| Instant::now() + d);
    let mut count = 0;
    let ending = loop {
        if INTERRUPTED.swap(false, Ordering::SeqCst) {
            break Some("event loop interrupted\n");
        }
        let wait = match deadline {
            Some(d) if Instant::now() >= d => break Some("event loop timed out\n"),
            Some(d) => (d - Instant::now()).min(Duration::from_millis(100)),
            None => Duration::from_millis(100),
        };
        if let Ok(text) = rx.recv_timeout(wait) {
            if looping || count == 0 {
                ctl.print(&text);
                count += 1;
            }
            if !looping {
                break None;
            }
        }
    };
    drop(sigint);
    if let Some(text) = ending {
        ctl.print(text);
    }
    ctl.print(&format!("events received: {count}\n"));
    let mut failed = count == 0;
    for cb in registered {
        failed |= conn.domain_event_deregister_any(cb).is_err();
    }
    if failed {
        return Err(CmdError::default());
    }
    Ok(())
}
