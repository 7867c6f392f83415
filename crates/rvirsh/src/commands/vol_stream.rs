//! virsh's vol-upload and vol-download (tools/virsh-volume.c): a file's
//! bytes to a volume, or a volume's to a file, over a stream. rvirt's
//! streams carry no holes: `--sparse` asks the driver for a sparse stream
//! and the data then travels whole.

use super::opts::{opt_string, opt_ul_wrap, opt_ull};
use super::volume::{vol, POOL_OPT, VOL};
use super::{about, cmd, data, flag, int, CommandDef};
use crate::parse::ParsedCommand;
use crate::shell::{CmdError, CmdResult, Ctl};
use std::io::{Read, Write};

pub static COMMANDS: &[CommandDef] = &[
    cmd(
        "vol-download",
        about(
            "download volume contents to a file",
            "Download volume contents to a file",
        ),
        &[
            VOL,
            data("file", "file"),
            POOL_OPT,
            int("offset", "volume offset to download from"),
            int("length", "amount of data to download"),
            flag("sparse", "preserve sparseness of volume"),
        ],
        vol_download,
    ),
    cmd(
        "vol-upload",
        about(
            "upload file contents to a volume",
            "Upload file contents to a volume",
        ),
        &[
            VOL,
            data("file", "file"),
            POOL_OPT,
            int("offset", "volume offset to upload to"),
            int("length", "amount of data to upload"),
            flag("sparse", "preserve sparseness of volume"),
        ],
        vol_upload,
    ),
];

/// The bytes of a stream's chunks (virsh's buffer size).
const CHUNK: usize = 256 * 1024;

fn vol_upload(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let offset = opt_ull(c, "offset")?.unwrap_or(0);
    let length = opt_ul_wrap(c, "length")?.unwrap_or(0);
    let v = vol(ctl, c)?;
    let name = c.get("vol").unwrap_or_default();
    let file = opt_string(c, "file")?.unwrap_or_default();
    let mut f =
        std::fs::File::open(file).map_err(|_| CmdError::msg(format!("cannot read {file}")))?;
    f.metadata()
        .map_err(|_| CmdError::msg(format!("unable to stat {file}")))?;
    let flags = u32::from(c.has("sparse"));
    let st = rvirt::Stream::new(ctl.conn()?, 0)
        .map_err(|e| CmdError::with("cannot create a new stream", e))?;
    v.upload(&st, offset, length, flags)
        .map_err(|e| CmdError::with(format!("cannot upload to volume {name}"), e))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match f.read(&mut buf) {
            Ok(n) => n,
            Err(_) => {
                let _ = st.abort();
                return Err(CmdError::msg(format!("cannot send data to volume {name}")));
            }
        };
        if n == 0 {
            break;
        }
        st.send(&buf[..n])
            .map_err(|e| CmdError::with(format!("cannot send data to volume {name}"), e))?;
    }
    st.finish()
        .map_err(|e| CmdError::with(format!("cannot close volume {name}"), e))
}

/// The download's target: created (and removed again on failure) or
/// truncated, as virsh opens it.
struct Target {
    file: std::fs::File,
    path: String,
    created: bool,
    done: bool,
}

impl Drop for Target {
    fn drop(&mut self) {
        if self.created && !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn open_target(path: &str) -> Result<Target, CmdError> {
    use std::fs::OpenOptions;
    let cannot = || CmdError::msg(format!("cannot create {path}"));
    let (file, created) = match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => (f, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let f = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .map_err(|_| cannot())?;
            (f, false)
        }
        Err(_) => return Err(cannot()),
    };
    Ok(Target {
        file,
        path: path.to_string(),
        created,
        done: false,
    })
}

fn vol_download(ctl: &mut Ctl, c: &ParsedCommand) -> CmdResult {
    let offset = opt_ull(c, "offset")?.unwrap_or(0);
    let length = opt_ul_wrap(c, "length")?.unwrap_or(0);
    let v = vol(ctl, c)?;
    let name = c.get("vol").unwrap_or_default();
    let file = opt_string(c, "file")?.unwrap_or_default();
    let flags = u32::from(c.has("sparse"));
    let mut target = open_target(file)?;
    target
        .file
        .metadata()
        .map_err(|_| CmdError::msg(format!("unable to stat {file}")))?;
    let st = rvirt::Stream::new(ctl.conn()?, 0)
        .map_err(|e| CmdError::with("cannot create a new stream", e))?;
    v.download(&st, offset, length, flags)
        .map_err(|e| CmdError::with(format!("cannot download from volume {name}"), e))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = st
            .recv(&mut buf)
            .map_err(|e| CmdError::with(format!("cannot receive data from volume {name}"), e))?;
        if n == 0 {
            break;
        }
        if target.file.write_all(&buf[..n]).is_err() {
            let _ = st.abort();
            return Err(CmdError::msg(format!(
                "cannot receive data from volume {name}"
            )));
        }
    }
    if target.file.sync_all().is_err() {
        let _ = st.abort();
        return Err(CmdError::msg(format!("cannot close file {file}")));
    }
    st.finish()
        .map_err(|e| CmdError::with(format!("cannot close volume {name}"), e))?;
    target.done = true;
    Ok(())
}
