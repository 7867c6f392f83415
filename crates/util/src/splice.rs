//! Moving bytes between two sockets without passing them through this
//! process: splice(2) from one socket into a pipe, then from the pipe into
//! the other socket. The kernel hands over page references instead of
//! copying into and out of a user-space buffer, which is what a tunnelled
//! migration's pump costs otherwise (two copies of every byte on each
//! daemon, on a machine whose cores the QEMUs need too).
//!
//! A pipe only ever holds the bytes of the move under way (one RPC stream
//! packet at most), so nothing extra waits in flight when the guest stops.

use nix::errno::Errno;
use nix::fcntl::{fcntl, splice, FcntlArg, OFlag, SpliceFFlags};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// The pipe's capacity: room for one 256 KiB stream packet whatever the
/// page fragments it arrives in (a pipe counts buffers, one per fragment).
/// Capacity is not memory: only what is spliced in takes pages.
const PIPE_SIZE: i32 = 1 << 20;

/// How long a wait for a non-blocking socket lasts before `cancelled` is
/// asked again.
const WAIT_MS: u16 = 1000;

/// A pipe and how many bytes it holds.
pub struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
    held: usize,
}

/// Why [`transfer`] failed: reading the source (the byte stream is broken
/// there) or writing the sink (the rest was still read and dropped, so a
/// framed source stays in step).
#[derive(Debug)]
pub enum TransferError {
    Source(io::Error),
    Sink(io::Error),
}

fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

impl Pipe {
    /// A pipe as large as the system lets it be (up to [`PIPE_SIZE`]).
    pub fn new() -> io::Result<Pipe> {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(errno)?;
        // Unprivileged, pipe-max-size (1 MiB by default) caps it; a smaller
        // pipe only means more, shorter moves.
        let _ = fcntl(w.as_raw_fd(), FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        Ok(Pipe { r, w, held: 0 })
    }

    /// Bytes in the pipe, not yet drained.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Move up to `max` bytes from the socket `from` into the pipe, as
    /// `from` blocks (a blocking socket waits for some); 0 at its end of
    /// file, or when a non-blocking one has nothing (`WouldBlock`).
    pub fn fill(&mut self, from: BorrowedFd<'_>, max: usize) -> io::Result<usize> {
        loop {
            match splice(from, None, &self.w, None, max, SpliceFFlags::SPLICE_F_MOVE) {
                Ok(n) => {
                    self.held += n;
                    return Ok(n);
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(errno(e)),
            }
        }
    }

    /// Move everything the pipe holds into `to` (a blocking socket: its
    /// being full is the back-pressure).
    pub fn drain(&mut self, to: BorrowedFd<'_>) -> io::Result<()> {
        while self.held > 0 {
            match splice(
                &self.r,
                None,
                to,
                None,
                self.held,
                SpliceFFlags::SPLICE_F_MOVE,
            ) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.held -= n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(errno(e)),
            }
        }
        Ok(())
    }

    /// Throw away what the pipe holds (after a failed drain).
    fn discard(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        while self.held > 0 {
            let n = self.held.min(buf.len());
            match nix::unistd::read(self.r.as_raw_fd(), &mut buf[..n]) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.held -= n,
            }
        }
        self.held = 0;
    }
}

/// Write all of `bytes` (a packet's header) to the socket `to`, telling
/// the kernel more follows (`MSG_MORE`): the header and the data spliced
/// after it leave in the same segments instead of a tiny one of its own.
pub fn send_more(to: BorrowedFd<'_>, bytes: &[u8]) -> io::Result<()> {
    use nix::sys::socket::{send, MsgFlags};
    let mut at = 0;
    while at < bytes.len() {
        match send(
            to.as_raw_fd(),
            &bytes[at..],
            MsgFlags::from_bits_retain(libc::MSG_MORE),
        ) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => at += n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(errno(e)),
        }
    }
    Ok(())
}

/// Wait until `fd` is readable; false when `cancelled` said so first.
fn wait_readable(fd: BorrowedFd<'_>, cancelled: &dyn Fn() -> bool) -> io::Result<bool> {
    loop {
        if cancelled() {
            return Ok(false);
        }
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(WAIT_MS)) {
            Ok(0) => continue,
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(errno(e)),
        }
    }
}

fn cancelled_error() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "the transfer was cancelled")
}

/// Move exactly `len` bytes from the socket `from` (blocking or not; a
/// wait asks `cancelled` every second) into `to` through `pipe`. After a
/// failed write the rest of `len` is still read from `from`, and dropped.
pub fn transfer(
    pipe: &mut Pipe,
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    len: usize,
    cancelled: &dyn Fn() -> bool,
) -> Result<(), TransferError> {
    let mut left = len;
    let mut sink_error = None;
    while left > 0 {
        let n = match pipe.fill(from, left) {
            Ok(0) => return Err(TransferError::Source(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                match wait_readable(from, cancelled) {
                    Ok(true) => continue,
                    Ok(false) => return Err(TransferError::Source(cancelled_error())),
                    Err(e) => return Err(TransferError::Source(e)),
                }
            }
            Err(e) => return Err(TransferError::Source(e)),
        };
        left -= n;
        if sink_error.is_none() {
            if let Err(e) = pipe.drain(to) {
                sink_error = Some(e);
            }
        }
        if sink_error.is_some() {
            pipe.discard();
        }
    }
    match sink_error {
        Some(e) => Err(TransferError::Sink(e)),
        None => Ok(()),
    }
}

/// Read exactly `len` bytes from the socket `from` (blocking or not; a
/// wait asks `cancelled` every second): the copying way, for a sink that
/// takes no splice.
pub fn read_exact(
    from: BorrowedFd<'_>,
    len: usize,
    cancelled: &dyn Fn() -> bool,
) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; len];
    let mut at = 0;
    while at < len {
        match nix::unistd::read(from.as_raw_fd(), &mut out[at..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => at += n,
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                if !wait_readable(from, cancelled)? {
                    return Err(cancelled_error());
                }
            }
            Err(e) => return Err(errno(e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn fill_then_drain_moves_the_bytes() {
        let (mut qemu, ours) = UnixStream::pair().unwrap();
        let (out, mut peer) = UnixStream::pair().unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let writer = std::thread::spawn({
            let data = data.clone();
            move || qemu.write_all(&data).unwrap()
        });
        let mut pipe = Pipe::new().unwrap();
        let mut got = Vec::new();
        let mut moved = 0;
        while moved < data.len() {
            let n = pipe.fill(ours.as_fd(), 64 * 1024).unwrap();
            assert!(n > 0 && n <= 64 * 1024 && pipe.held() == n);
            pipe.drain(out.as_fd()).unwrap();
            moved += n;
            let mut buf = vec![0u8; n];
            peer.read_exact(&mut buf).unwrap();
            got.extend_from_slice(&buf);
        }
        writer.join().unwrap();
        assert_eq!(got, data);
        drop(pipe);
    }

    #[test]
    fn transfer_takes_exactly_len_from_a_non_blocking_socket() {
        let (mut src, from) = UnixStream::pair().unwrap();
        from.set_nonblocking(true).unwrap();
        let (to, mut sink) = UnixStream::pair().unwrap();
        let feeder = std::thread::spawn(move || {
            for chunk in [&[1u8; 1000][..], &[2u8; 3000], &[3u8; 50]] {
                src.write_all(chunk).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            src
        });
        let mut pipe = Pipe::new().unwrap();
        transfer(&mut pipe, from.as_fd(), to.as_fd(), 4000, &|| false).unwrap();
        let mut got = vec![0u8; 4000];
        sink.read_exact(&mut got).unwrap();
        assert!(got[..1000].iter().all(|&b| b == 1) && got[1000..].iter().all(|&b| b == 2));
        // The 50 bytes after stay for whoever reads the socket next.
        drop(feeder.join().unwrap());
        from.set_nonblocking(false).unwrap();
        let mut rest = Vec::new();
        (&from).read_to_end(&mut rest).unwrap();
        assert_eq!(rest, [3u8; 50]);
    }

    #[test]
    fn a_failed_sink_still_consumes_len_and_end_of_file_is_a_source_error() {
        let (mut src, from) = UnixStream::pair().unwrap();
        let (to, sink) = UnixStream::pair().unwrap();
        drop(sink);
        src.write_all(&[7u8; 5000]).unwrap();
        src.write_all(b"next").unwrap();
        let mut pipe = Pipe::new().unwrap();
        // SIGPIPE is ignored by Rust's runtime: EPIPE comes back.
        let e = transfer(&mut pipe, from.as_fd(), to.as_fd(), 5000, &|| false).unwrap_err();
        assert!(matches!(e, TransferError::Sink(_)), "{e:?}");
        assert_eq!(pipe.held(), 0);
        let mut next = [0u8; 4];
        (&from).read_exact(&mut next).unwrap();
        assert_eq!(&next, b"next");
        drop(src);
        let (to, _sink) = UnixStream::pair().unwrap();
        let e = transfer(&mut pipe, from.as_fd(), to.as_fd(), 10, &|| false).unwrap_err();
        assert!(matches!(e, TransferError::Source(_)), "{e:?}");
    }

    #[test]
    fn a_wait_ends_when_cancelled() {
        let (_src, from) = UnixStream::pair().unwrap();
        from.set_nonblocking(true).unwrap();
        let (to, _sink) = UnixStream::pair().unwrap();
        let mut pipe = Pipe::new().unwrap();
        let e = transfer(&mut pipe, from.as_fd(), to.as_fd(), 10, &|| true).unwrap_err();
        assert!(
            matches!(e, TransferError::Source(ref e) if e.kind() == io::ErrorKind::Interrupted)
        );
    }
}
