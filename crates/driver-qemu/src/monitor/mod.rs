//! The QMP monitor (libvirt's `qemu_monitor.c` / `qemu_monitor_json.c`):
//! one unix socket per guest, commands typed by the `qapi-qmp` crate (QEMU's
//! own schema), replies matched by id, events handed to a channel, and a
//! deadline on every command so a hung QEMU costs the caller an error and
//! never a daemon thread.
//!
//! The transport is ours rather than `qapi`'s `QmpStreamTokio`, for two
//! reasons found against QEMU 7.2: that stream ends for good at the first
//! line its (newer) schema cannot decode — `query-machines` lacks the
//! `acpi` member the schema requires, and an event's data may differ — and
//! its framed writer cannot attach file descriptors (SCM_RIGHTS) to a
//! command, which `getfd` needs. Commands and their reply types still come
//! from the crate; only the lines are read here, each on its own.

/// `qapi::Command` for a command type of the driver's own: its QMP name
/// and the type its reply decodes to (never out-of-band).
macro_rules! qmp_command {
    ($ty:ty = $name:literal => $ok:ty) => {
        impl qapi::Command for $ty {
            type Ok = $ok;
            const NAME: &'static str = $name;
            const ALLOW_OOB: bool = false;
        }
    };
}
pub(crate) use qmp_command;

mod commands;
mod wire;

pub use commands::{MachineInfo, QueryMachines};
pub use wire::MonitorEvent;

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::mpsc::UnboundedSender;
use wire::{Pending, Reply};

/// How long a command may take unless the caller says otherwise.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A connected, negotiated QMP monitor.
pub struct Monitor {
    path: PathBuf,
    writer: tokio::sync::Mutex<tokio::net::unix::OwnedWriteHalf>,
    pending: Arc<Pending>,
    timeout: Duration,
    reader: tokio::task::JoinHandle<()>,
    /// QEMU offered out-of-band execution and it was enabled.
    oob: bool,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// `VIR_ERR_OPERATION_TIMEOUT` for a command QEMU did not answer in time.
fn timed_out(what: &str, path: &Path, after: Duration) -> Error {
    Error::new(
        ErrorDomain::QEMU,
        ErrorCode::OPERATION_TIMEOUT,
        format!(
            "monitor '{}' timed out after {} s waiting for {what}",
            path.display(),
            after.as_secs_f32()
        ),
    )
}

fn monitor_io(path: &Path, err: &std::io::Error) -> Error {
    Error::new(
        ErrorDomain::QEMU,
        ErrorCode::OPERATION_FAILED,
        format!(
            "failed to talk to the monitor '{}': {}",
            path.display(),
            rvirt_util::error::strerror(err)
        ),
    )
}

impl Monitor {
    /// Connect to `path`, read QEMU's greeting and leave capabilities
    /// negotiation mode (`qmp_capabilities`), all within `timeout`. Events
    /// from then on go to `events`, ending with [`MonitorEvent::Closed`].
    pub async fn connect(
        path: &Path,
        timeout: Duration,
        events: UnboundedSender<MonitorEvent>,
    ) -> Result<Monitor> {
        let stream = tokio::time::timeout(timeout, UnixStream::connect(path))
            .await
            .map_err(|_| timed_out("the connection", path, timeout))?
            .map_err(|e| {
                Error::system(
                    ErrorDomain::QEMU,
                    format!("failed to connect to monitor socket '{}'", path.display()),
                    &e,
                )
            })?;
        let (read, write) = stream.into_split();
        let pending = Arc::new(Pending::default());
        let mut lines = wire::Lines::new(read);
        let greeting = tokio::time::timeout(timeout, lines.next_value())
            .await
            .map_err(|_| timed_out("the QMP greeting", path, timeout))?
            .map_err(|e| monitor_io(path, &e))?;
        if greeting.as_ref().and_then(|g| g.get("QMP")).is_none() {
            return Err(Error::internal(
                ErrorDomain::QEMU,
                format!("no QMP greeting on monitor '{}'", path.display()),
            ));
        }
        // Out-of-band commands (post-copy recovery's `migrate-recover`)
        // run even while QEMU's main loop waits for a missing page.
        let oob = greeting
            .as_ref()
            .and_then(|g| g.pointer("/QMP/capabilities"))
            .and_then(|c| c.as_array())
            .is_some_and(|caps| caps.iter().any(|c| c == "oob"));
        let reader = tokio::spawn(wire::read_loop(lines, pending.clone(), events));
        let monitor = Monitor {
            path: path.to_path_buf(),
            writer: tokio::sync::Mutex::new(write),
            pending,
            timeout,
            reader,
            oob,
        };
        let enable = oob.then(|| vec![qapi::qmp::QMPCapability::oob]);
        monitor
            .execute(qapi::qmp::qmp_capabilities { enable })
            .await?;
        Ok(monitor)
    }

    /// The deadline of every later command (the one given to `connect`
    /// also bounded the connection and negotiation).
    pub fn with_timeout(mut self, timeout: Duration) -> Monitor {
        self.timeout = timeout;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run one command and decode its reply, within the monitor's timeout.
    pub async fn execute<C: qapi::Command>(&self, command: C) -> Result<C::Ok> {
        self.execute_within(command, self.timeout, None).await
    }

    /// Hand QEMU a file descriptor under `name` (`getfd`), sent with the
    /// command as SCM_RIGHTS ancillary data.
    pub async fn send_fd(&self, name: &str, fd: BorrowedFd<'_>) -> Result<()> {
        let command = qapi::qmp::getfd {
            fdname: name.to_string(),
        };
        self.execute_within(command, self.timeout, Some(fd))
            .await
            .map(|_| ())
    }

    /// Run a command out-of-band when QEMU allows it (`exec-oob`, for the
    /// commands QEMU's schema marks `allow-oob`), else as any other.
    pub async fn execute_oob<C: qapi::Command>(&self, command: C) -> Result<C::Ok> {
        let oob = self.oob && C::ALLOW_OOB;
        self.send(command, self.timeout, None, oob).await
    }

    /// [`Self::execute`] with an explicit deadline and an optional fd.
    pub async fn execute_within<C: qapi::Command>(
        &self,
        command: C,
        timeout: Duration,
        fd: Option<BorrowedFd<'_>>,
    ) -> Result<C::Ok> {
        self.send(command, timeout, fd, false).await
    }

    async fn send<C: qapi::Command>(
        &self,
        command: C,
        timeout: Duration,
        fd: Option<BorrowedFd<'_>>,
        oob: bool,
    ) -> Result<C::Ok> {
        let (id, reply) = self.pending.register();
        let encoded = match oob {
            true => wire::encode_oob(&command, id),
            false => wire::encode(&command, id),
        };
        let line = encoded.map_err(|e| {
            Error::internal(ErrorDomain::QEMU, format!("cannot encode {}: {e}", C::NAME))
        })?;
        let exchange = async {
            self.write_line(&line, fd).await?;
            reply.await.map_err(|_| wire::closed_error())
        };
        let result = tokio::time::timeout(timeout, exchange).await;
        self.pending.forget(id);
        let value = match result.map(|r| r.map(|raw| wire::reply_of(&raw))) {
            Err(_) => return Err(timed_out(&format!("'{}'", C::NAME), &self.path, timeout)),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Reply::Error { class, desc })) => {
                tracing::debug!(command = C::NAME, class, "QMP error reply");
                return Err(Error::internal(
                    ErrorDomain::QEMU,
                    format!("unable to execute QEMU command '{}': {desc}", C::NAME),
                ));
            }
            Ok(Ok(Reply::Return(v))) => v,
        };
        serde_json::from_value(value).map_err(|e| {
            Error::internal(
                ErrorDomain::QEMU,
                format!("unexpected reply to QEMU command '{}': {e}", C::NAME),
            )
        })
    }

    /// `virsh qemu-monitor-command`: the caller's JSON command as it is,
    /// with our id, and QEMU's whole reply object back as compact JSON
    /// (an error reply is a result here, not a failure, as in libvirt's
    /// `qemuMonitorJSONArbitraryCommand`).
    pub async fn execute_arbitrary(&self, command: &str) -> Result<String> {
        let parsed: serde_json::Value = serde_json::from_str(command).map_err(|e| {
            Error::internal(
                ErrorDomain::QEMU,
                format!("cannot parse json {command}: {e}"),
            )
        })?;
        let serde_json::Value::Object(object) = parsed else {
            return Err(Error::internal(ErrorDomain::QEMU, "expecting JSON object"));
        };
        let (id, reply) = self.pending.register();
        let exchange = async {
            let line = wire::encode_object(object, id)
                .map_err(|e| Error::internal(ErrorDomain::QEMU, e))?;
            self.write_line(&line, None).await?;
            reply.await.map_err(|_| wire::closed_error())
        };
        let result = tokio::time::timeout(self.timeout, exchange).await;
        self.pending.forget(id);
        match result {
            Err(_) => Err(timed_out(
                "a passed-through command",
                &self.path,
                self.timeout,
            )),
            Ok(reply) => Ok(reply?.to_string()),
        }
    }

    async fn write_line(&self, line: &[u8], fd: Option<BorrowedFd<'_>>) -> Result<()> {
        let writer = self.writer.lock().await;
        let io = match fd {
            None => {
                use tokio::io::AsyncWriteExt;
                let mut writer = writer;
                writer.write_all(line).await
            }
            Some(fd) => send_with_fd(writer.as_ref(), line, fd).await,
        };
        io.map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => {
                wire::closed_error()
            }
            _ => monitor_io(&self.path, &e),
        })
    }
}

/// Write `line` with `fd` attached; the descriptor rides on the first byte
/// sent, which QEMU keeps for the command that line carries.
async fn send_with_fd(stream: &UnixStream, line: &[u8], fd: BorrowedFd<'_>) -> std::io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [fd.as_raw_fd()];
    let mut sent = 0;
    while sent < line.len() {
        stream.writable().await?;
        let attach = sent == 0;
        let result = stream.try_io(tokio::io::Interest::WRITABLE, || {
            let iov = [std::io::IoSlice::new(&line[sent..])];
            let cmsgs = [ControlMessage::ScmRights(&fds)];
            let cmsgs: &[ControlMessage] = if attach { &cmsgs } else { &[] };
            sendmsg::<()>(
                stream.as_raw_fd(),
                &iov,
                cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            )
            .map_err(std::io::Error::from)
        });
        match result {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
