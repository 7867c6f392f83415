//! `net-event` (virsh's cmdNetworkEvent): wait for network lifecycle
//! events and print them, once or in a loop, until a timeout or Ctrl-C.

use super::network::network;
use super::opts::{opt_string, opt_uint};
use super::{about, cmd, flag, int, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use crate::watch::{SigintGuard, INTERRUPTED};
use rvirt::driver::NetworkRef;
use rvirt::events_network::{network_event as ev, NetworkEvent, NetworkEventCallback};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

pub static COMMANDS: &[CommandDef] = &[cmd(
    "net-event",
    about(
        "Network Events",
        "List event types, or wait for network events to occur",
    ),
    &[
        string("network", "filter by network name or uuid"),
        string("event", "which event type to wait for"),
        flag(
            "loop",
            "loop until timeout or interrupt, rather than one-shot",
        ),
        int("timeout", "timeout seconds"),
        flag("list", "list valid event types"),
        flag("timestamp", "show timestamp for each printed event"),
    ],
    net_event,
)];

/// virshNetworkEventToString.
fn event_name(event: i32) -> &'static str {
    match event {
        ev::DEFINED => "Defined",
        ev::UNDEFINED => "Undefined",
        ev::STARTED => "Started",
        ev::STOPPED => "Stopped",
        _ => "unknown",
    }
}

/// vshCommandOptTimeoutToMs: seconds, not 0 and within an int of ms.
pub(super) fn timeout(c: &ParsedCommand) -> Result<Option<Duration>, CmdError> {
    match opt_uint(c, "timeout")? {
        None => Ok(None),
        Some(t) if t == 0 || t > i32::MAX as u32 / 1000 => Err(CmdError::msg(format!(
            "Numeric value '{t}' for <timeout> option is malformed or out of range"
        ))),
        Some(t) => Ok(Some(Duration::from_secs(u64::from(t)))),
    }
}

/// virTimeStringNowRaw: `YYYY-MM-DD HH:MM:SS.mmm+0000` in UTC.
pub(super) fn now_utc() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}+0000",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        now.subsec_millis()
    )
}

fn net_event(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    if c.has("list") {
        ctl.print("lifecycle\n");
        return Ok(());
    }
    let Some(name) = opt_string(c, "event")? else {
        return Err(CmdError::msg("either --list or --event <type> is required"));
    };
    if name != "lifecycle" {
        return Err(CmdError::msg(format!("unknown event type {name}")));
    }
    let (looping, stamp) = (c.has("loop"), c.has("timestamp"));
    let limit = timeout(c)?;
    // virsh reports a failed lookup and waits on every network instead.
    let mut lookup_error = None;
    let net = match c.has("network") {
        true => match network(ctl, c) {
            Ok(n) => Some(n),
            Err(e) => {
                if let Some(own) = &e.own {
                    eprintln!("error: {own}");
                }
                lookup_error = e.libvirt;
                None
            }
        },
        false => None,
    };
    let (tx, rx) = mpsc::channel::<String>();
    let tx = std::sync::Mutex::new(tx);
    let callback: NetworkEventCallback = Arc::new(move |n: &NetworkRef, e: &NetworkEvent| {
        let NetworkEvent::Lifecycle { event, .. } = *e;
        let line = format!(
            "event 'lifecycle' for network {}: {}\n",
            n.name,
            event_name(event)
        );
        let line = if stamp {
            format!("{}: {line}", now_utc())
        } else {
            line
        };
        let _ = tx.lock().map(|t| t.send(line));
    });
    let conn = ctl.conn()?.clone();
    let sigint = SigintGuard::install();
    let id = conn.network_event_register_any(net.as_ref(), ev::ID_LIFECYCLE, callback)?;
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
        if let Ok(line) = rx.recv_timeout(wait) {
            if looping || count == 0 {
                ctl.print(&line);
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
    conn.network_event_deregister_any(id)?;
    if count == 0 {
        return Err(CmdError {
            own: None,
            libvirt: lookup_error,
        });
    }
    Ok(())
}
