//! virsh's credential prompts (`virConnectAuthCallbackDefault`): each
//! credential's prompt on stdout, the answer from stdin; a password is
//! read without echo when stdin is a terminal (virsh's `getpass`).

use rvirt_driver_remote::sasl::auth::{set_auth, Auth, CredType, Credential};
use std::io::{BufRead, Write};
use std::sync::Arc;

/// The types virsh's default callback offers.
const TYPES: &[CredType] = &[
    CredType::Authname,
    CredType::EchoPrompt,
    CredType::Realm,
    CredType::Passphrase,
    CredType::NoEchoPrompt,
    CredType::External,
];

/// Make the prompts the callback of every connection rvirsh opens.
pub fn install() {
    set_auth(Some(Auth {
        types: TYPES.to_vec(),
        callback: Arc::new(prompt_all),
    }));
}

fn prompt_all(creds: &mut [Credential]) -> Result<(), ()> {
    for c in creds.iter_mut() {
        let answer = match c.kind {
            CredType::External => {
                // Only polkit's "external" credential is carried on.
                if c.challenge.as_deref() != Some("PolicyKit") {
                    return Err(());
                }
                continue;
            }
            CredType::Username | CredType::Authname | CredType::EchoPrompt | CredType::Realm => {
                ask(&c.prompt, true)?
            }
            CredType::Passphrase | CredType::NoEchoPrompt => ask(&c.prompt, false)?,
            _ => return Err(()),
        };
        c.result = Some(
            answer
                .filter(|a| !a.is_empty())
                .or_else(|| c.defresult.clone())
                .unwrap_or_default(),
        );
    }
    Ok(())
}

/// Print `prompt: ` and read a line (EOF reads as nothing).
fn ask(prompt: &str, echo: bool) -> Result<Option<String>, ()> {
    let mut out = std::io::stdout();
    write!(out, "{prompt}: ")
        .and_then(|()| out.flush())
        .map_err(drop)?;
    let stdin = std::io::stdin();
    let restore = if echo { None } else { echo_off(&stdin) };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = restore {
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSAFLUSH, &saved);
        let _ = writeln!(out);
    }
    match read {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(line.trim_end_matches(['\n', '\r']).to_string())),
        Err(_) => Err(()),
    }
}

/// Turn the terminal's echo off; its previous settings, None when stdin
/// is not a terminal.
fn echo_off(stdin: &std::io::Stdin) -> Option<nix::sys::termios::Termios> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let saved = tcgetattr(stdin).ok()?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(stdin, SetArg::TCSAFLUSH, &quiet).ok()?;
    Some(saved)
}
