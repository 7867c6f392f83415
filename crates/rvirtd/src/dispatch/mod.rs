//! From one received message to its reply: the checks libvirtd makes before
//! a call reaches its handler (`virNetServerProcessMsg`,
//! `virNetServerProgramDispatch`, `virNetServerProgramDispatchCall`), with
//! the same error texts, then the declarative procedure table.
//!
//! Each area (connect, domain, events) declares its procedures with
//! [`dispatch_table!`]: procedure, public API name, argument type, return
//! type and a handler `|cx, args| -> Result<ret>`. Decoding the arguments and
//! encoding the return (or the error) is done once, in [`invoke`].

mod client;
mod connect;
mod domain;
mod events;

pub use client::{nonnull, Client, Outbox};

use rvirt_rpc::keepalive;
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::xdr::{Decoder, XdrDecode, XdrEncode};
use rvirt_rpc::{Header, MessageStatus, MessageType, Packet};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// A procedure's entry in the table.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The public API the call stands for (`virDomainDestroy`), as libvirt
    /// names it in read-only refusals.
    pub api: &'static str,
    pub run: fn(&Client, &[u8]) -> Result<Vec<u8>>,
}

/// Declare an area's procedures.
///
/// ```text
/// dispatch_table! {
///     DomainLookupByName "virDomainLookupByName": DomainLookupByNameArgs => DomainRet
///         = |cx, a| Ok(DomainRet { dom: nonnull(&cx.conn()?.lookup_by_name(&a.name)?) });
/// }
/// ```
macro_rules! dispatch_table {
    ($( $proc:ident $api:literal : $args:ty => $ret:ty = $handler:expr; )*) => {
        pub(super) fn lookup(p: rvirt_rpc::remote::Procedure) -> Option<super::Entry> {
            match p {
                $( rvirt_rpc::remote::Procedure::$proc => Some(super::Entry {
                    api: $api,
                    run: |cx, payload| super::invoke::<$args, $ret, _>(cx, payload, $handler),
                }), )*
                _ => None,
            }
        }
    };
}
pub(crate) use dispatch_table;

/// Decode the arguments, run the handler, encode its return. Like libvirt's
/// XDR filters, bytes after the arguments are ignored.
pub(crate) fn invoke<A, R, F>(cx: &Client, payload: &[u8], handler: F) -> Result<Vec<u8>>
where
    A: XdrDecode,
    R: XdrEncode,
    F: FnOnce(&Client, A) -> Result<R>,
{
    let mut dec = Decoder::new(payload);
    let args = A::decode(&mut dec).map_err(|_| rpc_error("Unable to decode message payload"))?;
    let ret = handler(cx, args)?;
    ret.to_xdr()
        .map_err(|_| rpc_error("Unable to encode message payload"))
}

/// The table entry for a procedure, if rvirtd implements it.
pub fn entry(p: Procedure) -> Option<Entry> {
    connect::lookup(p)
        .or_else(|| domain::lookup(p))
        .or_else(|| events::lookup(p))
}

/// `VIR_ERR_RPC` from the RPC domain, as virnetserverprogram.c reports.
pub fn rpc_error(msg: impl Into<String>) -> Error {
    Error::raw(ErrorDomain::RPC, ErrorCode::RPC, msg)
}

/// The header fields as raw numbers: libvirt's XDR decodes the enums as
/// plain ints, so an unknown type or status still gets its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawHeader {
    pub prog: u32,
    pub vers: u32,
    pub proc_: i32,
    pub type_: i32,
    pub serial: u32,
    pub status: i32,
}

impl RawHeader {
    pub fn parse(msg: &[u8]) -> Option<RawHeader> {
        let mut d = Decoder::new(msg);
        Some(RawHeader {
            prog: d.get_u32().ok()?,
            vers: d.get_u32().ok()?,
            proc_: d.get_i32().ok()?,
            type_: d.get_i32().ok()?,
            serial: d.get_u32().ok()?,
            status: d.get_i32().ok()?,
        })
    }

    /// The header of the reply to this call.
    pub fn reply(&self, status: MessageStatus) -> Header {
        Header {
            prog: self.prog,
            vers: self.vers,
            proc_: self.proc_,
            type_: MessageType::Reply,
            serial: self.serial,
            status,
        }
    }

    fn is_call(&self) -> bool {
        self.type_ == MessageType::Call as i32 || self.type_ == MessageType::CallWithFds as i32
    }
}

/// What the connection should do with one received message.
#[derive(Debug)]
pub enum Action {
    /// Send this packet now (keepalive PONG, or an error found before
    /// dispatch).
    Send(Packet),
    /// A REMOTE call to run (in order, possibly on a worker).
    Call(RawHeader),
    /// Nothing to answer (a PONG, stray replies and stream data).
    Nothing,
}

/// The error reply to `h`.
pub fn error_reply(h: &RawHeader, err: &Error) -> Packet {
    Packet::error_reply(&h.reply(MessageStatus::Error), err).unwrap_or_else(|_| {
        // Only an over-long message can fail to encode; say so instead.
        let short = rpc_error("error message too long");
        Packet::error_reply(&h.reply(MessageStatus::Error), &short)
            .expect("short error always encodes")
    })
}

/// Classify one message (header and payload, without the length word),
/// answering what can be answered without a worker.
pub fn classify(msg: &[u8]) -> Action {
    let Some(h) = RawHeader::parse(msg) else {
        return Action::Nothing;
    };
    // Keepalive first (`virKeepAliveCheckMessage`): only MESSAGE-type PING
    // and PONG belong to it.
    if h.prog == keepalive::PROGRAM
        && h.vers == keepalive::PROTOCOL_VERSION
        && h.type_ == MessageType::Message as i32
    {
        return match keepalive::Procedure::from_i32(h.proc_) {
            Some(keepalive::Procedure::Ping) => Action::Send(keepalive::pong()),
            _ => Action::Nothing,
        };
    }
    if h.prog != remote::PROGRAM || h.vers != remote::PROTOCOL_VERSION {
        if h.is_call() {
            let prog = h.prog as i32;
            let vers = h.vers as i32;
            return Action::Send(error_reply(
                &h,
                &rpc_error(format!("Cannot find program {prog} version {vers}")),
            ));
        }
        tracing::info!(?h, "dropping client message for an unknown program");
        return Action::Nothing;
    }
    if h.type_ == MessageType::CallWithFds as i32 {
        // No descriptor passing (VIR_DRV_FEATURE_FD_PASSING is not offered).
        return Action::Send(error_reply(
            &h,
            &rpc_error(format!("Unexpected message type {}", h.type_)),
        ));
    }
    if h.type_ != MessageType::Call as i32 {
        tracing::info!(?h, "ignoring unexpected message");
        return Action::Nothing;
    }
    if h.status != MessageStatus::Ok as i32 {
        return Action::Send(error_reply(
            &h,
            &rpc_error(format!("Unexpected message status {}", h.status as u32)),
        ));
    }
    Action::Call(h)
}

/// Run one REMOTE call and build its reply.
pub fn dispatch_call(client: &Client, h: &RawHeader, payload: &[u8]) -> Packet {
    match run_call(client, h, payload) {
        Ok(body) => Packet::new(h.reply(MessageStatus::Ok), body),
        Err(err) => {
            tracing::debug!(proc_ = h.proc_, serial = h.serial, error = %err, "call failed");
            error_reply(h, &err)
        }
    }
}

fn run_call(client: &Client, h: &RawHeader, payload: &[u8]) -> Result<Vec<u8>> {
    let unknown = || rpc_error(format!("unknown procedure: {}", h.proc_));
    let proc_ = Procedure::from_i32(h.proc_).ok_or_else(unknown)?;
    let entry = entry(proc_).ok_or_else(unknown)?;
    if client.readonly && !proc_.info().readonly_ok() {
        // virCheckReadOnlyGoto in the public API, reported from the
        // API's own error domain.
        let domain = if entry.api.starts_with("virDomain") {
            ErrorDomain::DOMAIN
        } else {
            ErrorDomain::NONE
        };
        return Err(Error::new(
            domain,
            ErrorCode::OPERATION_DENIED,
            format!("read only access prevents {}", entry.api),
        ));
    }
    tracing::trace!(proc_ = proc_.name(), serial = h.serial, "dispatch");
    (entry.run)(client, payload)
}

/// Split a whole message (without the length word) into header and payload
/// and handle it completely, synchronously: what a proptest drives.
pub fn handle_message(client: &Client, msg: &[u8]) -> Option<Packet> {
    match classify(msg) {
        Action::Send(p) => Some(p),
        Action::Nothing => None,
        Action::Call(h) => Some(dispatch_call(client, &h, &msg[24..])),
    }
}

#[cfg(test)]
mod tests;
