//! libvirt's RPC protocol, wire-compatible with libvirt 9.0: the XDR codec,
//! packet framing (`virnetprotocol.x`), the KEEPALIVE program and the REMOTE
//! program's procedures and message structs (`remote_protocol.x`).

pub mod keepalive;
pub mod packet;
pub mod remote;
pub mod stream;
pub mod xdr;

pub use packet::{
    FrameReader, Header, MessageStatus, MessageType, NonnullDomain, NonnullNetwork, Packet,
    PacketError, RemoteError,
};
pub use stream::{StreamId, StreamMessage, STREAM_DATA_MAX};
pub use xdr::{Decoder, Encoder, XdrBounded, XdrDecode, XdrEncode, XdrError, XdrResult};
