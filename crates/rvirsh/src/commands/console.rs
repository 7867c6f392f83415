//! `console` (virsh's cmdConsole with virsh-console.c): the guest's
//! console through `virDomainOpenConsole`, the terminal in raw mode, `^]`
//! to leave.

use super::{about, cmd, data, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl, BY_ANY};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, SetArg, Termios};
use rvirt::{DomainState, Stream};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub static COMMANDS: &[CommandDef] = &[cmd(
    "console",
    about(
        "connect to the guest console",
        "Connect the virtual serial console for the guest",
    ),
    &[
        data("domain", "domain name, id or uuid"),
        string("devname", "character device name"),
        flag(
            "force",
            "force console connection (disconnect already connected sessions)",
        ),
        flag("safe", "only connect if safe console handling is supported"),
    ],
    console,
)];

/// virsh's default escape character, `^]`.
const ESCAPE: u8 = 0x1d;

/// `VIR_DOMAIN_CONSOLE_FORCE`, `VIR_DOMAIN_CONSOLE_SAFE`.
const CONSOLE_FORCE: u32 = 1;
const CONSOLE_SAFE: u32 = 2;

/// How often the keyboard loop looks whether the guest's side ended.
const POLL_MS: u16 = 200;

fn console(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let dom = ctl.lookup_domain(c.get("domain").unwrap_or_default(), BY_ANY)?;
    let flags = [("force", CONSOLE_FORCE), ("safe", CONSOLE_SAFE)]
        .iter()
        .filter(|(name, _)| c.has(name))
        .fold(0, |acc, (_, bit)| acc | bit);
    let (state, _) = dom
        .get_state()
        .map_err(|e| CmdError::with("Unable to get domain status", e))?;
    if state == DomainState::Shutoff {
        return Err(CmdError::msg("The domain is not running"));
    }
    let stdin = std::io::stdin();
    if !std::io::IsTerminal::is_terminal(&stdin) {
        return Err(CmdError::msg(
            "Cannot run interactive console without a controlling TTY",
        ));
    }
    ctl.print_extra(&format!("Connected to domain '{}'\n", dom.name()));
    ctl.print_extra("Escape character is ^] (Ctrl + ])\n");
    let _ = std::io::stdout().flush();
    let st = Stream::new(ctl.conn()?, 0)?;
    dom.open_console(c.get("devname"), &st, flags)?;
    let _raw = RawTerminal::enter();
    run(&st)
}

/// Copy the guest's output to the terminal on a thread and the keyboard to
/// the guest here, until `^]` (finish), the guest's end or an error.
fn run(st: &Stream) -> CmdResult {
    let guest_done = Arc::new(AtomicBool::new(false));
    let leaving = Arc::new(AtomicBool::new(false));
    let output = {
        let (st, done, leaving) = (st.clone(), guest_done.clone(), leaving.clone());
        std::thread::spawn(move || {
            let res = copy_output(&st, &leaving);
            done.store(true, Ordering::SeqCst);
            res
        })
    };
    let typed = copy_keyboard(st, &guest_done);
    leaving.store(true, Ordering::SeqCst);
    // Either way the stream ends here: finish on ^] or the guest's end.
    let ended = match typed {
        Ok(()) => st.finish(),
        Err(e) => {
            let _ = st.abort();
            Err(e)
        }
    };
    let shown = output.join().unwrap_or(Ok(()));
    ended.and(shown).map_err(CmdError::from)
}

/// The guest's output to the terminal, until its end; once this side is
/// `leaving`, the stream closing under the read is no error.
fn copy_output(st: &Stream, leaving: &AtomicBool) -> rvirt_util::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = std::io::stdout();
    loop {
        match st.recv(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                let _ = out.write_all(&buf[..n]);
                let _ = out.flush();
            }
            Err(_) if leaving.load(Ordering::SeqCst) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

fn copy_keyboard(st: &Stream, guest_done: &AtomicBool) -> rvirt_util::Result<()> {
    let stdin = std::io::stdin();
    let mut buf = [0u8; 1024];
    while !guest_done.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(POLL_MS)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
        let n = match stdin.lock().read(&mut buf) {
            Ok(0) | Err(_) => return Ok(()),
            Ok(n) => n,
        };
        // As virsh: the escape character leaves when it starts a read.
        if buf[0] == ESCAPE {
            return Ok(());
        }
        st.send(&buf[..n])?;
    }
    Ok(())
}

/// The terminal in raw mode (`cfmakeraw`) until dropped, as virsh's
/// `vshTTYMakeRaw` / `vshTTYRestore`.
struct RawTerminal {
    saved: Option<Termios>,
}

impl RawTerminal {
    fn enter() -> RawTerminal {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok();
        if let Some(mut raw) = saved.clone() {
            termios::cfmakeraw(&mut raw);
            let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSAFLUSH, &raw);
        }
        RawTerminal { saved }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSAFLUSH, saved);
        }
    }
}
