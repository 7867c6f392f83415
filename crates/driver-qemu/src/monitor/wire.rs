//! QMP's wire: one JSON object a line, replies carrying the id of their
//! command, events carrying their name. Each line is decoded on its own, so
//! a line the schema does not know costs that line only.

use parking_lot::Mutex;
use rvirt_util::{Error, ErrorCode, ErrorDomain};
use serde_json::Value;
use std::collections::HashMap;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::unix::OwnedReadHalf;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

/// What arrives on the monitor besides replies.
#[derive(Debug)]
pub enum MonitorEvent {
    /// An event the schema describes.
    Qmp(qapi::qmp::Event),
    /// An event whose name or data the schema does not match.
    Other { name: String, data: Value },
    /// The monitor closed (QEMU exited or closed the socket).
    Closed,
}

/// A command's outcome as QEMU reported it.
pub enum Reply {
    Return(Value),
    Error { class: String, desc: String },
}

/// Commands sent and not yet answered, by id.
#[derive(Default)]
pub struct Pending {
    inner: Mutex<PendingInner>,
}

#[derive(Default)]
struct PendingInner {
    next_id: u64,
    /// Each waiter gets the whole reply object, as QEMU sent it.
    waiting: HashMap<u64, oneshot::Sender<Value>>,
    closed: bool,
}

impl Pending {
    /// A fresh id and the receiver its reply arrives on (dropped at once
    /// when the monitor is already closed).
    pub fn register(&self) -> (u64, oneshot::Receiver<Value>) {
        let mut inner = self.inner.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        let (tx, rx) = oneshot::channel();
        if !inner.closed {
            inner.waiting.insert(id, tx);
        }
        (id, rx)
    }

    /// Stop waiting for `id` (answered, timed out or failed): a late reply
    /// is then dropped instead of answering a later command.
    pub fn forget(&self, id: u64) {
        self.inner.lock().waiting.remove(&id);
    }

    fn answer(&self, id: u64, reply: Value) {
        if let Some(tx) = self.inner.lock().waiting.remove(&id) {
            let _ = tx.send(reply);
        }
    }

    fn close(&self) {
        let mut inner = self.inner.lock();
        inner.closed = true;
        inner.waiting.clear();
    }
}

/// libvirt's message when QEMU goes away under a command.
pub fn closed_error() -> Error {
    Error::new(
        ErrorDomain::QEMU,
        ErrorCode::OPERATION_FAILED,
        "End of file from qemu monitor",
    )
}

/// The id a command carries: `libvirt-N`, as libvirt names its commands,
/// so a passed-through reply reads as it does from libvirtd.
fn command_id(id: u64) -> String {
    format!("libvirt-{id}")
}

fn parse_command_id(value: &Value) -> Option<u64> {
    value
        .get("id")?
        .as_str()?
        .strip_prefix("libvirt-")?
        .parse()
        .ok()
}

/// `{"execute": NAME, "arguments": {...}, "id": ID}` and its newline.
pub fn encode<C: qapi::Command>(command: &C, id: u64) -> serde_json::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(&qapi::Execute::new(command, Some(command_id(id))))?;
    line.push(b'\n');
    Ok(line)
}

/// The same command sent out-of-band (`exec-oob`): QEMU runs it in the
/// monitor's own thread, even while its main loop is blocked.
pub fn encode_oob<C: qapi::Command>(command: &C, id: u64) -> serde_json::Result<Vec<u8>> {
    let value = serde_json::to_value(qapi::Execute::new(command, Some(command_id(id))))?;
    let Value::Object(mut object) = value else {
        return serde_json::to_vec(&value);
    };
    if let Some(name) = object.remove("execute") {
        object.insert("exec-oob".into(), name);
    }
    let mut line = serde_json::to_vec(&object)?;
    line.push(b'\n');
    Ok(line)
}

/// A caller's own command object with our id added, and its newline
/// (`qemuMonitorJSONCommandWithFd`: an id already there is a duplicate key).
pub fn encode_object(
    mut command: serde_json::Map<String, Value>,
    id: u64,
) -> std::result::Result<Vec<u8>, String> {
    if command.contains_key("id") {
        return Err("duplicate key 'id'".into());
    }
    command.insert("id".into(), Value::String(command_id(id)));
    let mut line = serde_json::to_vec(&command).map_err(|e| e.to_string())?;
    line.push(b'\n');
    Ok(line)
}

/// What a reply object says: its `return`, or its `error`.
pub fn reply_of(value: &Value) -> Reply {
    if let Some(ret) = value.get("return") {
        return Reply::Return(ret.clone());
    }
    let err = value.get("error");
    let field = |k: &str| {
        err.and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Reply::Error {
        class: field("class"),
        desc: field("desc"),
    }
}

/// The monitor's lines, decoded one JSON value at a time.
pub struct Lines {
    reader: BufReader<OwnedReadHalf>,
    buf: String,
}

impl Lines {
    pub fn new(read: OwnedReadHalf) -> Lines {
        Lines {
            reader: BufReader::new(read),
            buf: String::new(),
        }
    }

    /// The next line as JSON; `None` at end of file. A line that is not
    /// JSON is logged and skipped.
    pub async fn next_value(&mut self) -> std::io::Result<Option<Value>> {
        loop {
            self.buf.clear();
            if self.reader.read_line(&mut self.buf).await? == 0 {
                return Ok(None);
            }
            match serde_json::from_str(&self.buf) {
                Ok(v) => return Ok(Some(v)),
                Err(e) => tracing::warn!(line = %self.buf.trim_end(), "bad QMP line: {e}"),
            }
        }
    }
}

/// Route every line until the monitor closes: replies to their waiting
/// command, events to `events`.
pub async fn read_loop(
    mut lines: Lines,
    pending: std::sync::Arc<Pending>,
    events: UnboundedSender<MonitorEvent>,
) {
    loop {
        match lines.next_value().await {
            Ok(Some(value)) => route(value, &pending, &events),
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("monitor read failed: {e}");
                break;
            }
        }
    }
    pending.close();
    let _ = events.send(MonitorEvent::Closed);
}

fn route(value: Value, pending: &Pending, events: &UnboundedSender<MonitorEvent>) {
    if let Some(name) = value.get("event").and_then(Value::as_str) {
        let name = name.to_string();
        let event = match serde_json::from_value::<qapi::qmp::Event>(value.clone()) {
            Ok(e) => MonitorEvent::Qmp(e),
            Err(_) => MonitorEvent::Other {
                name,
                data: value.get("data").cloned().unwrap_or(Value::Null),
            },
        };
        let _ = events.send(event);
        return;
    }
    let Some(id) = parse_command_id(&value) else {
        tracing::warn!(%value, "QMP reply without our id");
        return;
    };
    pending.answer(id, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_of_band_command_says_exec_oob() {
        let recover = qapi::qmp::migrate_recover {
            uri: "tcp:[::]:49152".into(),
        };
        let line = encode_oob(&recover, 7).unwrap();
        let sent: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(sent["exec-oob"], "migrate-recover");
        assert_eq!(sent["arguments"]["uri"], "tcp:[::]:49152");
        assert_eq!(sent["id"], "libvirt-7");
        assert!(sent.get("execute").is_none());
        assert!(line.ends_with(b"\n"));
        assert_eq!(parse_command_id(&sent), Some(7));
    }
}
