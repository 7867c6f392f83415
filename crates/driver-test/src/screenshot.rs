//! The test driver's screenshot (libvirt's `testDomainScreenshot`): always
//! libvirt's own test image, `image/png`, whichever domain and screen is
//! asked for (libvirt looks neither up); the stream reads it to its end.

use parking_lot::Mutex;
use rvirt::stream::StreamBackend;
use rvirt::Stream;
use rvirt_util::{Error, ErrorDomain, Result};
use std::sync::Arc;

/// libvirt 9.0's test image as its package installs it
/// (`PKGDATADIR/test-screenshot.png`, Debian's libvirt0 9.0.0: the same
/// picture as `src/test/test-screenshot.png`, its PNG chunks as the
/// build left them), byte for byte what a stock libvirtd streams.
const IMAGE: &[u8] = include_bytes!("defaults/test-screenshot.png");
const MIME: &str = "image/png";

/// Bind `st` to the test image; its MIME type.
pub fn take(st: &Stream, flags: u32) -> Result<Option<String>> {
    crate::check_flags("testDomainScreenshot", flags, 0)?;
    st.attach(Arc::new(ImageStream {
        left: Mutex::new(IMAGE),
    }))?;
    Ok(Some(MIME.to_string()))
}

/// A read-only stream of an image held in memory, as libvirt's fd stream
/// of a file opened `O_RDONLY`.
struct ImageStream {
    left: Mutex<&'static [u8]>,
}

impl StreamBackend for ImageStream {
    /// The file was opened read-only: writing fails as a write to it would.
    fn send(&self, _data: &[u8]) -> Result<()> {
        Err(Error::system(
            ErrorDomain::STREAMS,
            "cannot write to stream",
            &std::io::Error::from_raw_os_error(libc::EBADF),
        ))
    }

    fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        let mut left = self.left.lock();
        let n = buf.len().min(left.len());
        buf[..n].copy_from_slice(&left[..n]);
        *left = &left[n..];
        Ok(n)
    }

    fn finish(&self) -> Result<()> {
        Ok(())
    }

    fn abort(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt_util::ErrorCode;

    #[test]
    fn screenshot_streams_libvirts_test_image() {
        crate::register();
        let conn = rvirt::Connect::open("test:///default").unwrap();
        let dom = conn.lookup_by_name("test").unwrap();
        let st = Stream::new(&conn, 0).unwrap();
        assert_eq!(dom.screenshot(&st, 0, 0).unwrap().as_deref(), Some(MIME));
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = st.recv(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got.len(), 33443);
        assert!(got.starts_with(b"\x89PNG\r\n\x1a\n"));
        let st = Stream::new(&conn, 0).unwrap();
        let e = dom.screenshot(&st, 0, 1).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);
        assert!(!st.is_attached());
    }
}
