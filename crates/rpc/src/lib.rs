//! libvirt's RPC protocol, wire-compatible with libvirt 9.0: the XDR codec,
//! packet framing (`virnetprotocol.x`), the KEEPALIVE program and the REMOTE
//! program's procedures and message structs (`remote_protocol.x`).

pub mod xdr;

pub use xdr::{Decoder, Encoder, XdrBounded, XdrDecode, XdrEncode, XdrError, XdrResult};
