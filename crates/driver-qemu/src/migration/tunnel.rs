//! Tunnelled migration (VIR_MIGRATE_TUNNELLED) for QEMU: its migration
//! stream goes through a socket (QEMU's `fd:NAME` channel after `getfd`)
//! whose other end the shared engine's pump ([`rvirt_hypervisor::tunnel`])
//! copies into the daemons' `virStream` (source) or out of it
//! (destination). Only the socket and QEMU's name for it are QEMU's.

use rvirt::Stream;
use rvirt_hypervisor::tunnel::{self as engine, TunnelEnd, TunnelIn};
use rvirt_util::{Error, ErrorDomain, Result};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread::JoinHandle;

/// The name QEMU knows the tunnel's descriptor by (`fd:migrate`).
pub const FD_NAME: &str = "migrate";

/// How much each direction of the tunnel's socket pair may hold (Linux
/// doubles it for its bookkeeping): a few of the daemons' 256 KiB stream
/// packets, so the writer does not block on every packet while QEMU reads
/// 32 KiB at a time; and no more, because what waits here counts as sent
/// for QEMU. With 4 MiB (8 MiB a side with the doubling, and an
/// autotuned 32 MiB TCP receive queue between the daemons) up to 50 MiB
/// were on their way when the source stopped the guest: QEMU's first
/// bandwidth estimate was the speed the buffers filled at, and the guest
/// stayed paused while they drained into the destination.
const SOCKET_BUFFER: usize = 1 << 20;

/// A socket pair: QEMU's end and ours, with room for several packets.
pub fn socket_pair() -> Result<(UnixStream, UnixStream)> {
    let (ours, qemu) = UnixStream::pair()
        .map_err(|e| Error::system(ErrorDomain::QEMU, "cannot create the tunnel's sockets", &e))?;
    for end in [&ours, &qemu] {
        enlarge_buffers(end);
    }
    Ok((ours, qemu))
}

/// Raise both buffers of `sock` to [`SOCKET_BUFFER`]: beyond the system's
/// `wmem_max`/`rmem_max` where the daemon may (CAP_NET_ADMIN), else as far
/// as they allow. A smaller buffer only costs speed, so failures are
/// ignored.
fn enlarge_buffers(sock: &UnixStream) {
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(sock, sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(sock, sockopt::SndBuf, &SOCKET_BUFFER);
    }
    if setsockopt(sock, sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(sock, sockopt::RcvBuf, &SOCKET_BUFFER);
    }
}

/// Source: copy what QEMU writes to `from` into `st` until QEMU closes its
/// end; the byte count. (Copied, not spliced: see the engine's tunnel.) The caller finishes or aborts the stream, as
/// QEMU's own outcome says (it closes its end on failure too).
pub fn pump_to_stream(from: UnixStream, st: Stream) -> JoinHandle<Result<u64>> {
    std::thread::spawn(move || engine::pump(&mut &from, &st))
}

/// The destination's stream end: finish waits for QEMU itself (through
/// `query-status`), and a cancelled migration is discarded by finish.
struct QemuEnd;

impl TunnelEnd for QemuEnd {
    fn finished(&self) -> Result<()> {
        Ok(())
    }
    fn aborted(&self) {}
    fn refusal(&self) -> Error {
        Error::operation_invalid(
            ErrorDomain::QEMU,
            "cannot write the migration stream to QEMU",
        )
    }
}

/// Destination: what arrives on the stream goes into QEMU's socket
/// (spliced from the client's socket by rvirtd where it is plain).
pub fn into_qemu(sock: UnixStream) -> TunnelIn {
    TunnelIn::to_socket(sock, Arc::new(QemuEnd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt::StreamBackend;
    use std::io::Read;

    #[test]
    fn the_sockets_hold_several_packets() {
        use nix::sys::socket::{getsockopt, sockopt};
        let (ours, _qemu) = socket_pair().unwrap();
        // Linux doubles what it is given (bookkeeping); as root it is
        // forced past wmem_max, otherwise capped by it.
        let got = getsockopt(&ours, sockopt::SndBuf).unwrap();
        assert!(got >= 256 * 1024, "{got}");
    }

    #[test]
    fn the_destination_end_closes_once() {
        let (ours, mut qemu) = socket_pair().unwrap();
        let into = into_qemu(ours);
        into.send(b"QEVM").unwrap();
        into.finish().unwrap();
        let mut got = Vec::new();
        qemu.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"QEVM");
        assert!(into.send(b"late").is_err());
        into.abort().unwrap();
    }
}
