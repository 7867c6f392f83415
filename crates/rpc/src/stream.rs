//! `STREAM` messages (`VIR_NET_STREAM`, type 3): the data channel a call
//! such as `DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS` opens. Every packet of a
//! stream repeats the program, version, procedure and serial of that call;
//! the status says what the packet is (libvirt's virnetclientstream.c and
//! remote_daemon_stream.c):
//!
//! - `CONTINUE`: raw data, no XDR, at most [`STREAM_DATA_MAX`] bytes; never
//!   acknowledged.
//! - `OK`, empty: from the sender, "finished"; the receiver confirms with an
//!   empty `OK` of its own once it has taken everything.
//! - `ERROR`: from the client, empty, "abort"; from the server, a
//!   `remote_error` that fails the stream. libvirtd reports a failed write,
//!   finish or abort as a `REPLY`/`ERROR` with the stream's serial instead,
//!   so receivers must accept both.

use crate::packet::{
    Header, MessageStatus, MessageType, Packet, PacketError, RemoteError, MESSAGE_HEADER_MAX,
    MESSAGE_LEGACY_PAYLOAD_MAX, MESSAGE_LEN_MAX,
};
use crate::xdr::XdrEncode;
use rvirt_util::Error;

/// The most data one `STREAM`/`CONTINUE` packet carries: libvirt's clients
/// and daemon never send more (`VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX`).
pub const STREAM_DATA_MAX: usize = MESSAGE_LEGACY_PAYLOAD_MAX;

/// Which stream a packet belongs to: the call that opened it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamId {
    pub prog: u32,
    pub vers: u32,
    pub proc_: i32,
    pub serial: u32,
}

impl StreamId {
    /// The stream opened by the call (or carried by the packet) `h`.
    pub fn of(h: &Header) -> StreamId {
        StreamId {
            prog: h.prog,
            vers: h.vers,
            proc_: h.proc_,
            serial: h.serial,
        }
    }

    /// Does this header belong to the stream (whatever its type)?
    pub fn matches(&self, h: &Header) -> bool {
        *self == StreamId::of(h)
    }

    fn header(&self, status: MessageStatus) -> Header {
        Header {
            prog: self.prog,
            vers: self.vers,
            proc_: self.proc_,
            type_: MessageType::Stream,
            serial: self.serial,
            status,
        }
    }

    /// `CONTINUE` with `data`; more than [`STREAM_DATA_MAX`] bytes is
    /// refused (split with [`chunks`]).
    pub fn data(&self, data: &[u8]) -> Result<Packet, PacketError> {
        if data.len() > STREAM_DATA_MAX {
            return Err(PacketError::TooLarge(data.len()));
        }
        Ok(Packet::new(
            self.header(MessageStatus::Continue),
            data.to_vec(),
        ))
    }

    /// The length word and header of a `CONTINUE` packet carrying `len`
    /// bytes, for a sender that writes the data from its own buffer.
    pub fn data_prefix(
        &self,
        len: usize,
    ) -> Result<[u8; MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX], PacketError> {
        if len > STREAM_DATA_MAX {
            return Err(PacketError::TooLarge(len));
        }
        Packet::frame_prefix(&self.header(MessageStatus::Continue), len)
    }

    /// Empty `OK`: "no more data" from the sender, or the receiver's
    /// confirmation of a finish.
    pub fn finish(&self) -> Packet {
        Packet::new(self.header(MessageStatus::Ok), Vec::new())
    }

    /// Empty `ERROR`: the client aborts the stream (`virStreamAbort`).
    pub fn abort(&self) -> Packet {
        Packet::new(self.header(MessageStatus::Error), Vec::new())
    }

    /// `ERROR` carrying `err`: the server fails the stream.
    pub fn error(&self, err: &Error) -> Packet {
        let body = RemoteError::from(err)
            .to_xdr()
            .or_else(|_| {
                let short = Error::raw(err.domain, err.code, "stream error");
                RemoteError::from(&short).to_xdr()
            })
            .unwrap_or_default();
        Packet::new(self.header(MessageStatus::Error), body)
    }
}

/// A received `STREAM` packet, by status.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamMessage {
    /// `CONTINUE`: raw data.
    Data(Vec<u8>),
    /// `OK`: finished (or a finish/abort confirmed).
    Finish,
    /// `ERROR`: the peer's error, or `None` for a client's bare abort.
    Error(Option<Error>),
}

impl StreamMessage {
    /// Classify a `STREAM` packet; other types and an undecodable error
    /// body are refused.
    pub fn parse(p: Packet) -> Result<StreamMessage, PacketError> {
        if p.header.type_ != MessageType::Stream {
            return Err(PacketError::UnknownType(p.header.type_ as i32));
        }
        Ok(match p.header.status {
            MessageStatus::Continue => StreamMessage::Data(p.payload),
            MessageStatus::Ok => StreamMessage::Finish,
            MessageStatus::Error if p.payload.is_empty() => StreamMessage::Error(None),
            MessageStatus::Error => {
                StreamMessage::Error(Some(Error::from(p.body::<RemoteError>()?)))
            }
        })
    }
}

/// `data` cut into packet-sized pieces (none for empty data).
pub fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.chunks(STREAM_DATA_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt_util::{ErrorCode, ErrorDomain};

    fn id() -> StreamId {
        // DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS (304), serial 7.
        StreamId {
            prog: 0x2000_8086,
            vers: 1,
            proc_: 304,
            serial: 7,
        }
    }

    #[rustfmt::skip]
    fn header_bytes(len: u32, status: u8) -> Vec<u8> {
        let mut v = len.to_be_bytes().to_vec();
        v.extend_from_slice(&[
            0x20, 0x00, 0x80, 0x86, // prog
            0, 0, 0, 1,             // vers
            0, 0, 0x01, 0x30,       // proc 304
            0, 0, 0, 3,             // VIR_NET_STREAM
            0, 0, 0, 7,             // serial
            0, 0, 0, status,        // status
        ]);
        v
    }

    #[test]
    fn golden_bytes() {
        // CONTINUE: raw data, not XDR (no length, no padding).
        let p = id().data(b"abc").unwrap();
        let mut want = header_bytes(31, 2);
        want.extend_from_slice(b"abc");
        assert_eq!(p.to_bytes().unwrap(), want);
        // OK and abort: header only.
        assert_eq!(id().finish().to_bytes().unwrap(), header_bytes(28, 0));
        assert_eq!(id().abort().to_bytes().unwrap(), header_bytes(28, 1));
        // A server error: remote_error after the header.
        let e = Error::raw(ErrorDomain(10), ErrorCode(1), "ab");
        let bytes = id().error(&e).to_bytes().unwrap();
        assert_eq!(&bytes[..28], &header_bytes(bytes.len() as u32, 1)[..]);
        assert_eq!(bytes[28..], RemoteError::from(&e).to_xdr().unwrap()[..]);
    }

    #[test]
    fn parse_each_status() {
        let round =
            |p: Packet| StreamMessage::parse(Packet::from_bytes(&p.to_bytes().unwrap()).unwrap());
        assert_eq!(
            round(id().data(b"xyz").unwrap()).unwrap(),
            StreamMessage::Data(b"xyz".to_vec())
        );
        assert_eq!(round(id().finish()).unwrap(), StreamMessage::Finish);
        assert_eq!(round(id().abort()).unwrap(), StreamMessage::Error(None));
        let e = Error::new(
            ErrorDomain::STREAMS,
            ErrorCode::OPERATION_FAILED,
            "disk full",
        );
        assert_eq!(
            round(id().error(&e)).unwrap(),
            StreamMessage::Error(Some(e))
        );
        // Not a stream packet; a garbled error body.
        let call = Packet::call(1, 1, 1, 1, &()).unwrap();
        assert!(StreamMessage::parse(call).is_err());
        let mut bad = id().abort();
        bad.payload = vec![0, 0, 0];
        assert!(StreamMessage::parse(bad).is_err());
    }

    #[test]
    fn size_limit_and_chunks() {
        assert_eq!(STREAM_DATA_MAX, 262_120);
        assert!(id().data(&vec![0; STREAM_DATA_MAX]).is_ok());
        assert!(id().data(&vec![0; STREAM_DATA_MAX + 1]).is_err());
        let data = vec![1u8; 2 * STREAM_DATA_MAX + 5];
        let sizes: Vec<usize> = chunks(&data).map(<[u8]>::len).collect();
        assert_eq!(sizes, [STREAM_DATA_MAX, STREAM_DATA_MAX, 5]);
        assert_eq!(chunks(&[]).count(), 0);
        let h = id().finish().header;
        assert!(id().matches(&h));
        assert!(!id().matches(&Header { serial: 8, ..h }));
    }
}
