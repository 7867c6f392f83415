//! The QEMU program (0x20008087) beside REMOTE on the same connection:
//! `virsh qemu-monitor-command`, `qemu-agent-command`, `qemu-attach`,
//! `qemu-monitor-event` (remote_daemon_dispatch.c, `qemuDispatch*`).
//!
//! Calls are dispatched through the generated declaration
//! (`rvirt_rpc::qemu::procs`), exactly like REMOTE's: a handler per
//! procedure in [`qemu_table!`]; a procedure without one gets what
//! libvirtd answers when the connection's driver lacks the API (the
//! read-only refusal first, then "this function is not supported by the
//! connection driver: virDomainQemuMonitorCommand"), which is libvirtd's
//! answer on every driver but QEMU. An API the QEMU driver implements is
//! one line here; other drivers then give the same "not supported" from
//! the API's default.

use super::{check_readonly_info, rpc_error, run_decoded, unsupported, Client};
use rvirt_rpc::program::Access;
use rvirt_rpc::qemu::{procs, Procedure};
use rvirt_rpc::Proc;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

type Handler = fn(&Client, &[u8]) -> Result<Vec<u8>>;

/// The QEMU procedures rvirtd handles itself, `Proc => |cx, args| ...`.
macro_rules! qemu_table {
    ($( $proc:ident => $handler:expr; )*) => {
        fn lookup(p: Procedure) -> Option<Handler> {
            $( if p == Procedure::$proc {
                return Some(|cx, payload| {
                    type P = procs::$proc;
                    let handler: fn(&Client, <P as Proc>::Args) -> Result<<P as Proc>::Ret> =
                        $handler;
                    run_decoded::<P, _>(cx, payload, |cx, args| {
                        check_readonly_info(cx, Procedure::$proc.info())?;
                        handler(cx, args)
                    })
                });
            } )*
            None
        }
    };
}

qemu_table! {
    DomainMonitorCommand => |cx, a| Ok(rvirt_rpc::qemu::DomainMonitorCommandRet {
        result: cx.domain(&a.dom)?.qemu_monitor_command(&a.cmd, a.flags)?,
    });
    // The daemon's own bookkeeping, before the API is reached: no driver
    // rvirt has registers monitor events, so no callback id is known
    // (qemuDispatchConnectDomainMonitorEventDeregister).
    ConnectDomainMonitorEventDeregister => |cx, a| {
        cx.conn()?;
        Err::<(), _>(Error::new(
            ErrorDomain::RPC,
            ErrorCode::INTERNAL_ERROR,
            format!("qemu monitor event callback {} not registered", a.callback_id),
        ))
    };
}

/// Run one QEMU call: its handler, or the driver's "not supported".
pub(super) fn run_call(client: &Client, h: &super::RawHeader, payload: &[u8]) -> Result<Vec<u8>> {
    // An event is never called: libvirtd's table has no entry for it.
    let proc_ = Procedure::from_i32(h.proc_)
        .filter(|p| p.info().access != Access::Event)
        .ok_or_else(|| rpc_error(format!("unknown procedure: {}", h.proc_)))?;
    tracing::trace!(proc_ = proc_.name(), serial = h.serial, "qemu dispatch");
    match lookup(proc_) {
        Some(handler) => handler(client, payload),
        None => {
            // libvirtd decodes the arguments before the API runs.
            decodes(proc_, payload)?;
            Err(unsupported(client, proc_.info()))
        }
    }
}

/// Do the bytes decode as the procedure's arguments?
fn decodes(p: Procedure, payload: &[u8]) -> Result<()> {
    if p.args_decode(payload) {
        Ok(())
    } else {
        Err(rpc_error("Unable to decode message payload"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_is_declared_with_its_api() {
        for p in Procedure::ALL {
            let info = p.info();
            assert!(info.name.starts_with("QEMU_PROC_"));
            if info.access != Access::Event {
                assert!(info.api.is_some_and(|a| a.starts_with("vir")), "{info:?}");
            }
        }
        assert_eq!(rvirt_rpc::qemu::PROGRAM, 0x2000_8087);
        assert!(lookup(Procedure::DomainMonitorCommand).is_some());
        assert!(lookup(Procedure::ConnectDomainMonitorEventDeregister).is_some());
    }
}
