//! Crashes that are not panics: a fault inside C code the daemon links
//! (Cyrus SASL, say) is a signal, which kills the fuzzer before
//! `catch_unwind` sees anything. A handler for the fatal signals saves the
//! input of the run in progress as `crash-TARGET-HASH.bin`, then lets the
//! signal kill the process as it would have (its handler is reset first).
//!
//! Writing a file from a signal handler is not async-signal-safe; the
//! process is dying anyway, and the input is taken only if its lock is
//! free (it is, during a run).

use crate::runner::{save, Current};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

struct Watched {
    current: Arc<Current>,
    target: &'static str,
    out: PathBuf,
}

static WATCHED: OnceLock<parking_lot::Mutex<Option<Watched>>> = OnceLock::new();

const FATAL: [libc::c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGABRT,
    libc::SIGFPE,
    libc::SIGILL,
];

/// Save `current`'s input (of `target`) into `out` on a fatal signal.
pub fn watch(current: Arc<Current>, target: &'static str, out: PathBuf) {
    let slot = WATCHED.get_or_init(|| parking_lot::Mutex::new(None));
    *slot.lock() = Some(Watched {
        current,
        target,
        out,
    });
    for sig in FATAL {
        // SAFETY: a plain sigaction install of a handler taking the
        // signal number; SA_RESETHAND restores the default for the raise.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fatal as *const () as usize;
            sa.sa_flags = libc::SA_RESETHAND | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_fatal(sig: libc::c_int) {
    if let Some(Some(w)) = WATCHED.get().and_then(|m| m.try_lock()).as_deref() {
        if w.current.running() {
            if let Some(input) = w.current.input.try_lock() {
                let file = save(&w.out, "crash", w.target, &input);
                eprintln!(
                    "{}: SIGNAL {sig} in a run; input in {}",
                    w.target,
                    file.display()
                );
            }
        }
    }
    // SAFETY: the handler was reset (SA_RESETHAND): this re-raises the
    // signal with its default action, killing the process.
    unsafe {
        libc::raise(sig);
    }
}
