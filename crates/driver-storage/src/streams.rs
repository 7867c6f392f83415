//! Volume data over a stream (`virStorageBackendVolUploadLocal` and
//! `...DownloadLocal` through libvirt's fd streams): the file opened at
//! an offset, at most `length` bytes (0: to the end) moved, and, once an
//! upload finishes, the pool refreshed as libvirt's close callback does.

use parking_lot::Mutex;
use rvirt::stream::StreamBackend;
use rvirt_util::{Error, ErrorDomain, Result};

/// libvirt's fd streams report from VIR_FROM_STREAMS.
const ERROR_DOMAIN: ErrorDomain = ErrorDomain::STREAMS;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

/// What runs once an upload stream has finished.
pub type OnFinish = Box<dyn Fn() + Send + Sync>;

pub struct VolumeStream {
    file: Mutex<File>,
    path: String,
    /// Bytes left to move, `None` for no limit.
    left: Mutex<Option<u64>>,
    on_finish: Option<OnFinish>,
}

impl VolumeStream {
    /// `virFDStreamOpenBlockDevice` of `path` for writing (upload) or
    /// reading (download).
    pub fn open(
        path: &str,
        offset: u64,
        length: u64,
        write: bool,
        on_finish: Option<OnFinish>,
    ) -> Result<VolumeStream> {
        let mut file = OpenOptions::new()
            .read(!write)
            .write(write)
            .open(path)
            .map_err(|e| {
                Error::system(
                    ERROR_DOMAIN,
                    format!("Unable to open stream for '{path}'"),
                    &e,
                )
            })?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset)).map_err(|e| {
                Error::system(
                    ERROR_DOMAIN,
                    format!("Unable to seek {path} to {offset}"),
                    &e,
                )
            })?;
        }
        Ok(VolumeStream {
            file: Mutex::new(file),
            path: path.to_string(),
            left: Mutex::new((length > 0).then_some(length)),
            on_finish,
        })
    }

    fn io_error(&self, what: &str, e: &std::io::Error) -> Error {
        Error::system(ERROR_DOMAIN, format!("{what} '{}'", self.path), e)
    }
}

impl StreamBackend for VolumeStream {
    fn send(&self, data: &[u8]) -> Result<()> {
        let mut left = self.left.lock();
        let n = match *left {
            Some(0) => {
                let e = std::io::Error::from_raw_os_error(libc::ENOSPC);
                return Err(self.io_error("cannot write to stream", &e));
            }
            Some(l) => (l as usize).min(data.len()),
            None => data.len(),
        };
        self.file
            .lock()
            .write_all(&data[..n])
            .map_err(|e| self.io_error("cannot write to stream", &e))?;
        if let Some(l) = left.as_mut() {
            *l -= n as u64;
        }
        Ok(())
    }

    fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        let mut left = self.left.lock();
        let want = match *left {
            Some(l) => (l as usize).min(buf.len()),
            None => buf.len(),
        };
        if want == 0 {
            return Ok(0);
        }
        let n = self
            .file
            .lock()
            .read(&mut buf[..want])
            .map_err(|e| self.io_error("cannot read from stream", &e))?;
        if let Some(l) = left.as_mut() {
            *l -= n as u64;
        }
        Ok(n)
    }

    fn finish(&self) -> Result<()> {
        self.file
            .lock()
            .sync_all()
            .map_err(|e| self.io_error("cannot sync data to file", &e))?;
        if let Some(f) = &self.on_finish {
            f();
        }
        Ok(())
    }

    fn abort(&self) -> Result<()> {
        if let Some(f) = &self.on_finish {
            f();
        }
        Ok(())
    }
}
