//! Running the host tools libvirt's storage backends run (`mount`,
//! `umount`, `mkfs`, `qemu-img`), with `virCommandRun`'s error: "Child
//! process (ARGV) unexpected exit status N: STDERR", from util code
//! (VIR_FROM_NONE) as libvirt's vircommand.c reports it.

use rvirt_util::{Error, ErrorDomain, Result};

const ERROR_DOMAIN: ErrorDomain = ErrorDomain::NONE;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `virFindFileInPath`.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Run `program ARGS`; its stdout, or libvirt's error for a failure.
pub fn run(program: &Path, args: &[&str]) -> Result<String> {
    let argv = std::iter::once(program.display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| Error::system(ERROR_DOMAIN, format!("Cannot run '{argv}'"), &e))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let status = match (
        out.status.code(),
        std::os::unix::process::ExitStatusExt::signal(&out.status),
    ) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("fatal signal {s}"),
        _ => "status".to_string(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stderr = stderr.trim_end();
    let detail = if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    };
    Err(Error::internal(
        ERROR_DOMAIN,
        format!("Child process ({argv}) unexpected {status}{detail}"),
    ))
}

/// Run a tool found in PATH, or say it is missing as `what` explains.
pub fn run_tool(name: &str, args: &[&str], missing: &str) -> Result<String> {
    let program = find_in_path(name).ok_or_else(|| Error::internal(ERROR_DOMAIN, missing))?;
    run(&program, args)
}
