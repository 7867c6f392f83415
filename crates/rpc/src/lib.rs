//! libvirt's RPC protocol, wire-compatible with libvirt 9.0: the XDR codec,
//! packet framing (`virnetprotocol.x`), the KEEPALIVE program, and the
//! REMOTE, QEMU and ADMIN programs (`remote_protocol.x`, `qemu_protocol.x`,
//! `admin_protocol.x`), whose types, codecs, procedure tables and client
//! stubs build.rs generates from the declarations in `protocol/`.

pub mod admin;
pub mod keepalive;
pub mod packet;
pub mod program;
pub mod qemu;
pub mod remote;
pub mod stream;
pub mod xdr;

pub use packet::{
    FrameReader, Header, MessageStatus, MessageType, Packet, PacketError, RemoteError,
};
pub use program::{Call, Proc, Request};
pub use remote::{NonnullDomain, NonnullNetwork};
pub use stream::{StreamId, StreamMessage, STREAM_DATA_MAX};
pub use xdr::{Decoder, Encoder, XdrBounded, XdrDecode, XdrEncode, XdrError, XdrResult};
