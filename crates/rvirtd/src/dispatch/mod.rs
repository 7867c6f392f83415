//! From one received message to its reply: the checks libvirtd makes before
//! a call reaches its handler (`virNetServerProcessMsg`,
//! `virNetServerProgramDispatch`, `virNetServerProgramDispatchCall`), with
//! the same error texts, then the declarative procedure table.
//!
//! Each area (connect, domain, events, migration) declares its procedures
//! with [`dispatch_table!`]: the procedure and a handler
//! `|cx, args| -> Result<ret>`; its types and API come from the generated
//! declaration. Decoding the arguments and encoding the return (or the
//! error) is done once, in [`invoke`].

mod checkpoint;
mod client;
mod connect;
mod console;
mod domain;
mod domain_devices;
mod domain_guest;
mod domain_qemu;
mod domain_save;
mod domain_tuning;
mod events;
mod host;
mod migration;
mod network;
mod nodedev;
mod nwfilter_binding;
mod qemu;
mod screenshot;
mod secret;
mod snapshot;
mod storage;
pub mod stream;

pub use client::{nonnull, Client, Outbox};
pub use events::event_packet;

use rvirt_rpc::keepalive;
use rvirt_rpc::remote::{self, Access, Procedure};
use rvirt_rpc::xdr::{Decoder, XdrDecode, XdrEncode};
use rvirt_rpc::Proc;
use rvirt_rpc::{Header, MessageStatus, MessageType, Packet, StreamId, StreamMessage};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// A procedure's entry in the table.
#[derive(Clone, Copy)]
pub struct Entry {
    pub run: fn(&Client, &[u8]) -> Result<Vec<u8>>,
}

/// Declare an area's procedures: each entry names a procedure and its
/// handler, `|cx, args| -> Result<ret>` or a function. The argument and
/// return types, the number and the public API (for read-only refusals)
/// come from the procedure's declaration (`rvirt_rpc::remote::procs`,
/// generated from `protocol/remote.procs` and `remote.types`).
///
/// ```text
/// dispatch_table! {
///     DomainGetHostname => |cx, a| {
///         Ok(DomainGetHostnameRet { hostname: cx.domain(&a.dom)?.get_hostname(a.flags)? })
///     };
/// }
/// ```
macro_rules! dispatch_table {
    ($( $proc:ident => $handler:expr; )*) => {
        pub(super) fn lookup(p: rvirt_rpc::remote::Procedure) -> Option<super::Entry> {
            match p {
                $( rvirt_rpc::remote::Procedure::$proc => Some(super::Entry {
                    run: |cx, payload| super::invoke::<rvirt_rpc::remote::procs::$proc, _>(
                        cx,
                        payload,
                        $handler,
                    ),
                }), )*
                _ => None,
            }
        }
    };
}
pub(crate) use dispatch_table;

/// Decode the arguments, refuse a read-only client as the public API would,
/// run the handler, encode its return.
pub(crate) fn invoke<P, F>(cx: &Client, payload: &[u8], handler: F) -> Result<Vec<u8>>
where
    P: Proc<Id = Procedure>,
    F: FnOnce(&Client, P::Args) -> Result<P::Ret>,
{
    run_decoded::<P, _>(cx, payload, |cx, args| {
        check_readonly(cx, P::ID)?;
        handler(cx, args)
    })
}

/// Decode the arguments of any program's procedure, run the handler on
/// them, encode its return. Like libvirt's XDR filters, bytes after the
/// arguments are ignored.
pub(crate) fn run_decoded<P, F>(cx: &Client, payload: &[u8], handler: F) -> Result<Vec<u8>>
where
    P: Proc,
    F: FnOnce(&Client, P::Args) -> Result<P::Ret>,
{
    let mut dec = Decoder::new(payload);
    let args =
        P::Args::decode(&mut dec).map_err(|_| rpc_error("Unable to decode message payload"))?;
    let ret = handler(cx, args)?;
    ret.to_xdr()
        .map_err(|_| rpc_error("Unable to encode message payload"))
}

/// The table entry for a procedure, if rvirtd implements it.
pub fn entry(p: Procedure) -> Option<Entry> {
    connect::lookup(p)
        .or_else(|| domain::lookup(p))
        .or_else(|| domain_qemu::lookup(p))
        .or_else(|| domain_tuning::lookup(p))
        .or_else(|| domain_devices::lookup(p))
        .or_else(|| domain_guest::lookup(p))
        .or_else(|| domain_save::lookup(p))
        .or_else(|| host::lookup(p))
        .or_else(|| events::lookup(p))
        .or_else(|| migration::lookup(p))
        .or_else(|| snapshot::lookup(p))
        .or_else(|| checkpoint::lookup(p))
        .or_else(|| network::lookup(p))
        .or_else(|| storage::lookup(p))
        .or_else(|| nodedev::lookup(p))
        .or_else(|| secret::lookup(p))
        .or_else(|| nwfilter_binding::lookup(p))
}

/// Reads a local driver answers from the state it keeps in memory, without
/// waiting on a guest, a peer or a job (like the calls libvirt marks
/// `@priority: high`, and the cached-state reads such as GET_INFO that its
/// QEMU driver also answers without the monitor). A session runs these on
/// its own task instead of handing them to the worker pool: a hop to another
/// thread and back costs more than the call. Anything that changes state,
/// opens a connection or touches a job stays on the pool.
pub fn is_quick(p: Procedure) -> bool {
    use Procedure::*;
    matches!(
        p,
        AuthList
            | ConnectSupportsFeature
            | ConnectGetUri
            | ConnectGetHostname
            | ConnectGetType
            | ConnectGetVersion
            | ConnectGetLibVersion
            | ConnectGetMaxVcpus
            | ConnectIsSecure
            | NodeGetInfo
            | ConnectGetCapabilities
            | NodeGetSecurityModel
            | ConnectListAllDomains
            | ConnectListDomains
            | ConnectNumOfDomains
            | ConnectListDefinedDomains
            | ConnectNumOfDefinedDomains
            | DomainLookupByName
            | DomainLookupById
            | DomainLookupByUuid
            | DomainGetAutostart
            | DomainGetInfo
            | DomainGetState
            | DomainGetXmlDesc
            | DomainIsActive
            | DomainIsPersistent
            | DomainIsUpdated
            | DomainGetOsType
            | DomainGetMaxMemory
            | DomainGetMaxVcpus
            | DomainGetVcpusFlags
            | DomainGetSecurityLabel
            | DomainGetSecurityLabelList
            | DomainHasManagedSaveImage
            | DomainGetMetadata
            | DomainSnapshotGetXmlDesc
            | DomainSnapshotNum
            | DomainSnapshotListNames
            | DomainListAllSnapshots
            | DomainSnapshotNumChildren
            | DomainSnapshotListChildrenNames
            | DomainSnapshotListAllChildren
            | DomainSnapshotLookupByName
            | DomainHasCurrentSnapshot
            | DomainSnapshotGetParent
            | DomainSnapshotCurrent
            | DomainSnapshotIsCurrent
            | DomainSnapshotHasMetadata
    )
}

/// Can this call run on the session's own task? Only a quick read, on a
/// connection whose driver promises such reads never wait (not the remote
/// driver, say, where every call is a round trip).
pub fn runs_inline(client: &Client, h: &RawHeader) -> bool {
    remote_procedure(h).is_some_and(is_quick) && client.reads_are_quick()
}

/// The REMOTE procedure a header names (`None` for the QEMU program's).
fn remote_procedure(h: &RawHeader) -> Option<Procedure> {
    (h.prog == remote::PROGRAM).then(|| Procedure::from_i32(h.proc_))?
}

/// Is the call `@priority: high` in its program's declaration?
pub fn is_high_priority(h: &RawHeader) -> bool {
    let info = if h.prog == rvirt_rpc::qemu::PROGRAM {
        rvirt_rpc::qemu::procedure_info(h.proc_)
    } else {
        remote::procedure_info(h.proc_)
    };
    info.is_some_and(|i| i.priority == remote::Priority::High)
}

/// Does this REMOTE procedure open a data stream?
pub fn opens_stream(proc_: i32) -> bool {
    Procedure::from_i32(proc_).is_some_and(|p| stream_entry(p).is_some())
}

/// The entry of a stream-opening procedure (tunnelled migration, console,
/// screenshot).
fn stream_entry(p: Procedure) -> Option<migration::StreamEntry> {
    migration::stream_entry(p)
        .or_else(|| console::stream_entry(p))
        .or_else(|| screenshot::stream_entry(p))
        .or_else(|| storage::stream_entry(p))
}

/// Does this call (of either program) open an incoming data stream?
pub fn call_opens_stream(h: &RawHeader) -> bool {
    h.prog == remote::PROGRAM && opens_stream(h.proc_)
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

    /// The stream a call (or stream packet) with this header names.
    pub fn stream_id(&self) -> StreamId {
        StreamId {
            prog: self.prog,
            vers: self.vers,
            proc_: self.proc_,
            serial: self.serial,
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
    /// A REMOTE call to run on a worker.
    Call(RawHeader),
    /// A REMOTE `STREAM` packet, for the stream its serial names.
    Stream(RawHeader),
    /// Nothing to answer (a PONG, stray replies).
    Nothing,
    /// Close the connection without an answer, for this reason.
    Close(String),
}

/// Where a call's arguments start: after the header, and for
/// CALL_WITH_FDS after the descriptor count too
/// (`virNetMessageDecodeNumFDs`).
pub fn payload_start(h: &RawHeader) -> usize {
    if h.type_ == MessageType::CallWithFds as i32 {
        28
    } else {
        24
    }
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
    let remote = h.prog == remote::PROGRAM && h.vers == remote::PROTOCOL_VERSION;
    let qemu = h.prog == rvirt_rpc::qemu::PROGRAM && h.vers == rvirt_rpc::qemu::PROTOCOL_VERSION;
    if !remote && !qemu {
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
        if let Some(reason) = fds_refused(msg) {
            return Action::Close(reason);
        }
    }
    // The QEMU program has no streams: its STREAM packets find none.
    if h.type_ == MessageType::Stream as i32 {
        return Action::Stream(h);
    }
    if !h.is_call() {
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

/// Why a CALL_WITH_FDS closes the connection, if it does. libvirtd reads
/// the descriptor count first (`virNetMessageDecodeNumFDs`: missing or
/// over 32 closes), then takes each descriptor from the socket
/// (`virNetSocketRecvFD`), which on TCP fails with "Receiving file
/// descriptors is not supported on this socket" and closes the client.
/// rvirtd takes no descriptors on any socket (it does not offer
/// VIR_DRV_FEATURE_FD_PASSING), so any count above zero closes; with zero
/// the call runs like a plain CALL, as on libvirtd.
fn fds_refused(msg: &[u8]) -> Option<String> {
    let Some(word) = msg.get(24..28) else {
        return Some("Unable to decode number of FDs".into());
    };
    let n = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    if n as usize > rvirt_rpc::packet::MESSAGE_NUM_FDS_MAX {
        return Some(format!(
            "Received too many FDs {n}, expected {} maximum",
            rvirt_rpc::packet::MESSAGE_NUM_FDS_MAX
        ));
    }
    (n > 0).then(|| "Receiving file descriptors is not supported on this socket".into())
}

/// A call's reply and, for a call that opened a stream, the pump to run
/// once the reply is on its way.
pub struct Reply {
    pub packet: Packet,
    pub then: Option<stream::Pump>,
}

/// Before a call is queued for a worker: open the slot of the stream it
/// will create, so data racing ahead of the reply is kept.
pub fn prepare_call(client: &Client, h: &RawHeader) {
    if call_opens_stream(h) {
        client.streams().open(h.stream_id());
    }
}

/// Run one REMOTE call and build its reply.
pub fn run(client: &Client, h: &RawHeader, payload: &[u8]) -> Reply {
    let (result, then) = match run_call(client, h, payload) {
        Ok((body, then)) => (Ok(body), then),
        Err(e) => (Err(e), None),
    };
    let packet = match result {
        Ok(body) => Packet::new(h.reply(MessageStatus::Ok), body),
        Err(err) => {
            tracing::debug!(proc_ = h.proc_, serial = h.serial, error = %err, "call failed");
            error_reply(h, &err)
        }
    };
    Reply { packet, then }
}

/// Run one REMOTE call and build its reply; a stream it opened is dropped
/// (aborted).
pub fn dispatch_call(client: &Client, h: &RawHeader, payload: &[u8]) -> Packet {
    run(client, h, payload).packet
}

type CallResult = Result<(Vec<u8>, Option<stream::Pump>)>;

fn run_call(client: &Client, h: &RawHeader, payload: &[u8]) -> CallResult {
    if h.prog == rvirt_rpc::qemu::PROGRAM {
        if rvirt_rpc::qemu::procedure_info(h.proc_).is_some() && !client.auth().authenticated() {
            return Err(crate::auth::required());
        }
        return Ok((qemu::run_call(client, h, payload)?, None));
    }
    // Whatever happens, a stream slot opened for this call is its own.
    let input = call_opens_stream(h).then(|| client.streams().take(h.stream_id()));
    // libvirtd's table has a handler for every call but none for events:
    // anything else is unknown (virNetServerProgramGetProc).
    let proc_ = Procedure::from_i32(h.proc_)
        .filter(|p| p.info().access != Access::Event)
        .ok_or_else(|| rpc_error(format!("unknown procedure: {}", h.proc_)))?;
    if needs_auth(proc_) && !client.auth().authenticated() {
        return Err(crate::auth::required());
    }
    tracing::trace!(proc_ = proc_.name(), serial = h.serial, "dispatch");
    if let (Some(s), Some(input)) = (stream_entry(proc_), input) {
        // The call decodes its own arguments; refusing first differs from
        // libvirtd only for undecodable ones.
        check_readonly(client, proc_)?;
        let (body, pump) = (s.run)(client, input, payload)?;
        return Ok((body, Some(pump)));
    }
    match entry(proc_) {
        Some(e) => Ok(((e.run)(client, payload)?, None)),
        None => Err(not_implemented(client, proc_)),
    }
}

/// Every procedure but the authentication ones needs an authenticated
/// client (`needAuth`, cleared for these in remote_daemon.c).
fn needs_auth(p: Procedure) -> bool {
    use Procedure::*;
    !matches!(
        p,
        AuthList | AuthSaslInit | AuthSaslStart | AuthSaslStep | AuthPolkit
    )
}

/// `virCheckReadOnlyGoto` in the public API, reached once the dispatcher
/// has the connection it calls the API on.
fn check_readonly(client: &Client, proc_: Procedure) -> Result<()> {
    check_readonly_info(client, proc_.info())
}

pub(super) fn check_readonly_info(
    client: &Client,
    info: rvirt_rpc::program::ProcedureInfo,
) -> Result<()> {
    if client.readonly && !info.readonly_ok() {
        client.conn()?;
        return Err(info.readonly_denied());
    }
    Ok(())
}

/// The answer to a libvirt 9.0 procedure rvirtd has no handler for: what
/// libvirtd says when its driver lacks the call. The public API refuses a
/// read-only client before it looks for the driver's method
/// (`virReportUnsupportedError`); the SASL and polkit steps fail as
/// libvirtd's do on a server whose auth is "none".
fn not_implemented(client: &Client, proc_: Procedure) -> Error {
    let info = proc_.info();
    if info.api.is_none() {
        return match proc_ {
            Procedure::AuthPolkit => Error::raw(
                ErrorDomain::RPC,
                ErrorCode::INTERNAL_ERROR,
                "Library function returned error but did not set virError",
            ),
            _ => Error::bare(ErrorDomain::RPC, ErrorCode::AUTH_FAILED),
        };
    }
    unsupported(client, info)
}

/// What the public API says when the driver lacks the call, after its
/// read-only check, once the connection is known to be open.
fn unsupported(client: &Client, info: rvirt_rpc::program::ProcedureInfo) -> Error {
    if let Err(e) = check_readonly_info(client, info).and_then(|()| client.conn().map(drop)) {
        return e;
    }
    info.unsupported()
}

/// The queue a `STREAM` packet goes to, with the packet; `None` when no
/// stream with that serial is open (libvirtd ignores such packets).
/// `msg` is the whole message, or only its header when the reader took a
/// large data packet's `data` apart ([`crate::framing::Message::Data`]):
/// that buffer then goes to the stream as it is.
pub fn stream_message(
    client: &Client,
    h: &RawHeader,
    msg: &[u8],
    data: Option<Vec<u8>>,
) -> Option<StreamDelivery> {
    let tx = client.streams().sender(&h.stream_id())?;
    let parsed = match data {
        None => Packet::from_message(msg).and_then(StreamMessage::parse),
        Some(data) => Packet::from_parts(msg, data).and_then(StreamMessage::parse),
    };
    let Ok(packet) = parsed else {
        tracing::info!(?h, "ignoring undecodable stream packet");
        return None;
    };
    Some(StreamDelivery {
        tx,
        msg: stream::Input::Packet(packet),
    })
}

/// A stream packet and the queue it goes to.
pub struct StreamDelivery {
    pub tx: tokio::sync::mpsc::Sender<stream::Input>,
    pub msg: stream::Input,
}

/// Split a whole message (without the length word) into header and payload
/// and handle it completely, synchronously: what a proptest drives. Stream
/// packets are queued without waiting (dropped when the queue is full).
pub fn handle_message(client: &Client, msg: &[u8]) -> Option<Packet> {
    match classify(msg) {
        Action::Send(p) => Some(p),
        Action::Nothing | Action::Close(_) => None,
        Action::Stream(h) => {
            if let Some(d) = stream_message(client, &h, msg, None) {
                let _ = d.tx.try_send(d.msg);
            }
            None
        }
        Action::Call(h) => {
            prepare_call(client, &h);
            Some(dispatch_call(client, &h, &msg[payload_start(&h)..]))
        }
    }
}

#[cfg(test)]
mod tests;
