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

/// A socket pair: QEMU's end and ours.
pub fn socket_pair() -> Result<(UnixStream, UnixStream)> {
    UnixStream::pair()
        .map_err(|e| Error::system(ErrorDomain::QEMU, "cannot create the tunnel's sockets", &e))
}

/// Source: copy what QEMU writes to `from` into `st` until QEMU closes its
/// end; the byte count. The caller finishes or aborts the stream, as
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

/// Destination: what arrives on the stream is written to QEMU's socket.
pub fn into_qemu(sock: UnixStream) -> TunnelIn {
    TunnelIn::to_writer(Box::new(sock), Arc::new(QemuEnd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt::StreamBackend;
    use std::io::Read;

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
