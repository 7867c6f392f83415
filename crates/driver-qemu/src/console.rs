//! Guest consoles (libvirt's `qemuDomainOpenConsole` with virchrdev.c):
//! after a start, QMP `query-chardev` tells which pty QEMU gave each
//! `<serial type='pty'>` / `<console type='pty'>`, recorded in the live
//! XML as `<source path='/dev/pts/N'/>`; `virDomainOpenConsole` binds a
//! stream to that pty, one session per device at a time.

use crate::driver::Driver;
use crate::ops::running;
use crate::state::Running;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use parking_lot::Mutex;
use rvirt::driver::DomainRef;
use rvirt::{Stream, StreamBackend};
use rvirt_conf::domain::chardev::ChrType;
use rvirt_conf::domain::serial::{Chr, ConsoleTarget};
use rvirt_conf::DomainDef;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

/// `VIR_DOMAIN_CONSOLE_FORCE`, `VIR_DOMAIN_CONSOLE_SAFE`.
pub const CONSOLE_FORCE: u32 = 1;
pub const CONSOLE_SAFE: u32 = 2;

/// How often a blocked read looks whether its stream was closed.
const POLL_MS: u16 = 200;

/// `query-chardev`.
#[derive(Debug, Clone, Serialize, Default)]
struct QueryChardev {}

crate::monitor::qmp_command!(QueryChardev = "query-chardev" => Vec<ChardevInfo>);

#[derive(Debug, Clone, Deserialize)]
struct ChardevInfo {
    label: String,
    filename: String,
}

/// The open console sessions of one run, by pty path.
#[derive(Default)]
pub struct Consoles {
    open: Mutex<HashMap<String, Weak<PtyStream>>>,
}

/// The QEMU chardev id behind a serial port or console (libvirt's aliases:
/// a console on a serial target shares `serial<port>`'s chardev).
fn serial_chardev(i: usize) -> String {
    format!("charserial{i}")
}

pub(crate) fn console_alias(def: &DomainDef, i: usize, c: &Chr) -> String {
    let on_serial = matches!(c.console_target(), None | Some(ConsoleTarget::Serial));
    match c.target_port {
        Some(port) if i == 0 && on_serial && !def.devices.serials.is_empty() => {
            format!("serial{port}")
        }
        _ => format!("console{i}"),
    }
}

/// Ask QEMU for its chardevs and record each pty's path in the live
/// definition `def`.
pub fn record_ptys(driver: &Driver, run: &Arc<Running>, def: &mut DomainDef) -> Result<()> {
    let sent = run.clone();
    let infos = driver
        .rt
        .run(async move { sent.monitor.execute(QueryChardev {}).await })?;
    let pty_of = |label: &str| {
        infos
            .iter()
            .find(|c| c.label == label)
            .and_then(|c| c.filename.strip_prefix("pty:"))
            .map(str::to_string)
    };
    for (i, serial) in def.devices.serials.iter_mut().enumerate() {
        if serial.source.chr_type == ChrType::Pty {
            serial.source.path = pty_of(&serial_chardev(i));
        }
    }
    let consoles = def.devices.consoles.clone();
    for (i, c) in consoles.iter().enumerate() {
        if c.source.chr_type != ChrType::Pty {
            continue;
        }
        let alias = console_alias(def, i, c);
        def.devices.consoles[i].source.path = pty_of(&format!("char{alias}"));
    }
    Ok(())
}

/// The pty of the device `dev_name` names (`None`: the first console, else
/// the first serial port), with libvirt's errors.
fn find_pty(def: &DomainDef, dev_name: Option<&str>) -> Result<Option<String>> {
    let d = &def.devices;
    let consoles = d.consoles.iter().enumerate();
    let serials = d.serials.iter().enumerate();
    let mut devices = consoles
        .map(|(i, c)| (console_alias(def, i, c), c))
        .chain(serials.map(|(i, s)| (format!("serial{i}"), s)));
    let found = match dev_name {
        Some(name) => devices.find(|(alias, _)| alias == name),
        None => devices.next(),
    };
    let (alias, chr) = found.ok_or_else(|| {
        let shown = dev_name.unwrap_or("<null>");
        Error::internal(
            ErrorDomain::QEMU,
            format!("cannot find character device {shown}"),
        )
    })?;
    if chr.source.chr_type != ChrType::Pty {
        return Err(Error::internal(
            ErrorDomain::QEMU,
            format!("character device {alias} is not using a PTY"),
        ));
    }
    Ok(chr.source.path.clone())
}

/// `virDomainOpenConsole` on a running guest.
pub fn open(
    driver: &Driver,
    dom: &DomainRef,
    dev_name: Option<&str>,
    st: &Stream,
    flags: u32,
) -> Result<()> {
    crate::connection::check_flags("qemuDomainOpenConsole", flags, CONSOLE_FORCE | CONSOLE_SAFE)?;
    let run = running(driver, dom)?;
    let path = {
        let domains = driver.domains.lock();
        find_pty(&domains.get(dom)?.def, dev_name)?
    };
    let path =
        path.ok_or_else(|| Error::internal(ErrorDomain::QEMU, "character device has no pty path"))?;
    let mut open = run.consoles.open.lock();
    if let Some(old) = open.get(&path).and_then(Weak::upgrade) {
        if old.is_open() {
            if flags & CONSOLE_FORCE == 0 {
                return Err(Error::new(
                    ErrorDomain::QEMU,
                    ErrorCode::OPERATION_FAILED,
                    "Active console session exists for this domain",
                ));
            }
            old.close();
        }
    }
    let pty = Arc::new(PtyStream::open(&path)?);
    st.attach(pty.clone())?;
    open.insert(path, Arc::downgrade(&pty));
    Ok(())
}

/// A stream on the guest's pty (libvirt's `virFDStreamOpenPTY`: raw mode,
/// end of input when QEMU closes its side).
pub struct PtyStream {
    file: File,
    closed: AtomicBool,
}

impl PtyStream {
    fn open(path: &str) -> Result<PtyStream> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)
            .map_err(|e| {
                Error::system(ErrorDomain::STREAMS, format!("Unable to open {path}"), &e)
            })?;
        if let Ok(mut t) = nix::sys::termios::tcgetattr(file.as_fd()) {
            nix::sys::termios::cfmakeraw(&mut t);
            let _ =
                nix::sys::termios::tcsetattr(file.as_fd(), nix::sys::termios::SetArg::TCSANOW, &t);
        }
        Ok(PtyStream {
            file,
            closed: AtomicBool::new(false),
        })
    }

    fn is_open(&self) -> bool {
        !self.closed.load(Ordering::SeqCst)
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    fn io_error(e: std::io::Error) -> Error {
        Error::system(ErrorDomain::STREAMS, "cannot use the console pty", &e)
    }
}

impl StreamBackend for PtyStream {
    fn send(&self, data: &[u8]) -> Result<()> {
        (&self.file).write_all(data).map_err(Self::io_error)
    }

    /// Waits for output; `Ok(0)` once QEMU is gone or the stream closed.
    fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        while self.is_open() {
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(POLL_MS)) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                Ok(_) => {}
                Err(e) => return Err(Self::io_error(e.into())),
            }
            return match (&self.file).read(buf) {
                Ok(n) => Ok(n),
                // The master side closed: QEMU exited.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(0),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(Self::io_error(e)),
            };
        }
        Ok(0)
    }

    fn finish(&self) -> Result<()> {
        self.close();
        Ok(())
    }

    fn abort(&self) -> Result<()> {
        self.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(xml_devices: &str) -> DomainDef {
        let xml = format!(
            "<domain type='qemu'><name>c</name><memory>65536</memory>\
             <os><type arch='x86_64' machine='pc'>hvm</type></os>\
             <devices>{xml_devices}</devices></domain>"
        );
        DomainDef::parse(&xml).unwrap()
    }

    #[test]
    fn finds_devices_by_alias_and_default() {
        let mut d = def("<serial type='pty'><target port='0'/></serial>\
             <console type='pty'><target type='serial' port='0'/></console>\
             <serial type='null'><target port='1'/></serial>");
        d.devices.serials[0].source.path = Some("/dev/pts/7".into());
        d.devices.consoles[0].source.path = Some("/dev/pts/7".into());
        assert_eq!(find_pty(&d, None).unwrap().as_deref(), Some("/dev/pts/7"));
        assert_eq!(
            find_pty(&d, Some("serial0")).unwrap().as_deref(),
            Some("/dev/pts/7")
        );
        let e = find_pty(&d, Some("serial1")).unwrap_err();
        assert!(e.message.contains("serial1 is not using a PTY"), "{e}");
        let e = find_pty(&d, Some("nope")).unwrap_err();
        assert_eq!(e.code, ErrorCode::INTERNAL_ERROR);
        assert!(e.message.contains("cannot find character device nope"));
    }
}
