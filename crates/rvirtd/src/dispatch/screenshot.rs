//! `DOMAIN_SCREENSHOT` (libvirt's `remoteDispatchDomainScreenshot`): the
//! driver binds the stream to the image before the reply, which carries
//! the image's MIME type; the pump then sends the image to the client.

use super::migration::{Opened, StreamEntry};
use super::stream::{Pump, StreamInput};
use super::{rpc_error, Client};
use rvirt::Stream;
use rvirt_rpc::remote::{procs, Procedure};
use rvirt_rpc::xdr::{Decoder, XdrDecode, XdrEncode};
use rvirt_rpc::Proc;

/// The screenshot's stream-opening procedure.
pub fn stream_entry(p: Procedure) -> Option<StreamEntry> {
    (p == Procedure::DomainScreenshot).then_some(StreamEntry { run: screenshot })
}

fn screenshot(cx: &Client, input: StreamInput, payload: &[u8]) -> Opened {
    type Args = <procs::DomainScreenshot as Proc>::Args;
    type Ret = <procs::DomainScreenshot as Proc>::Ret;
    let a = Args::decode(&mut Decoder::new(payload))
        .map_err(|_| rpc_error("Unable to decode message payload"))?;
    let dom = cx.domain(&a.dom)?;
    let st = Stream::new(dom.connect(), 0)?;
    let pump = Pump::duplex(st.clone(), input, cx.outbox());
    // On failure, dropping the pump aborts the stream.
    let mime = dom.screenshot(&st, a.screen, a.flags)?;
    let body = Ret { mime }
        .to_xdr()
        .map_err(|_| rpc_error("Unable to encode message payload"))?;
    Ok((body, pump))
}
