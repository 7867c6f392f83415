//! `DOMAIN_OPEN_CONSOLE` (libvirt's `remoteDispatchDomainOpenConsole`): a
//! stream that carries the guest's console both ways. The driver binds the
//! stream to the device; the pump then writes the client's data to it and
//! sends the device's output back.

use super::migration::{Opened, StreamEntry};
use super::stream::{Pump, StreamInput};
use super::{rpc_error, Client};
use rvirt::Stream;
use rvirt_rpc::remote::{procs, Procedure};
use rvirt_rpc::xdr::{Decoder, XdrDecode};
use rvirt_rpc::Proc;

/// The console's stream-opening procedure.
pub fn stream_entry(p: Procedure) -> Option<StreamEntry> {
    (p == Procedure::DomainOpenConsole).then_some(StreamEntry { run: open_console })
}

fn open_console(cx: &Client, input: StreamInput, payload: &[u8]) -> Opened {
    type Args = <procs::DomainOpenConsole as Proc>::Args;
    let a = Args::decode(&mut Decoder::new(payload))
        .map_err(|_| rpc_error("Unable to decode message payload"))?;
    let dom = cx.domain(&a.dom)?;
    let st = Stream::new(dom.connect(), 0)?;
    let pump = Pump::duplex(st.clone(), input, cx.outbox());
    // On failure, dropping the pump aborts the stream.
    dom.connect().driver().domain_open_console(
        dom.domain_ref(),
        a.dev_name.as_deref(),
        &st,
        a.flags,
    )?;
    Ok((Vec::new(), pump))
}
