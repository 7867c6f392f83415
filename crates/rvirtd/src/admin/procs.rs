//! The ADMIN procedures, each answered as libvirtd 9.0 answers it
//! (admin_server_dispatch.c and the stubs gendispatch.pl writes from
//! admin_protocol.x, admin_server.c, virnetserver.c), errors included:
//! an unknown server or client, flags, typed parameters, limits.
//! Argument and return types come from the generated declaration
//! (`rvirt_rpc::admin::procs`).

use super::{DaemonState, ServerState};
use crate::clients::{ClientEntry, Transport};
use rvirt_rpc::admin::{self, procs, *};
use rvirt_rpc::xdr::{Decoder, XdrDecode, XdrEncode};
use rvirt_rpc::Proc;
use rvirt_util::TypedParams;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamType, TypedParamValue};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a handler sees: the daemon, and the flag CONNECT_CLOSE sets.
pub struct AdminCx<'a> {
    pub daemon: &'a DaemonState,
    pub close_requested: &'a AtomicBool,
}

type Handler = fn(&AdminCx, &[u8]) -> Result<Vec<u8>>;

/// Decode, run, encode: as the REMOTE table's `invoke`.
fn invoke<P, F>(cx: &AdminCx, payload: &[u8], handler: F) -> Result<Vec<u8>>
where
    P: Proc<Id = admin::Procedure>,
    F: FnOnce(&AdminCx, P::Args) -> Result<P::Ret>,
{
    let mut dec = Decoder::new(payload);
    let args = P::Args::decode(&mut dec)
        .map_err(|_| crate::dispatch::rpc_error("Unable to decode message payload"))?;
    handler(cx, args)?
        .to_xdr()
        .map_err(|_| crate::dispatch::rpc_error("Unable to encode message payload"))
}

macro_rules! admin_table {
    ($( $proc:ident => $handler:expr; )*) => {
        /// The handler of an ADMIN procedure (all 19 have one).
        pub fn lookup(p: admin::Procedure) -> Option<Handler> {
            match p {
                $( admin::Procedure::$proc => Some(|cx, payload| {
                    invoke::<procs::$proc, _>(cx, payload, $handler)
                }), )*
            }
        }
    };
}

admin_table! {
    ConnectOpen => |_cx, a| check_flags(a.flags, "adminDispatchConnectOpen");
    ConnectClose => |cx, ()| {
        cx.close_requested.store(true, Ordering::Relaxed);
        Ok(())
    };
    ConnectGetLibVersion => |_cx, ()| Ok(ConnectGetLibVersionRet { lib_ver: rvirt::LIB_VERSION });
    ConnectListServers => |cx, a| {
        check_flags(a.flags, "adminConnectListServers")?;
        let servers = cx.daemon.servers.iter().map(|s| nonnull_server(s)).collect::<Vec<_>>();
        let ret = servers.len() as u32;
        let servers = if a.need_results != 0 { servers } else { Vec::new() };
        Ok(ConnectListServersRet { servers, ret })
    };
    // adminConnectLookupServer passes `flags` as virCheckFlags' mask, so
    // any flags are accepted.
    ConnectLookupServer => |cx, a| {
        Ok(ConnectLookupServerRet { srv: nonnull_server(cx.daemon.server(&a.name)?) })
    };
    ServerGetThreadpoolParameters => |cx, a| {
        let srv = cx.daemon.server(&a.srv.name)?;
        check_flags(a.flags, "adminServerGetThreadPoolParameters")?;
        Ok(ServerGetThreadpoolParametersRet { params: threadpool_params(srv) })
    };
    ServerSetThreadpoolParameters => set_threadpool;
    ServerListClients => |cx, a| {
        let srv = cx.daemon.server(&a.srv.name)?;
        check_flags(a.flags, "adminServerListClients")?;
        let clients: Vec<_> = srv.clients.list().iter().map(|c| nonnull_client(srv, c)).collect();
        let ret = clients.len() as u32;
        let clients = if a.need_results != 0 { clients } else { Vec::new() };
        Ok(ServerListClientsRet { clients, ret })
    };
    ServerLookupClient => |cx, a| {
        let srv = cx.daemon.server(&a.srv.name)?;
        check_flags(a.flags, "adminServerLookupClient")?;
        let client = srv.clients.get(a.id)?;
        Ok(ServerLookupClientRet { clnt: nonnull_client(srv, &client) })
    };
    ClientGetInfo => |cx, a| {
        let srv = named_server(cx, &a.clnt.srv.name)?;
        let client = srv.clients.get(a.clnt.id).map_err(|_| {
            admin_error(ErrorCode::NO_CLIENT, format!("no client with matching id '{}' found", a.clnt.id))
        })?;
        check_flags(a.flags, "adminClientGetInfo")?;
        Ok(ClientGetInfoRet { params: client_info(&client) })
    };
    ClientClose => |cx, a| {
        let srv = cx.daemon.server(&a.clnt.srv.name)?;
        let client = srv.clients.get(a.clnt.id)?;
        check_flags(a.flags, "adminClientClose")?;
        client.close();
        Ok(())
    };
    ServerGetClientLimits => |cx, a| {
        let srv = cx.daemon.server(&a.srv.name)?;
        check_flags(a.flags, "adminServerGetClientLimits")?;
        Ok(ServerGetClientLimitsRet { params: client_limits(srv) })
    };
    ServerSetClientLimits => set_client_limits;
    ConnectGetLoggingOutputs => |cx, a| {
        check_flags(a.flags, "adminConnectGetLoggingOutputs")?;
        let (outputs, n) = logging(cx)?.outputs();
        Ok(ConnectGetLoggingOutputsRet { outputs, noutputs: n as u32 })
    };
    ConnectGetLoggingFilters => |cx, a| {
        check_flags(a.flags, "adminConnectGetLoggingFilters")?;
        let (filters, n) = logging(cx)?.filters();
        Ok(ConnectGetLoggingFiltersRet { filters: (n > 0).then_some(filters), nfilters: n as u32 })
    };
    ConnectSetLoggingOutputs => |cx, a| {
        check_flags(a.flags, "adminConnectSetLoggingOutputs")?;
        logging(cx)?.set_outputs(a.outputs.as_deref().unwrap_or(""))
    };
    ConnectSetLoggingFilters => |cx, a| {
        check_flags(a.flags, "adminConnectSetLoggingFilters")?;
        logging(cx)?.set_filters(a.filters.as_deref().unwrap_or(""))
    };
    ServerUpdateTlsFiles => |cx, a| {
        let srv = cx.daemon.server(&a.srv.name)?;
        check_flags(a.flags, "adminServerUpdateTlsFiles")?;
        let tls = srv.tls.as_ref().ok_or_else(|| Error::new(
            ErrorDomain::RPC,
            ErrorCode::INTERNAL_ERROR,
            "no tls service found, unable to update tls files",
        ))?;
        tls.reload()
    };
    ConnectSetDaemonTimeout => |cx, a| {
        check_flags(a.flags, "adminConnectSetDaemonTimeout")?;
        cx.daemon.set_timeout(a.timeout);
        Ok(())
    };
}

/// `virCheckFlags(0, ...)` in the named function.
fn check_flags(flags: u32, func: &str) -> Result<()> {
    if flags == 0 {
        return Ok(());
    }
    Err(admin_error(
        ErrorCode::INVALID_ARG,
        format!("unsupported flags (0x{flags:x}) in function {func}"),
    ))
}

fn admin_error(code: ErrorCode, detail: String) -> Error {
    Error::new(ErrorDomain(62), code, detail)
}

/// The server lookup the hand-written dispatchers make, which replaces
/// virNetDaemonGetServer's error with their own.
fn named_server<'a>(cx: &'a AdminCx, name: &str) -> Result<&'a Arc<ServerState>> {
    cx.daemon.server(name).map_err(|_| {
        admin_error(
            ErrorCode::NO_SERVER,
            format!("no server with matching name '{name}' found"),
        )
    })
}

fn logging<'a>(cx: &'a AdminCx) -> Result<&'a rvirt_util::logging::LogControl> {
    cx.daemon.log.as_deref().ok_or_else(|| {
        Error::internal(ErrorDomain(62), "logging is not under the daemon's control")
    })
}

fn nonnull_server(s: &ServerState) -> NonnullServer {
    NonnullServer {
        name: s.name.to_string(),
    }
}

fn nonnull_client(srv: &ServerState, c: &ClientEntry) -> NonnullClient {
    NonnullClient {
        srv: nonnull_server(srv),
        id: c.id,
        timestamp: c.timestamp,
        transport: c.transport as u32,
    }
}

fn uint(n: usize) -> TypedParamValue {
    TypedParamValue::UInt(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `adminServerGetThreadPoolParameters`.
fn threadpool_params(srv: &ServerState) -> TypedParams {
    let f = srv.pool.figures();
    TypedParams::new()
        .with("minWorkers", uint(f.min_workers))
        .with("maxWorkers", uint(f.max_workers))
        .with("nWorkers", uint(f.n_workers))
        .with("freeWorkers", uint(f.free_workers))
        .with("prioWorkers", uint(f.prio_workers))
        .with("jobQueueDepth", uint(f.job_queue_depth))
}

fn uint_param(params: &TypedParams, name: &str) -> Option<usize> {
    match params.get(name) {
        Some(TypedParamValue::UInt(n)) => Some(*n as usize),
        _ => None,
    }
}

/// The server a `Set*Parameters` call names, after libvirt's checks in
/// its order: the server exists, no flags, only `names` and each a uint.
fn server_for_uint_params<'a>(
    cx: &'a AdminCx,
    srv: &str,
    flags: u32,
    api: &str,
    (params, names): (&TypedParams, &[&str]),
) -> Result<&'a Arc<ServerState>> {
    let srv = named_server(cx, srv)?;
    check_flags(flags, api)?;
    let types: Vec<_> = names
        .iter()
        .map(|n| (*n, TypedParamType::UInt, false))
        .collect();
    params.validate(&types)?;
    Ok(srv)
}

fn set_threadpool(cx: &AdminCx, a: ServerSetThreadpoolParametersArgs) -> Result<()> {
    let names = ["minWorkers", "maxWorkers", "prioWorkers"];
    let api = "adminServerSetThreadPoolParameters";
    let srv = server_for_uint_params(cx, &a.srv.name, a.flags, api, (&a.params, &names))?;
    let [min, max, prio] = names.map(|n| uint_param(&a.params, n));
    srv.pool.set(min, max, prio)
}

/// `adminServerGetClientLimits`.
fn client_limits(srv: &ServerState) -> TypedParams {
    let c = &srv.clients;
    TypedParams::new()
        .with("nclients_max", uint(c.max_clients()))
        .with("nclients", uint(c.count()))
        .with("nclients_unauth_max", uint(c.max_unauth()))
        .with("nclients_unauth", uint(c.unauth()))
}

fn set_client_limits(cx: &AdminCx, a: ServerSetClientLimitsArgs) -> Result<()> {
    let names = ["nclients_max", "nclients_unauth_max"];
    let api = "adminServerSetClientLimits";
    let srv = server_for_uint_params(cx, &a.srv.name, a.flags, api, (&a.params, &names))?;
    let [max, unauth_max] = names.map(|n| uint_param(&a.params, n));
    srv.clients.set_limits(max, unauth_max)
}

/// `adminClientGetInfo`: whether the client is read-only, its SASL user
/// name, then its address and certificate's DN (TCP, TLS) or its unix
/// identity with names (unix).
fn client_info(c: &ClientEntry) -> TypedParams {
    let mut p = TypedParams::new().with("readonly", TypedParamValue::Boolean(c.readonly()));
    let identity = c.identity();
    if let Some(name) = identity.sasl_user_name {
        p.push("sasl_user_name", TypedParamValue::String(name));
    }
    if c.transport != Transport::Unix {
        if let Some(addr) = &c.sock_addr {
            p.push("sock_addr", TypedParamValue::String(addr.clone()));
        }
        if let Some(dn) = identity.x509_dname {
            p.push("tls_x509_dname", TypedParamValue::String(dn));
        }
        return p;
    }
    let Some(cred) = c.cred else {
        return p;
    };
    use nix::unistd::{Gid, Group, Uid, User};
    p.push("unix_user_id", TypedParamValue::Int(cred.uid as i32));
    if let Ok(Some(u)) = User::from_uid(Uid::from_raw(cred.uid)) {
        p.push("unix_user_name", TypedParamValue::String(u.name));
    }
    p.push("unix_group_id", TypedParamValue::Int(cred.gid as i32));
    if let Ok(Some(g)) = Group::from_gid(Gid::from_raw(cred.gid)) {
        p.push("unix_group_name", TypedParamValue::String(g.name));
    }
    if let Some(pid) = cred.pid {
        p.push("unix_process_id", TypedParamValue::Int(pid));
    }
    p
}
