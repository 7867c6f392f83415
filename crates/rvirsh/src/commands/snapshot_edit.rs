//! `snapshot-edit` (virsh's cmdSnapshotEdit over virsh-edit.c): the
//! snapshot's XML in `$VISUAL`/`$EDITOR`/vi, then redefined; a changed
//! name is a clone with `--clone`, a rename with `--rename` (the old
//! metadata deleted), else refused.

use super::snapshot::{domain, DOMAIN};
use super::{about, cmd, flag, string, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use rvirt::flags::{snapshot_create as create, snapshot_delete as del, xml::SECURE};
use rvirt::{Domain, DomainSnapshot};
use std::io::Write;
use std::path::PathBuf;

pub static COMMANDS: &[CommandDef] = &[cmd(
    "snapshot-edit",
    about(
        "edit XML for a snapshot",
        "Edit the domain snapshot XML for a named snapshot",
    ),
    &[
        DOMAIN,
        string("snapshotname", "snapshot name"),
        flag("current", "also set edited snapshot as current"),
        flag("rename", "allow renaming an existing snapshot"),
        flag("clone", "allow cloning to new name"),
    ],
    snapshot_edit,
)];

/// What `$EDITOR` and the temporary file's name may hold to be run
/// without a shell (vsh.c's ACCEPTED_CHARS).
fn plain(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-/_.:@".contains(c))
}

/// A temporary file removed when dropped (vshTempFile).
pub(crate) struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// vshEditWriteToTempFile: `$TMPDIR/virshXXXXXX.xml`, mode 0600.
pub(crate) fn write_temp(doc: &str) -> Result<TempFile, CmdError> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into());
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()) << 32;
    for _ in 0..100 {
        let suffix: String = (0..6)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                alphabet[(seed >> 58) as usize % alphabet.len()] as char
            })
            .collect();
        let path = PathBuf::from(format!("{dir}/virsh{suffix}.xml"));
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
        match opened {
            Ok(mut f) => {
                let file = TempFile(path);
                f.write_all(doc.as_bytes()).map_err(|e| {
                    CmdError::msg(format!(
                        "write: {}: failed to write to temporary file: {}",
                        file.0.display(),
                        rvirt_util::error::strerror(&e)
                    ))
                })?;
                return Ok(file);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(CmdError::msg(format!(
                    "g_mkstemp_full: failed to create temporary file: {}",
                    rvirt_util::error::strerror(&e)
                )))
            }
        }
    }
    Err(CmdError::msg(
        "g_mkstemp_full: failed to create temporary file: File exists",
    ))
}

/// vshEditFile: run the editor on the file, directly when its name is
/// plain, else through `sh -c`.
pub(crate) fn edit_file(file: &TempFile) -> Result<(), CmdError> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let name = file.0.display().to_string();
    let mut command = if plain(&editor) {
        let mut c = std::process::Command::new(&editor);
        c.arg(&name);
        c
    } else {
        if !plain(&name) {
            return Err(CmdError::msg(format!(
                "{name}: temporary filename contains shell meta or other unacceptable \
                 characters (is $TMPDIR wrong?)"
            )));
        }
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg(format!("{editor} {name}"));
        c
    };
    let shown = if plain(&editor) {
        format!("{editor} {name}")
    } else {
        format!("sh -c {editor} {name}")
    };
    let status = command.status().map_err(|e| {
        // libvirt's child reports its exec failure itself.
        eprintln!(
            "libvirt:  error : cannot execute binary {editor}: {}",
            rvirt_util::error::strerror(&e)
        );
        CmdError::msg(format!(
            "internal error: Child process ({shown}) unexpected exit status 127"
        ))
    })?;
    if !status.success() {
        let code = status.code().unwrap_or(-1);
        return Err(CmdError::msg(format!(
            "internal error: Child process ({shown}) unexpected exit status {code}"
        )));
    }
    Ok(())
}

pub(crate) fn read_back(file: &TempFile) -> Result<String, CmdError> {
    std::fs::read_to_string(&file.0).map_err(|e| {
        CmdError::msg(format!(
            "{}: failed to read temporary file: {}",
            file.0.display(),
            rvirt_util::error::strerror(&e)
        ))
    })
}

/// The edit itself (virsh-edit.c without a terminal to ask on): `None`
/// when nothing changed and nothing is to be redefined.
fn edit(
    snap: &DomainSnapshot,
    dom: &Domain,
    mut flags: u32,
) -> Result<Option<DomainSnapshot>, CmdError> {
    let doc = snap.get_xml_desc(SECURE)?;
    let file = write_temp(&doc)?;
    edit_file(&file)?;
    let edited = read_back(&file)?;
    if doc == edited && flags & create::CURRENT == 0 {
        return Ok(None);
    }
    let reread = snap.get_xml_desc(SECURE)?;
    if reread != doc {
        return Err(CmdError::msg(
            "The XML configuration was changed by another user.",
        ));
    }
    if doc.contains("<state>disk-snapshot</state>") {
        flags |= create::DISK_ONLY;
    }
    match dom.snapshot_create_xml(&edited, flags) {
        Ok(s) => Ok(Some(s)),
        // virsh asks to re-edit on a terminal; without one it gives up.
        Err(e) => Err(CmdError {
            own: Some("Failed.".into()),
            libvirt: Some(Box::new(e)),
        }),
    }
}

fn snapshot_edit(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    super::opts::exclusive(c, "rename", "clone")?;
    let mut flags = create::REDEFINE;
    if c.has("current") && c.has("snapshotname") {
        flags |= create::CURRENT;
    }
    let dom = domain(ctl, c)?;
    let snap = match super::opts::opt_string(c, "snapshotname")? {
        Some(n) => dom.snapshot_lookup_by_name(n, 0)?,
        None if c.has("current") => dom.snapshot_current(0)?,
        None => return Err(CmdError::msg("--snapshotname or --current is required")),
    };
    let name = snap.name().to_string();
    let failed = |mut e: CmdError| {
        let update = format!("Failed to update {name}");
        e.own = Some(match e.own.take() {
            Some(own) => format!("{own}\nerror: {update}"),
            None => update,
        });
        e
    };
    let edited = match edit(&snap, &dom, flags).map_err(failed)? {
        None => {
            ctl.print_extra(&format!("Snapshot {name} XML configuration not changed.\n"));
            return Ok(());
        }
        Some(s) => s,
    };
    let new = edited.name().to_string();
    if new == name {
        ctl.print_extra(&format!("Snapshot {name} edited.\n"));
        return Ok(());
    }
    if c.has("clone") {
        ctl.print_extra(&format!("Snapshot {name} cloned to {new}.\n"));
        return Ok(());
    }
    let rename = c.has("rename");
    let (doomed, doomed_name) = if rename {
        (&snap, &name)
    } else {
        (&edited, &new)
    };
    if let Err(e) = doomed.delete(del::METADATA_ONLY) {
        return Err(CmdError::msg(format!(
            "{}\nerror: Failed to clean up {doomed_name}\nerror: Failed to update {name}",
            e.message
        )));
    }
    if !rename {
        return Err(CmdError::msg(format!(
            "Must use --rename or --clone to change {name} to {new}\nerror: Failed to update {name}"
        )));
    }
    Ok(())
}
