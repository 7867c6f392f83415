//! Connection-level procedures: authentication, open/close, host facts,
//! domain listing (libvirt's remote_daemon_dispatch.c, connect part).

use super::{dispatch_table, nonnull, rpc_error, Client};
use rvirt::flags::feature;
use rvirt::Connect;
use rvirt_driver_remote::wire::{node_info_to_wire, security_model_to_wire};
use rvirt_rpc::remote::DOMAIN_LIST_MAX;
use rvirt_rpc::remote::*;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

dispatch_table! {
    AuthList => |cx, ()| {
        Ok(AuthListRet { types: vec![cx.auth().method().wire()] })
    };
    AuthSaslInit => |cx, ()| {
        Ok(AuthSaslInitRet { mechlist: cx.auth().sasl_init()? })
    };
    AuthSaslStart => |cx, a| {
        let r = cx.auth().sasl_step(Some(&a.mech), sasl_in(a.nil, &a.data).as_deref())?;
        cx.note_authenticated(r.complete);
        let (nil, data) = sasl_out(r.data);
        Ok(AuthSaslStartRet { complete: r.complete as i32, nil, data })
    };
    AuthSaslStep => |cx, a| {
        let r = cx.auth().sasl_step(None, sasl_in(a.nil, &a.data).as_deref())?;
        cx.note_authenticated(r.complete);
        let (nil, data) = sasl_out(r.data);
        Ok(AuthSaslStepRet { complete: r.complete as i32, nil, data })
    };
    ConnectOpen => open;
    ConnectClose => |cx, ()| {
        cx.cleanup();
        cx.request_close();
        Ok(())
    };
    ConnectSupportsFeature => supports_feature;
    ConnectRegisterCloseCallback => |cx, ()| {
        cx.conn().map(drop)
    };
    ConnectUnregisterCloseCallback => |cx, ()| {
        cx.conn().map(drop)
    };
    ConnectGetUri => |cx, ()| {
        Ok(ConnectGetUriRet { uri: cx.conn()?.get_uri()? })
    };
    ConnectGetHostname => |cx, ()| {
        Ok(ConnectGetHostnameRet { hostname: cx.conn()?.get_hostname()? })
    };
    ConnectGetType => |cx, ()| {
        Ok(ConnectGetTypeRet { type_: cx.conn()?.get_type()? })
    };
    ConnectGetVersion => |cx, ()| {
        Ok(ConnectGetVersionRet { hv_ver: cx.conn()?.get_version()? })
    };
    ConnectGetLibVersion => |cx, ()| {
        Ok(ConnectGetLibVersionRet { lib_ver: cx.conn()?.get_lib_version()? })
    };
    ConnectGetMaxVcpus => |cx, a| {
            Ok(ConnectGetMaxVcpusRet { max_vcpus: cx.conn()?.get_max_vcpus(a.type_.as_deref())? })
        };
    ConnectIsSecure => |cx, ()| {
        Ok(ConnectIsSecureRet { secure: cx.conn()?.is_secure()? as i32 })
    };
    NodeGetInfo => |cx, ()| {
        Ok(node_info_to_wire(&cx.conn()?.node_get_info()?))
    };
    NodeGetCpuMap => |cx, a| {
        let (ret, map, online) = cx.conn()?.node_get_cpu_map(a.flags)?;
        Ok(NodeGetCpuMapRet {
            cpumap: if a.need_map != 0 { map } else { Vec::new() },
            online: if a.need_online != 0 { online } else { 0 },
            ret,
        })
    };
    ConnectGetCapabilities => |cx, ()| Ok(ConnectGetCapabilitiesRet { capabilities: cx.conn()?.get_capabilities()? });
    NodeGetSecurityModel => |cx, ()| {
        Ok(security_model_to_wire(&cx.conn()?.node_get_security_model()?))
    };
    ConnectListAllDomains => |cx, a| {
            let doms = cx.conn()?.list_all_domains(a.flags)?;
            if doms.len() > DOMAIN_LIST_MAX {
                return Err(too_many(doms.len()));
            }
            Ok(ConnectListAllDomainsRet {
                ret: doms.len() as u32,
                domains: if a.need_results != 0 { doms.iter().map(nonnull).collect() } else { Vec::new() },
            })
        };
    ConnectListDomains => |cx, a| {
            let max = list_max(a.maxids, "maxids")?;
            Ok(ConnectListDomainsRet { ids: cx.conn()?.list_domains(max)? })
        };
    ConnectNumOfDomains => |cx, ()| {
        Ok(ConnectNumOfDomainsRet { num: cx.conn()?.num_of_domains()? as i32 })
    };
    ConnectListDefinedDomains => |cx, a| {
            let max = list_max(a.maxnames, "maxnames")?;
            Ok(ConnectListDefinedDomainsRet { names: cx.conn()?.list_defined_domains(max)? })
        };
    ConnectNumOfDefinedDomains => |cx, ()| {
            Ok(ConnectNumOfDefinedDomainsRet { num: cx.conn()?.num_of_defined_domains()? as i32 })
        };
}

/// `remoteDispatchConnectOpen`: a read-only socket forces VIR_CONNECT_RO;
/// no name means the daemon's default URI. A second open fails and closes
/// the first, as libvirtd's does.
fn open(cx: &Client, a: ConnectOpenArgs) -> Result<()> {
    if cx.is_open() {
        cx.forget_conn();
        return Err(Error::new(
            ErrorDomain::RPC,
            ErrorCode::INTERNAL_ERROR,
            "connection already open",
        ));
    }
    let mut flags = a.flags;
    if cx.readonly {
        flags |= CONNECT_RO;
    }
    let name = a
        .name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| cx.default_uri.clone());
    let conn = Connect::open_flags(&name, flags)?;
    tracing::debug!(uri = %name, readonly = conn.is_read_only(), "client opened connection");
    cx.opened_readonly(flags & CONNECT_RO != 0);
    cx.set_conn(conn);
    Ok(())
}

/// `remoteDispatchConnectSupportsFeature`: keepalive is answered before
/// the connection is open and starts the server's pings; the daemon-level
/// features are the daemon's to answer; the rest go to the driver.
fn supports_feature(
    cx: &Client,
    a: ConnectSupportsFeatureArgs,
) -> Result<ConnectSupportsFeatureRet> {
    if a.feature == feature::PROGRAM_KEEPALIVE {
        cx.want_keepalive();
        return Ok(ConnectSupportsFeatureRet { supported: 1 });
    }
    let conn = cx.conn()?;
    let supported = match a.feature {
        feature::REMOTE_EVENT_CALLBACK
        | feature::REMOTE_CLOSE_CALLBACK
        | feature::TYPED_PARAM_STRING => true,
        // No descriptor passing over this daemon yet.
        feature::FD_PASSING => false,
        other => conn.supports_feature(other)?,
    };
    Ok(ConnectSupportsFeatureRet {
        supported: supported as i32,
    })
}

fn list_max(max: i32, what: &str) -> Result<usize> {
    if max < 0 {
        return Err(rpc_error(format!("{what} must be non-negative")));
    }
    if max as usize > DOMAIN_LIST_MAX {
        return Err(rpc_error(format!("{what} > REMOTE_DOMAIN_LIST_MAX")));
    }
    Ok(max as usize)
}

fn too_many(n: usize) -> Error {
    Error::new(
        ErrorDomain::RPC,
        ErrorCode::INTERNAL_ERROR,
        format!("Too many domains '{n}' for limit '{DOMAIN_LIST_MAX}'"),
    )
}

/// SASL data from the wire: `nil` means NULL, which SASL tells from "".
fn sasl_in(nil: i32, data: &[i8]) -> Option<Vec<u8>> {
    (nil == 0).then(|| data.iter().map(|b| *b as u8).collect())
}

/// SASL data for the wire, with its `nil` flag.
fn sasl_out(data: Option<Vec<u8>>) -> (i32, Vec<i8>) {
    match data {
        None => (1, Vec::new()),
        Some(d) => (0, d.into_iter().map(|b| b as i8).collect()),
    }
}
