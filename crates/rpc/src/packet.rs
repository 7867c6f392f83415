//! libvirt's RPC framing (`src/rpc/virnetprotocol.x`, libvirt 9.0).
//!
//! A packet on the wire is a 4-byte big-endian length that counts itself,
//! a 24-byte [`Header`] and a payload whose shape depends on the header:
//! `XXX_args` for calls, `XXX_ret` or a [`RemoteError`] for replies,
//! `XXX_msg` for events, raw bytes for stream data.

use crate::remote::{NonnullDomain, NonnullNetwork};
use crate::xdr::{Decoder, Encoder, XdrDecode, XdrEncode, XdrError, XdrResult};
use rvirt_util::{Error, ErrorCode, ErrorDomain, ErrorLevel};
use thiserror::Error as ThisError;

/// `VIR_NET_MESSAGE_INITIAL`: libvirt's first receive buffer size.
pub const MESSAGE_INITIAL: usize = 65_536;
/// `VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX`: the payload limit of old peers,
/// and the most raw data one `STREAM` packet carries.
pub const MESSAGE_LEGACY_PAYLOAD_MAX: usize = 262_120;
/// `VIR_NET_MESSAGE_MAX`: header + payload, not counting the length word.
pub const MESSAGE_MAX: usize = 33_554_432;
/// `VIR_NET_MESSAGE_HEADER_MAX`: the serialised header size.
pub const MESSAGE_HEADER_MAX: usize = 24;
/// `VIR_NET_MESSAGE_PAYLOAD_MAX`.
pub const MESSAGE_PAYLOAD_MAX: usize = MESSAGE_MAX - MESSAGE_HEADER_MAX;
/// `VIR_NET_MESSAGE_LEN_MAX`: the length word.
pub const MESSAGE_LEN_MAX: usize = 4;
/// `VIR_NET_MESSAGE_STRING_MAX`.
pub const MESSAGE_STRING_MAX: usize = 4_194_304;
/// `VIR_NET_MESSAGE_NUM_FDS_MAX`.
pub const MESSAGE_NUM_FDS_MAX: usize = 32;
pub use crate::remote::UUID_BUFLEN;

rvirt_util::wire_enum! {
    /// `virNetMessageType`.
    pub enum MessageType {
        Call = 0,
        Reply,
        Message,
        Stream,
        CallWithFds,
        ReplyWithFds,
        StreamHole,
    }
}

rvirt_util::wire_enum! {
    /// `virNetMessageStatus`.
    pub enum MessageStatus {
        Ok = 0,
        Error,
        Continue,
    }
}

/// Why a packet could not be framed or parsed.
#[derive(Debug, ThisError)]
pub enum PacketError {
    #[error("packet {0} bytes received from peer too small, want at least {min}", min = MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX)]
    TooSmall(usize),
    #[error("packet {0} bytes received from peer too large, want at most {max}", max = MESSAGE_MAX + MESSAGE_LEN_MAX)]
    TooLarge(usize),
    #[error("message length word {declared} does not match the {actual} bytes given")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("unknown message type {0}")]
    UnknownType(i32),
    #[error("unknown message status {0}")]
    UnknownStatus(i32),
    #[error("XDR error: {0}")]
    Xdr(#[from] XdrError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl PacketError {
    /// As a libvirt error (`VIR_ERR_RPC` from the RPC domain).
    pub fn to_error(&self) -> Error {
        match self {
            PacketError::Io(e) => Error::system(ErrorDomain::RPC, "Cannot read from stream", e),
            _ => Error::raw(ErrorDomain::RPC, ErrorCode::RPC, self.to_string()),
        }
    }
}

/// `virNetMessageHeader`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub prog: u32,
    pub vers: u32,
    pub proc_: i32,
    pub type_: MessageType,
    pub serial: u32,
    pub status: MessageStatus,
}

impl Header {
    /// A header for a call (`status` OK).
    pub fn call(prog: u32, vers: u32, proc_: i32, serial: u32) -> Header {
        Header {
            prog,
            vers,
            proc_,
            type_: MessageType::Call,
            serial,
            status: MessageStatus::Ok,
        }
    }

    /// The header of the reply to this call, with the given status.
    pub fn reply(&self, status: MessageStatus) -> Header {
        Header {
            type_: MessageType::Reply,
            status,
            ..*self
        }
    }

    /// An asynchronous message (event): serial 0, status OK.
    pub fn message(prog: u32, vers: u32, proc_: i32) -> Header {
        Header {
            prog,
            vers,
            proc_,
            type_: MessageType::Message,
            serial: 0,
            status: MessageStatus::Ok,
        }
    }
}

impl XdrEncode for Header {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        enc.put_u32(self.prog);
        enc.put_u32(self.vers);
        enc.put_i32(self.proc_);
        enc.put_i32(self.type_ as i32);
        enc.put_u32(self.serial);
        enc.put_i32(self.status as i32);
        Ok(())
    }
}

impl Header {
    fn decode_checked(dec: &mut Decoder<'_>) -> Result<Header, PacketError> {
        let prog = dec.get_u32()?;
        let vers = dec.get_u32()?;
        let proc_ = dec.get_i32()?;
        let t = dec.get_i32()?;
        let serial = dec.get_u32()?;
        let s = dec.get_i32()?;
        Ok(Header {
            prog,
            vers,
            proc_,
            type_: MessageType::from_i32(t).ok_or(PacketError::UnknownType(t))?,
            serial,
            status: MessageStatus::from_i32(s).ok_or(PacketError::UnknownStatus(s))?,
        })
    }
}

/// Check a packet's length word before anything is allocated for it: the
/// total (which counts the word itself) must hold at least a header and at
/// most `VIR_NET_MESSAGE_MAX` bytes after the word.
pub fn frame_length(word: [u8; 4]) -> Result<usize, PacketError> {
    let len = u32::from_be_bytes(word) as usize;
    if len < MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX {
        return Err(PacketError::TooSmall(len));
    }
    if len > MESSAGE_MAX + MESSAGE_LEN_MAX {
        return Err(PacketError::TooLarge(len));
    }
    Ok(len)
}

/// One packet: header and undecoded payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub header: Header,
    pub payload: Vec<u8>,
}

impl Packet {
    pub fn new(header: Header, payload: Vec<u8>) -> Packet {
        Packet { header, payload }
    }

    /// A packet whose payload is `body` in XDR.
    pub fn with_body<T: XdrEncode + ?Sized>(header: Header, body: &T) -> XdrResult<Packet> {
        let mut enc = Encoder::new();
        body.encode(&mut enc)?;
        Ok(Packet::new(header, enc.into_bytes()))
    }

    /// A call of `proc_` in program `prog`/`vers`.
    pub fn call<T: XdrEncode + ?Sized>(
        prog: u32,
        vers: u32,
        proc_: i32,
        serial: u32,
        args: &T,
    ) -> XdrResult<Packet> {
        Packet::with_body(Header::call(prog, vers, proc_, serial), args)
    }

    /// The successful reply to `call` carrying `ret`.
    pub fn reply<T: XdrEncode + ?Sized>(call: &Header, ret: &T) -> XdrResult<Packet> {
        Packet::with_body(call.reply(MessageStatus::Ok), ret)
    }

    /// The error reply to `call`.
    pub fn error_reply(call: &Header, err: &Error) -> XdrResult<Packet> {
        Packet::with_body(call.reply(MessageStatus::Error), &RemoteError::from(err))
    }

    /// An event message.
    pub fn event<T: XdrEncode + ?Sized>(
        prog: u32,
        vers: u32,
        proc_: i32,
        msg: &T,
    ) -> XdrResult<Packet> {
        Packet::with_body(Header::message(prog, vers, proc_), msg)
    }

    /// The whole frame, length word included. Fails when header and payload
    /// exceed `VIR_NET_MESSAGE_MAX`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PacketError> {
        let total = MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX + self.payload.len();
        if total > MESSAGE_MAX + MESSAGE_LEN_MAX {
            return Err(PacketError::TooLarge(total));
        }
        let mut enc = Encoder::from_vec(Vec::with_capacity(total));
        enc.put_u32(total as u32);
        self.header.encode(&mut enc)?;
        let mut out = enc.into_bytes();
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    /// The length word and header of a frame carrying `payload_len` bytes
    /// of payload after `header`: what a sender writes before a payload it
    /// keeps in its own buffer, so large stream data is neither copied
    /// into a packet nor framed in a fresh allocation.
    pub fn frame_prefix(
        header: &Header,
        payload_len: usize,
    ) -> Result<[u8; MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX], PacketError> {
        let total = MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX + payload_len;
        if total > MESSAGE_MAX + MESSAGE_LEN_MAX {
            return Err(PacketError::TooLarge(total));
        }
        let mut enc = Encoder::from_vec(Vec::with_capacity(MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX));
        enc.put_u32(total as u32);
        header.encode(&mut enc)?;
        let mut prefix = [0u8; MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX];
        prefix.copy_from_slice(&enc.into_bytes());
        Ok(prefix)
    }

    /// Parse one whole frame (length word included).
    pub fn from_bytes(frame: &[u8]) -> Result<Packet, PacketError> {
        if frame.len() < MESSAGE_LEN_MAX {
            return Err(PacketError::TooSmall(frame.len()));
        }
        let declared = frame_length([frame[0], frame[1], frame[2], frame[3]])?;
        if declared != frame.len() {
            return Err(PacketError::LengthMismatch {
                declared,
                actual: frame.len(),
            });
        }
        Packet::from_message(&frame[MESSAGE_LEN_MAX..])
    }

    /// Parse header and payload (the frame without its length word).
    pub fn from_message(msg: &[u8]) -> Result<Packet, PacketError> {
        if msg.len() < MESSAGE_HEADER_MAX {
            return Err(PacketError::TooSmall(msg.len() + MESSAGE_LEN_MAX));
        }
        if msg.len() > MESSAGE_MAX {
            return Err(PacketError::TooLarge(msg.len() + MESSAGE_LEN_MAX));
        }
        let mut dec = Decoder::new(msg);
        let header = Header::decode_checked(&mut dec)?;
        Ok(Packet::new(header, dec.rest().to_vec()))
    }

    /// A message read as its header's bytes and its payload apart (a large
    /// stream data packet read straight into its own buffer): the header
    /// checked as [`Packet::from_message`] checks it, the payload kept.
    pub fn from_parts(header: &[u8], payload: Vec<u8>) -> Result<Packet, PacketError> {
        if header.len() != MESSAGE_HEADER_MAX {
            return Err(PacketError::TooSmall(header.len() + MESSAGE_LEN_MAX));
        }
        if payload.len() > MESSAGE_PAYLOAD_MAX {
            return Err(PacketError::TooLarge(
                header.len() + payload.len() + MESSAGE_LEN_MAX,
            ));
        }
        let header = Header::decode_checked(&mut Decoder::new(header))?;
        Ok(Packet::new(header, payload))
    }

    /// Decode the payload as `T`; every byte must be used.
    pub fn body<T: XdrDecode>(&self) -> XdrResult<T> {
        T::from_xdr(&self.payload)
    }

    /// For an error reply (or an errored stream packet): the error it carries.
    pub fn error(&self) -> Option<Result<Error, XdrError>> {
        if self.header.status != MessageStatus::Error {
            return None;
        }
        Some(self.body::<RemoteError>().map(Error::from))
    }
}

/// Accumulates bytes from a connection and splits them into packets. The
/// length word is validated as soon as its four bytes arrive; nothing is
/// reserved on the strength of a declared length.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn new() -> FrameReader {
        FrameReader::default()
    }

    /// Bytes received and not yet returned as packets.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete packet, `Ok(None)` if more bytes are needed, or an
    /// error, after which the connection should be dropped.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, PacketError> {
        if self.buf.len() < MESSAGE_LEN_MAX {
            return Ok(None);
        }
        let len = frame_length([self.buf[0], self.buf[1], self.buf[2], self.buf[3]])?;
        if self.buf.len() < len {
            return Ok(None);
        }
        let packet = Packet::from_message(&self.buf[MESSAGE_LEN_MAX..len]);
        self.buf.drain(..len);
        packet.map(Some)
    }
}

// virnetprotocol.x, the framing's own types (not one of the programs'):
// its `virNetMessageNonnullDomain`/`Network` have the layout of the
// REMOTE program's `remote_nonnull_domain`/`network`, whose generated
// types serve for both.
crate::xdr_struct! {
    /// `virNetMessageError` / `remote_error`: the payload of error replies.
    pub struct RemoteError {
        pub code: i32,
        pub domain: i32,
        pub message: Option<String> [MESSAGE_STRING_MAX],
        pub level: i32,
        /// Unused by libvirt; decoded and ignored.
        pub dom: Option<NonnullDomain>,
        pub str1: Option<String> [MESSAGE_STRING_MAX],
        pub str2: Option<String> [MESSAGE_STRING_MAX],
        pub str3: Option<String> [MESSAGE_STRING_MAX],
        pub int1: i32,
        pub int2: i32,
        /// Unused by libvirt; decoded and ignored.
        pub net: Option<NonnullNetwork>,
    }

    /// `virNetStreamHole`: payload of `STREAM_HOLE` packets.
    pub struct StreamHole {
        pub length: i64,
        pub flags: u32,
    }
}

impl From<&Error> for RemoteError {
    fn from(e: &Error) -> RemoteError {
        RemoteError {
            code: e.code.0,
            domain: e.domain.0,
            message: Some(e.message.clone()),
            level: e.level.0,
            dom: None,
            str1: e.str1.clone(),
            str2: e.str2.clone(),
            str3: e.str3.clone(),
            int1: e.int1,
            int2: e.int2,
            net: None,
        }
    }
}

impl From<RemoteError> for Error {
    /// As `virNetClientProgramDispatchError`: an "unknown procedure" RPC
    /// error from the remote side becomes `VIR_ERR_NO_SUPPORT`, and a missing
    /// message reads "Unknown error".
    fn from(r: RemoteError) -> Error {
        let message = r.message.unwrap_or_else(|| "Unknown error".to_string());
        let unknown_proc = r.domain == ErrorDomain::REMOTE.0
            && r.code == ErrorCode::RPC.0
            && r.level == ErrorLevel::ERROR.0
            && message.starts_with("unknown procedure");
        let code = if unknown_proc {
            ErrorCode::NO_SUPPORT
        } else {
            ErrorCode(r.code)
        };
        Error {
            code,
            domain: ErrorDomain(r.domain),
            level: ErrorLevel(r.level),
            message,
            str1: r.str1,
            str2: r.str2,
            str3: r.str3,
            int1: r.int1,
            int2: r.int2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes() {
        let h = Header::call(0x20008086, 1, 66, 7);
        assert_eq!(
            h.to_xdr().unwrap(),
            [0x20, 0, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 66, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0]
        );
        let p = Packet::call(0x20008086, 1, 66, 7, &()).unwrap();
        let bytes = p.to_bytes().unwrap();
        assert_eq!(&bytes[..4], [0, 0, 0, 28]);
        assert_eq!(Packet::from_bytes(&bytes).unwrap(), p);
    }

    #[test]
    fn length_limits() {
        assert!(matches!(
            frame_length([0, 0, 0, 0]),
            Err(PacketError::TooSmall(0))
        ));
        assert!(matches!(
            frame_length([0, 0, 0, 27]),
            Err(PacketError::TooSmall(27))
        ));
        assert_eq!(frame_length([0, 0, 0, 28]).unwrap(), 28);
        assert_eq!(
            frame_length((32 << 20 | 4u32).to_be_bytes()).unwrap(),
            (32 << 20) + 4
        );
        assert!(matches!(
            frame_length((32 << 20 | 5u32).to_be_bytes()),
            Err(PacketError::TooLarge(_))
        ));
        assert!(matches!(
            frame_length([0xff; 4]),
            Err(PacketError::TooLarge(_))
        ));
        let big = Packet::new(Header::message(1, 1, 1), vec![0; MESSAGE_PAYLOAD_MAX + 1]);
        assert!(matches!(big.to_bytes(), Err(PacketError::TooLarge(_))));
        let max = Packet::new(Header::message(1, 1, 1), vec![0; MESSAGE_PAYLOAD_MAX]);
        assert_eq!(max.to_bytes().unwrap().len(), MESSAGE_MAX + 4);
    }

    #[test]
    fn frame_reader_splits_and_rejects() {
        let a = Packet::call(1, 1, 1, 1, &5u32).unwrap();
        let b = Packet::call(1, 1, 2, 2, &()).unwrap();
        let mut bytes = a.to_bytes().unwrap();
        bytes.extend(b.to_bytes().unwrap());
        let mut r = FrameReader::new();
        for chunk in bytes.chunks(5) {
            r.push(chunk);
        }
        assert_eq!(r.next_packet().unwrap(), Some(a));
        assert_eq!(r.next_packet().unwrap(), Some(b));
        assert_eq!(r.next_packet().unwrap(), None);
        assert_eq!(r.buffered(), 0);

        let mut r = FrameReader::new();
        r.push(&[0, 0, 0, 3]);
        assert!(r.next_packet().is_err());
        let mut r = FrameReader::new();
        r.push(&[0x7f, 0xff, 0xff, 0xff]);
        assert!(matches!(r.next_packet(), Err(PacketError::TooLarge(_))));
        let mut r = FrameReader::new();
        let mut bad = Packet::call(1, 1, 1, 1, &()).unwrap().to_bytes().unwrap();
        bad[4 + 15] = 9; // type
        r.push(&bad);
        assert!(matches!(r.next_packet(), Err(PacketError::UnknownType(9))));
    }

    #[test]
    fn error_round_trip() {
        let mut e = Error::new(
            ErrorDomain::DOM,
            ErrorCode::NO_DOMAIN,
            "no domain with matching name 'x'",
        );
        e.str1 = Some("x".into());
        let call = Header::call(0x20008086, 1, 23, 4);
        let p = Packet::error_reply(&call, &e).unwrap();
        assert_eq!(p.header.type_, MessageType::Reply);
        assert_eq!(p.header.status, MessageStatus::Error);
        assert_eq!(p.header.serial, 4);
        assert_eq!(p.error().unwrap().unwrap(), e);
        let ok = Packet::reply(&call, &()).unwrap();
        assert!(ok.error().is_none());
    }

    #[test]
    fn error_wire_layout() {
        let e = Error::raw(ErrorDomain(10), ErrorCode(1), "ab");
        let bytes = RemoteError::from(&e).to_xdr().unwrap();
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 1, // code
            0, 0, 0, 10, // domain
            0, 0, 0, 1, 0, 0, 0, 2, b'a', b'b', 0, 0, // message
            0, 0, 0, 2, // level
            0, 0, 0, 0, // dom
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // str1..3
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // int1, int2
            0, 0, 0, 0, // net
        ];
        assert_eq!(bytes, want);
    }

    #[test]
    fn unknown_procedure_becomes_no_support() {
        let r = RemoteError {
            code: ErrorCode::RPC.0,
            domain: ErrorDomain::REMOTE.0,
            level: 2,
            message: Some("unknown procedure: 999".into()),
            ..Default::default()
        };
        assert_eq!(Error::from(r).code, ErrorCode::NO_SUPPORT);
        let r = RemoteError::default();
        assert_eq!(Error::from(r).message, "Unknown error");
    }
}
