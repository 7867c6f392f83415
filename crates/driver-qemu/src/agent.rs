//! The QEMU guest agent (libvirt's qemu_agent.c) for shutdown and reboot:
//! over the `org.qemu.guest_agent.0` channel's unix socket, a
//! `guest-sync-delimited` with a fresh id brings the agent's stream in
//! step, then `guest-shutdown` asks the guest to power off or reboot. It
//! answers nothing when it complies: the call is done when QEMU reports
//! the guest's shutdown or reset, as libvirt awaits those events.

use crate::driver::Driver;
use crate::state::Running;
use rvirt::driver::DomainRef;
use rvirt::types::DomainState;
use rvirt_conf::domain::channel::ChannelTarget;
use rvirt_conf::domain::chardev::ChrType;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// The channel name the agent listens on.
pub const AGENT_CHANNEL: &str = "org.qemu.guest_agent.0";
/// How long the agent may take to answer the sync (QEMU_AGENT_WAIT_TIME).
const SYNC_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a shutdown may take to show (VIR_DOMAIN_QEMU_AGENT_COMMAND_SHUTDOWN).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);
/// The byte guest-sync-delimited puts before its answer, and that flushes
/// a partial command in the agent's parser.
const DELIMITER: u8 = 0xFF;

fn error(code: ErrorCode, text: &str) -> Error {
    Error::new(ErrorDomain::QEMU, code, text)
}

fn not_responding() -> Error {
    error(
        ErrorCode::AGENT_UNRESPONSIVE,
        "Guest agent not available for now",
    )
}

/// The running guest and the index of its agent channel
/// (qemuDomainAgentAvailable's checks, in its words).
fn agent_of(driver: &Driver, dom: &DomainRef) -> Result<(Arc<Running>, usize)> {
    let domains = driver.domains.lock();
    let obj = domains.get(dom)?;
    let run = match (&obj.run, obj.state) {
        (Some(run), DomainState::Running) => run.clone(),
        _ => return Err(error(ErrorCode::OPERATION_INVALID, "domain is not running")),
    };
    let index = obj.def.devices.channels.iter().position(|c| {
        c.source.chr_type == ChrType::Unix
            && matches!(&c.target, ChannelTarget::Virtio { name: Some(n) } if n == AGENT_CHANNEL)
    });
    let Some(index) = index else {
        return Err(error(
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "QEMU guest agent is not configured",
        ));
    };
    Ok((run, index))
}

/// Whether the guest has an agent channel its side has opened: libvirt
/// prefers the agent for a shutdown without flags then.
pub fn connected(driver: &Driver, dom: &DomainRef) -> bool {
    let Ok((run, index)) = agent_of(driver, dom) else {
        return false;
    };
    driver
        .rt
        .run(async move { socket_path(&run, index).await })
        .is_ok()
}

/// The agent socket's path, from QEMU's `query-chardev`, when the guest
/// holds its end open (the VSERPORT_CHANGE state libvirt tracks).
async fn socket_path(run: &Running, index: usize) -> Result<String> {
    let label = format!("charchannel{index}");
    let devices = run.monitor.execute(qapi::qmp::query_chardev {}).await?;
    let device = devices.into_iter().find(|d| d.label == label);
    let Some(device) = device.filter(|d| d.frontend_open) else {
        return Err(error(
            ErrorCode::AGENT_UNRESPONSIVE,
            "QEMU guest agent is not connected",
        ));
    };
    // `disconnected:unix:PATH,server=on` while no client is attached.
    let path = device.filename.split_once("unix:").map_or("", |(_, p)| p);
    Ok(path.split(',').next().unwrap_or_default().to_string())
}

/// `guest-shutdown` with mode `powerdown` or `reboot`, done once QEMU
/// reports the guest's shutdown (or reset).
pub fn shutdown(driver: &Driver, dom: &DomainRef, reboot: bool) -> Result<()> {
    let (run, index) = agent_of(driver, dom)?;
    driver.rt.run(async move {
        let path = socket_path(&run, index).await?;
        let mut agent = UnixStream::connect(&path)
            .await
            .map_err(|_| not_responding())?;
        sync(&mut agent).await?;
        let resets = run.resets.load(Ordering::SeqCst);
        let mode = if reboot { "reboot" } else { "powerdown" };
        send(
            &mut agent,
            &json!({"execute": "guest-shutdown", "arguments": {"mode": mode}}),
        )
        .await?;
        let happened = || {
            if reboot {
                run.resets.load(Ordering::SeqCst) != resets
            } else {
                run.got_shutdown.load(Ordering::SeqCst)
            }
        };
        await_outcome(&mut agent, happened).await
    })
}

async fn send(agent: &mut UnixStream, command: &Value) -> Result<()> {
    let mut line = vec![DELIMITER];
    line.extend(command.to_string().into_bytes());
    line.push(b'\n');
    agent.write_all(&line).await.map_err(|_| not_responding())
}

/// qemuAgentGuestSync with the delimited variant: answers before the
/// delimiter are stale ones of an earlier client, and are skipped.
async fn sync(agent: &mut UnixStream) -> Result<()> {
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    send(
        agent,
        &json!({"execute": "guest-sync-delimited", "arguments": {"id": id}}),
    )
    .await?;
    let mut seen = Vec::new();
    let read = async {
        loop {
            let mut buf = [0u8; 512];
            let n = agent.read(&mut buf).await.map_err(|_| not_responding())?;
            if n == 0 {
                return Err(error(
                    ErrorCode::AGENT_UNRESPONSIVE,
                    "Guest agent disappeared while executing command",
                ));
            }
            seen.extend_from_slice(&buf[..n]);
            let after = seen
                .iter()
                .rposition(|b| *b == DELIMITER)
                .map_or(0, |i| i + 1);
            let synced = seen[after..]
                .split(|b| *b == b'\n')
                .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
                .any(|v| v.get("return").and_then(Value::as_u64) == Some(id));
            if synced {
                return Ok(());
            }
        }
    };
    tokio::time::timeout(SYNC_TIMEOUT, read)
        .await
        .map_err(|_| not_responding())?
}

/// Wait for the guest to comply (`happened`), or for the agent's error
/// answer (qemuAgentCheckError's text), within the shutdown timeout.
async fn await_outcome(agent: &mut UnixStream, happened: impl Fn() -> bool) -> Result<()> {
    let deadline = tokio::time::Instant::now() + SHUTDOWN_TIMEOUT;
    let mut pending = Vec::new();
    while tokio::time::Instant::now() < deadline {
        if happened() {
            return Ok(());
        }
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_millis(100), agent.read(&mut buf)).await;
        let Ok(Ok(n)) = read else { continue };
        if n == 0 {
            // The agent went away with the guest; the event decides.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        pending.extend_from_slice(&buf[..n]);
        for reply in pending
            .split(|b| *b == b'\n')
            .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        {
            if reply.get("return").is_some() {
                return Ok(());
            }
            if let Some(desc) = reply.pointer("/error/desc").and_then(Value::as_str) {
                return Err(Error::internal(
                    ErrorDomain::QEMU,
                    format!("unable to execute QEMU agent command 'guest-shutdown': {desc}"),
                ));
            }
        }
    }
    Err(not_responding())
}
