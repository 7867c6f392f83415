//! Migration phases (V1, V2, V3, V3 with typed params) and job control
//! (libvirt's remote_daemon_dispatch.c, migration part): each procedure
//! calls the matching phase entry point of the public API. A perform with
//! a `dconnuri` is peer-to-peer: the driver runs the whole migration and
//! the daemon only waits for it.
//!
//! The tunnelled prepares open an incoming data stream and are declared
//! apart, in [`stream_entry`].

use super::stream::{Pump, StreamInput};
use super::{dispatch_table, nonnull, rpc_error, Client};
use rvirt::driver::{Begin3Args, FinishArgs, PerformArgs, PrepareArgs};
use rvirt::Stream;
use rvirt_rpc::remote::DOMAIN_JOB_STATS_MAX;
use rvirt_rpc::remote::*;
use rvirt_rpc::xdr::{Decoder, XdrDecode, XdrEncode};
use rvirt_rpc::Proc;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// The V1–V3 procedures carry `unsigned hyper` flags; the API takes 32 bits
/// (every `virDomainMigrateFlags` value fits), so higher bits are refused
/// as the drivers' `virCheckFlags` refuses unknown ones.
fn flags32(api: &str, flags: u64) -> Result<u32> {
    u32::try_from(flags).map_err(|_| {
        Error::raw(
            ErrorDomain::NONE,
            ErrorCode::INVALID_ARG,
            format!(
                "unsupported flags (0x{:x}) in function {api}",
                flags & !u64::from(u32::MAX)
            ),
        )
    })
}

dispatch_table! {
    DomainMigratePrepare => |cx, a| {
            let flags = flags32("virDomainMigratePrepare", a.flags)?;
            let args = PrepareArgs { uri_in: a.uri_in.as_deref(), flags, dname: a.dname.as_deref(), bandwidth: a.resource, ..Default::default() };
            let (cookie, uri_out) = cx.conn()?.migrate_prepare(&args)?;
            Ok(DomainMigratePrepareRet { cookie, uri_out })
        };
    DomainMigratePerform => |cx, a| {
        let flags = flags32("virDomainMigratePerform", a.flags)?;
        let args = PerformArgs { cookie_in: &a.cookie, uri: Some(&a.uri), flags, dname: a.dname.as_deref(), bandwidth: a.resource, ..Default::default() };
        cx.domain(&a.dom)?.migrate_perform(&args)
    };
    DomainMigrateFinish => |cx, a| {
            let flags = flags32("virDomainMigrateFinish", a.flags)?;
            let args = FinishArgs { dname: &a.dname, cookie_in: &a.cookie, uri: Some(&a.uri), flags, ..Default::default() };
            let dom = cx.conn()?.migrate_finish(&args)?;
            Ok(DomainMigrateFinishRet { ddom: nonnull(&dom) })
        };
    DomainMigratePrepare2 => |cx, a| {
            let flags = flags32("virDomainMigratePrepare2", a.flags)?;
            let args = PrepareArgs { uri_in: a.uri_in.as_deref(), flags, dname: a.dname.as_deref(), bandwidth: a.resource, dom_xml: &a.dom_xml, ..Default::default() };
            let (cookie, uri_out) = cx.conn()?.migrate_prepare2(&args)?;
            Ok(DomainMigratePrepare2Ret { cookie, uri_out })
        };
    DomainMigrateFinish2 => |cx, a| {
            let flags = flags32("virDomainMigrateFinish2", a.flags)?;
            let args = FinishArgs { dname: &a.dname, cookie_in: &a.cookie, uri: Some(&a.uri), flags, ..Default::default() };
            let dom = cx.conn()?.migrate_finish2(&args, a.retcode)?;
            Ok(DomainMigrateFinish2Ret { ddom: nonnull(&dom) })
        };
    DomainMigrateBegin3 => |cx, a| {
            let flags = flags32("virDomainMigrateBegin3", a.flags)?;
            let args = Begin3Args { xmlin: a.xmlin.as_deref(), flags, dname: a.dname.as_deref(), bandwidth: a.resource };
            let (cookie_out, xml) = cx.domain(&a.dom)?.migrate_begin3(&args)?;
            Ok(DomainMigrateBegin3Ret { cookie_out, xml })
        };
    DomainMigratePrepare3 => |cx, a| {
            let flags = flags32("virDomainMigratePrepare3", a.flags)?;
            let args = PrepareArgs { cookie_in: &a.cookie_in, uri_in: a.uri_in.as_deref(), flags, dname: a.dname.as_deref(), bandwidth: a.resource, dom_xml: &a.dom_xml };
            let (cookie_out, uri_out) = cx.conn()?.migrate_prepare3(&args)?;
            Ok(DomainMigratePrepare3Ret { cookie_out, uri_out })
        };
    DomainMigratePerform3 => |cx, a| {
            let flags = flags32("virDomainMigratePerform3", a.flags)?;
            let args = PerformArgs { xmlin: a.xmlin.as_deref(), cookie_in: &a.cookie_in, dconnuri: a.dconnuri.as_deref(),
                uri: a.uri.as_deref(), flags, dname: a.dname.as_deref(), bandwidth: a.resource };
            let cookie_out = cx.domain(&a.dom)?.migrate_perform3(&args)?;
            Ok(DomainMigratePerform3Ret { cookie_out })
        };
    DomainMigrateFinish3 => |cx, a| {
            let flags = flags32("virDomainMigrateFinish3", a.flags)?;
            let args = FinishArgs { dname: &a.dname, cookie_in: &a.cookie_in, dconnuri: a.dconnuri.as_deref(), uri: a.uri.as_deref(), flags };
            let (dom, cookie_out) = cx.conn()?.migrate_finish3(&args, a.cancelled != 0)?;
            Ok(DomainMigrateFinish3Ret { dom: nonnull(&dom), cookie_out })
        };
    DomainMigrateConfirm3 => |cx, a| {
        let flags = flags32("virDomainMigrateConfirm3", a.flags)?;
        cx.domain(&a.dom)?.migrate_confirm3(&a.cookie_in, flags, a.cancelled != 0)
    };
    DomainMigrateBegin3Params => |cx, a| {
            let (cookie_out, xml) = cx.domain(&a.dom)?.migrate_begin3_params(&a.params, a.flags)?;
            Ok(DomainMigrateBegin3ParamsRet { cookie_out, xml })
        };
    DomainMigratePrepare3Params => |cx, a| {
            let (cookie_out, uri_out) = cx.conn()?.migrate_prepare3_params(&a.params, &a.cookie_in, a.flags)?;
            Ok(DomainMigratePrepare3ParamsRet { cookie_out, uri_out })
        };
    DomainMigratePerform3Params => |cx, a| {
            let cookie_out = cx.domain(&a.dom)?.migrate_perform3_params(
                a.dconnuri.as_deref(), &a.params, &a.cookie_in, a.flags)?;
            Ok(DomainMigratePerform3ParamsRet { cookie_out })
        };
    DomainMigrateFinish3Params => |cx, a| {
            let (dom, cookie_out) = cx.conn()?.migrate_finish3_params(
                &a.params, &a.cookie_in, a.flags, a.cancelled != 0)?;
            Ok(DomainMigrateFinish3ParamsRet { dom: nonnull(&dom), cookie_out })
        };
    DomainMigrateConfirm3Params => |cx, a| {
            cx.domain(&a.dom)?.migrate_confirm3_params(&a.params, &a.cookie_in, a.flags, a.cancelled != 0)
        };

    DomainGetJobInfo => |cx, a| {
        let j = cx.domain(&a.dom)?.get_job_info()?;
        Ok(DomainGetJobInfoRet {
            type_: j.type_,
            time_elapsed: j.time_elapsed,
            time_remaining: j.time_remaining,
            data_total: j.data_total,
            data_processed: j.data_processed,
            data_remaining: j.data_remaining,
            mem_total: j.mem_total,
            mem_processed: j.mem_processed,
            mem_remaining: j.mem_remaining,
            file_total: j.file_total,
            file_processed: j.file_processed,
            file_remaining: j.file_remaining,
        })
    };
    DomainGetJobStats => |cx, a| {
        let (type_, params) = cx.domain(&a.dom)?.get_job_stats(a.flags)?;
        if params.0.len() > DOMAIN_JOB_STATS_MAX {
            // virTypedParamsSerialize's refusal.
            return Err(rpc_error(format!(
                "too many parameters '{}' for limit '{DOMAIN_JOB_STATS_MAX}'",
                params.0.len()
            )));
        }
        Ok(DomainGetJobStatsRet { type_, params })
    };
    DomainAbortJob => |cx, a| cx.domain(&a.dom)?.abort_job(0);
    DomainAbortJobFlags => |cx, a| cx.domain(&a.dom)?.abort_job(a.flags);
    DomainMigrateSetMaxSpeed => |cx, a| cx.domain(&a.dom)?.migrate_set_max_speed(a.bandwidth, a.flags);
    DomainMigrateGetMaxSpeed => |cx, a| {
            Ok(DomainMigrateGetMaxSpeedRet { bandwidth: cx.domain(&a.dom)?.migrate_get_max_speed(a.flags)? })
        };
    DomainMigrateSetMaxDowntime => |cx, a| cx.domain(&a.dom)?.migrate_set_max_downtime(a.downtime, a.flags);
    DomainMigrateGetMaxDowntime => |cx, a| {
            Ok(DomainMigrateGetMaxDowntimeRet { downtime: cx.domain(&a.dom)?.migrate_get_max_downtime(a.flags)? })
        };
    DomainMigrateStartPostCopy => |cx, a| cx.domain(&a.dom)?.migrate_start_post_copy(a.flags);
}

/// The reply body of a stream-opening call and the pump to run after it.
pub type Opened = Result<(Vec<u8>, Pump)>;

/// A procedure that opens an incoming stream: it gets the stream's input
/// and returns its reply body and the pump to run after the reply. (The
/// API it stands for is in the procedure table.)
#[derive(Clone, Copy)]
pub struct StreamEntry {
    pub run: fn(&Client, StreamInput, &[u8]) -> Opened,
}

/// The stream-opening procedures.
pub fn stream_entry(p: rvirt_rpc::remote::Procedure) -> Option<StreamEntry> {
    use rvirt_rpc::remote::Procedure as P;
    Some(match p {
        P::DomainMigratePrepareTunnel => StreamEntry {
            run: |cx, input, payload| {
                tunnel::<procs::DomainMigratePrepareTunnel>(cx, input, payload, |conn, st, a| {
                    let flags = flags32("virDomainMigratePrepareTunnel", a.flags)?;
                    let args = PrepareArgs {
                        flags,
                        dname: a.dname.as_deref(),
                        bandwidth: a.resource,
                        dom_xml: &a.dom_xml,
                        ..PrepareArgs::default()
                    };
                    conn.migrate_prepare_tunnel(st, &args)
                })
            },
        },
        P::DomainMigratePrepareTunnel3 => StreamEntry {
            run: |cx, input, payload| {
                tunnel::<procs::DomainMigratePrepareTunnel3>(cx, input, payload, |conn, st, a| {
                    let flags = flags32("virDomainMigratePrepareTunnel3", a.flags)?;
                    let args = PrepareArgs {
                        cookie_in: &a.cookie_in,
                        flags,
                        dname: a.dname.as_deref(),
                        bandwidth: a.resource,
                        dom_xml: &a.dom_xml,
                        ..PrepareArgs::default()
                    };
                    let cookie_out = conn.migrate_prepare_tunnel3(st, &args)?;
                    Ok(DomainMigratePrepareTunnel3Ret { cookie_out })
                })
            },
        },
        P::DomainMigratePrepareTunnel3Params => StreamEntry {
            run: |cx, input, payload| {
                tunnel::<procs::DomainMigratePrepareTunnel3Params>(
                    cx,
                    input,
                    payload,
                    |conn, st, a| {
                        let cookie_out = conn.migrate_prepare_tunnel3_params(
                            st,
                            &a.params,
                            &a.cookie_in,
                            a.flags,
                        )?;
                        Ok(DomainMigratePrepareTunnel3ParamsRet { cookie_out })
                    },
                )
            },
        },
        _ => return None,
    })
}

/// What the kernel may hold of a tunnelled migration's bytes on the
/// connection it comes in on, before this daemon reads them (Linux
/// doubles it). Autotuned, it grows to 32 MiB while the stream's queue
/// is full, and each MiB there is a MiB QEMU counts as sent and that the
/// destination still has to load after the guest stopped.
const TUNNEL_RECEIVE_BUFFER: usize = 1 << 20;

/// `remoteDispatchDomainMigratePrepareTunnel*`: a new stream, the entry
/// point (the driver attaches its backend), and on failure an aborted
/// stream; on success the pump that feeds it.
fn tunnel<P: Proc>(
    cx: &Client,
    input: StreamInput,
    payload: &[u8],
    call: impl FnOnce(&rvirt::Connect, &Stream, P::Args) -> Result<P::Ret>,
) -> Opened {
    let args = P::Args::decode(&mut Decoder::new(payload))
        .map_err(|_| rpc_error("Unable to decode message payload"))?;
    let conn = cx.conn()?;
    let st = Stream::new(&conn, 0)?;
    cx.limit_receive_buffer(TUNNEL_RECEIVE_BUFFER);
    let pump = Pump::new(st.clone(), input, cx.outbox());
    let ret = call(&conn, &st, args)?; // dropping the pump aborts the stream
    let body = ret
        .to_xdr()
        .map_err(|_| rpc_error("Unable to encode message payload"))?;
    Ok((body, pump))
}
