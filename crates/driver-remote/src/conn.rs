//! `RemoteConnection`: every `HypervisorConnection` entry point forwarded
//! to the daemon as the matching REMOTE procedure, plus the open sequence
//! libvirt's client performs and domain event routing.

use crate::client::{Client, KeepAlive, Sock};
use crate::domain_events::Events;
use crate::uri::{self, Address, Transport};
use parking_lot::Mutex;
use rvirt::driver::{DomainRef, HypervisorConnection};
use rvirt::events::{event_id, EventCallback};
use rvirt::flags::feature;
use rvirt::types::{DomainInfo, DomainState, NodeInfo, SecurityLabel, SecurityModel};
use rvirt_rpc::program::DomainFlagsArgs;
use rvirt_rpc::remote::*;
use rvirt_rpc::remote::{self, Procedure, RemoteCalls};
use rvirt_rpc::{Call, Proc};
use rvirt_rpc::{NonnullDomain, XdrDecode, XdrEncode};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

pub struct RemoteConnection {
    client: Client,
    uri: String,
    /// UNIX sockets are secure; plain TCP is not (libvirt's `is_secure`).
    secure_transport: bool,
    event_callbacks: bool,
    /// The server answers keepalive PINGs.
    keepalive: bool,
    type_cache: Mutex<Option<String>>,
    events: Arc<Events>,
}

pub(crate) fn domain_ref(d: NonnullDomain) -> DomainRef {
    crate::forward::FromWire::from_wire(d)
}

pub(crate) fn nonnull(d: &DomainRef) -> NonnullDomain {
    crate::forward::ToWire::to_wire(d)
}

/// The arguments of a call that takes only the domain and flags.
pub(crate) fn dom_flags<A: DomainFlagsArgs>(d: &DomainRef, flags: u32) -> A {
    A::new(nonnull(d), flags)
}

fn count(n: i32) -> usize {
    usize::try_from(n).unwrap_or(0)
}

fn max_i32(max: usize) -> i32 {
    i32::try_from(max).unwrap_or(i32::MAX)
}

/// Connect the socket, with libvirt's `virNetSocketNewConnect*` errors.
fn connect(address: &Address) -> Result<Sock> {
    match address {
        Address::Tcp { host, port } => {
            let addrs = (host.as_str(), *port).to_socket_addrs().map_err(|e| {
                let text = e.to_string();
                let why = text
                    .strip_prefix("failed to lookup address information: ")
                    .unwrap_or(&text);
                Error::raw(
                    ErrorDomain::RPC,
                    ErrorCode::SYSTEM_ERROR,
                    format!("Unable to resolve address '{host}' service '{port}': {why}"),
                )
            })?;
            let mut last = std::io::Error::from_raw_os_error(111);
            for addr in addrs {
                match TcpStream::connect(addr) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(Sock::Tcp(s));
                    }
                    Err(e) => last = e,
                }
            }
            Err(Error::system(
                ErrorDomain::RPC,
                format!("unable to connect to server at '{host}:{port}'"),
                &last,
            ))
        }
        Address::Unix(path) => UnixStream::connect(path).map(Sock::Unix).map_err(|e| {
            Error::system(
                ErrorDomain::RPC,
                format!("Failed to connect socket to '{path}'"),
                &e,
            )
        }),
    }
}

impl RemoteConnection {
    /// `doRemoteOpen`: connect, authenticate, check keepalive support, open
    /// the URI on the server and learn which event features it has.
    pub fn open(uri: &Uri, flags: u32, ka: KeepAlive) -> Result<RemoteConnection> {
        let target = uri::target(uri, flags)?;
        tracing::debug!(name = target.name, address = ?target.address, "remote open");
        let sock = crate::tls::secure(&target, || connect(&target.address))?;
        let channel = sock.sasl_channel();
        let events = Arc::new(Events::default());
        let sink = events.clone();
        let client = Client::new(sock, Box::new(move |p| sink.deliver(p)))?;
        let server = uri.server.as_deref().filter(|s| !s.is_empty());
        let sasl = crate::sasl::client::Target {
            hostname: server.unwrap_or("localhost"),
            uri_server: server.unwrap_or("localhost"),
            authfile: uri.param("authfile"),
            secure: target.transport != Transport::Tcp,
        };
        authenticate(&client, uri.param("auth"), &channel, &sasl)?;
        let keepalive = supports(&client, feature::PROGRAM_KEEPALIVE);
        client.call_connect_open(&ConnectOpenArgs {
            name: Some(target.name.clone()),
            flags,
        })?;
        let event_callbacks = supports(&client, feature::REMOTE_EVENT_CALLBACK);
        let _close_callbacks = supports(&client, feature::REMOTE_CLOSE_CALLBACK);
        if keepalive {
            client.start_keepalive(ka);
        }
        Ok(RemoteConnection {
            client,
            uri: uri.to_string(),
            secure_transport: target.transport == Transport::Unix,
            event_callbacks,
            keepalive,
            type_cache: Mutex::new(None),
            events,
        })
    }

    pub(crate) fn network_events(&self) -> &crate::network::NetworkEvents {
        &self.events.network
    }

    pub(crate) fn call<A: XdrEncode, R: XdrDecode>(&self, proc_: Procedure, args: &A) -> Result<R> {
        self.client.call(proc_, args)
    }

    pub(crate) fn pool_events(&self) -> &crate::storage::PoolEvents {
        &self.events.pools
    }

    pub(crate) fn object_events(&self) -> &crate::nodedev::ObjectEvents {
        &self.events.objects
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }
}

/// The connection makes the generated `RemoteCalls` stubs' calls on its
/// client.
impl Call for RemoteConnection {
    fn call_proc<P: Proc>(&self, args: &P::Args) -> Result<P::Ret> {
        self.client.call_proc::<P>(args)
    }
}

fn supports(client: &Client, feature: i32) -> bool {
    client
        .call_connect_supports_feature(&ConnectSupportsFeatureArgs { feature })
        .map(|r| r.supported != 0)
        .unwrap_or(false)
}

/// `remoteAuthenticate`: the server's first method (or the one the URI's
/// `auth` names): none, or SASL (`sasl` or `sasl.MECH`).
fn authenticate(
    client: &Client,
    wanted: Option<&str>,
    channel: &crate::sasl::client::Channel,
    sasl: &crate::sasl::client::Target,
) -> Result<()> {
    let types = match client.call_auth_list() {
        Ok(r) => r.types,
        // An old server without AUTH_LIST needs no authentication.
        Err(e) if e.code == ErrorCode::NO_SUPPORT => return Ok(()),
        Err(e) => return Err(e),
    };
    let name = |t: i32| match t {
        remote::AUTH_NONE => "none",
        remote::AUTH_SASL => "sasl",
        remote::AUTH_POLKIT => "polkit",
        _ => "unknown",
    };
    let chosen = match wanted {
        Some(w) => {
            let found = types.iter().copied().find(|t| {
                let n = name(*t);
                w == n || (n == "sasl" && w.starts_with("sasl."))
            });
            found.ok_or_else(|| {
                Error::new(
                    ErrorDomain::REMOTE,
                    ErrorCode::AUTH_FAILED,
                    format!("requested authentication type {w} rejected"),
                )
            })?
        }
        None => match types.first() {
            None => return Ok(()),
            Some(t) => *t,
        },
    };
    match chosen {
        remote::AUTH_NONE => Ok(()),
        remote::AUTH_SASL => {
            let mech = wanted.and_then(|w| w.strip_prefix("sasl."));
            crate::sasl::client::authenticate(client, channel, sasl, mech)
        }
        // remoteAuthPolkit: the server decides, the client only asks.
        remote::AUTH_POLKIT => client.call_auth_polkit().map(drop),
        _ => Err(Error::new(
            ErrorDomain::REMOTE,
            ErrorCode::AUTH_FAILED,
            format!("unsupported authentication type {chosen}"),
        )),
    }
}

/// An optional string argument.
type Opt<'a> = Option<&'a str>;
/// A statistics record per domain.
type Records = Result<Vec<(DomainRef, rvirt_util::TypedParams)>>;

/// The one-int returns of the `is_*`/`get_autostart` family.
trait IntRet: XdrDecode {
    fn value(&self) -> i32;
}

macro_rules! int_ret {
    ($($t:ty => $f:ident),* $(,)?) => {$(
        impl IntRet for $t {
            fn value(&self) -> i32 {
                self.$f
            }
        }
    )*};
}

int_ret! {
    DomainIsActiveRet => active,
    DomainIsPersistentRet => persistent,
    DomainIsUpdatedRet => updated,
    DomainGetAutostartRet => autostart,
    DomainHasManagedSaveImageRet => result,
    ConnectIsSecureRet => secure,
}

impl HypervisorConnection for RemoteConnection {
    fn close(&self) -> Result<()> {
        let res = self.call_connect_close();
        self.client.close();
        res
    }

    fn network(&self) -> Option<&dyn rvirt::driver::NetworkDriver> {
        Some(self)
    }
    fn nwfilter(&self) -> Option<&dyn rvirt::driver::NWFilterDriver> {
        Some(self)
    }
    fn storage(&self) -> Option<&dyn rvirt::driver::StorageDriver> {
        Some(self)
    }
    fn node_devices(&self) -> Option<&dyn rvirt::driver::NodeDeviceDriver> {
        Some(self)
    }
    fn secrets(&self) -> Option<&dyn rvirt::driver::SecretDriver> {
        Some(self)
    }
    fn interfaces(&self) -> Option<&dyn rvirt::driver::InterfaceDriver> {
        Some(self)
    }
    fn snapshots(&self) -> Option<&dyn rvirt::driver::SnapshotDriver> {
        Some(self)
    }
    fn checkpoints(&self) -> Option<&dyn rvirt::driver::CheckpointDriver> {
        Some(self)
    }
    fn tuning(&self) -> Option<&dyn rvirt::driver::TuningDriver> {
        Some(self)
    }
    fn guest(&self) -> Option<&dyn rvirt::driver::GuestDriver> {
        Some(self)
    }
    fn save(&self) -> Option<&dyn rvirt::driver::SaveDriver> {
        Some(self)
    }
    fn host(&self) -> Option<&dyn rvirt::driver::HostDriver> {
        Some(self)
    }

    fn get_type(&self) -> Result<String> {
        let mut cache = self.type_cache.lock();
        if let Some(t) = &*cache {
            return Ok(t.clone());
        }
        let t = self.call_connect_get_type()?.type_;
        *cache = Some(t.clone());
        Ok(t)
    }
    fn get_version(&self) -> Result<u64> {
        Ok(self.call_connect_get_version()?.hv_ver)
    }
    fn get_lib_version(&self) -> Result<u64> {
        let r = self.call_connect_get_lib_version()?;
        Ok(r.lib_ver)
    }
    fn get_hostname(&self) -> Result<String> {
        let r = self.call_connect_get_hostname()?;
        Ok(r.hostname)
    }
    /// The URI as the caller gave it, as libvirt keeps `conn->uri`.
    fn get_uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }
    fn get_max_vcpus(&self, type_: Option<&str>) -> Result<i32> {
        let args = ConnectGetMaxVcpusArgs {
            type_: type_.map(str::to_string),
        };
        let r = self.call_connect_get_max_vcpus(&args)?;
        Ok(r.max_vcpus)
    }
    fn is_secure(&self) -> Result<bool> {
        let secure = self.call_connect_is_secure().map(|r| r.value() != 0)?;
        Ok(self.secure_transport && secure)
    }
    /// Only TLS encrypts, and rvirt has no TLS transport yet.
    fn is_encrypted(&self) -> Result<bool> {
        self.call_connect_is_secure().map(|r| r.value() != 0)?;
        Ok(false)
    }
    fn is_alive(&self) -> bool {
        !self.client.is_closed()
    }
    /// libvirt's client: a server without keepalive support is simply
    /// not PINGed.
    fn set_keep_alive(&self, interval: i32, count: u32) -> Result<()> {
        match (self.keepalive, interval > 0) {
            (false, _) => {}
            (true, false) => self.client.stop_keepalive(),
            (true, true) => self.client.start_keepalive(KeepAlive {
                interval: std::time::Duration::from_secs(interval as u64),
                count,
            }),
        }
        Ok(())
    }
    fn supports_feature(&self, f: i32) -> Result<bool> {
        if f == feature::REMOTE {
            return Ok(true);
        }
        let args = ConnectSupportsFeatureArgs { feature: f };
        let r = self.call_connect_supports_feature(&args)?;
        Ok(r.supported != 0)
    }
    fn node_get_info(&self) -> Result<NodeInfo> {
        Ok(crate::wire::node_info_from_wire(
            &self.call_node_get_info()?,
        ))
    }
    fn node_get_cpu_map(&self, flags: u32) -> Result<(i32, Vec<u8>, u32)> {
        let args = NodeGetCpuMapArgs {
            need_map: 1,
            need_online: 1,
            flags,
        };
        let r = self.call_node_get_cpu_map(&args)?;
        Ok((r.ret, r.cpumap, r.online))
    }
    fn get_capabilities(&self) -> Result<String> {
        let r = self.call_connect_get_capabilities()?;
        Ok(r.capabilities)
    }
    fn node_get_security_model(&self) -> Result<SecurityModel> {
        let r = self.call_node_get_security_model()?;
        Ok(crate::wire::security_model_from_wire(&r))
    }

    fn list_all_domains(&self, flags: u32) -> Result<Vec<DomainRef>> {
        let args = ConnectListAllDomainsArgs {
            need_results: 1,
            flags,
        };
        let r = self.call_connect_list_all_domains(&args)?;
        Ok(r.domains.into_iter().map(domain_ref).collect())
    }
    fn list_domains(&self, max: usize) -> Result<Vec<i32>> {
        let args = ConnectListDomainsArgs {
            maxids: max_i32(max),
        };
        Ok(self.call_connect_list_domains(&args)?.ids)
    }
    fn num_of_domains(&self) -> Result<usize> {
        let r = self.call_connect_num_of_domains()?;
        Ok(count(r.num))
    }
    fn list_defined_domains(&self, max: usize) -> Result<Vec<String>> {
        let args = ConnectListDefinedDomainsArgs {
            maxnames: max_i32(max),
        };
        let r = self.call_connect_list_defined_domains(&args)?;
        Ok(r.names)
    }
    fn num_of_defined_domains(&self) -> Result<usize> {
        let r = self.call_connect_num_of_defined_domains()?;
        Ok(count(r.num))
    }

    fn domain_lookup_by_name(&self, name: &str) -> Result<DomainRef> {
        let args = DomainLookupByNameArgs { name: name.into() };
        Ok(domain_ref(self.call_domain_lookup_by_name(&args)?.dom))
    }
    fn domain_lookup_by_id(&self, id: i32) -> Result<DomainRef> {
        Ok(domain_ref(
            self.call_domain_lookup_by_id(&DomainLookupByIdArgs { id })?
                .dom,
        ))
    }
    fn domain_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<DomainRef> {
        Ok(domain_ref(
            self.call_domain_lookup_by_uuid(&DomainLookupByUuidArgs { uuid: *uuid })?
                .dom,
        ))
    }

    /// Flags 0 uses the older procedures, as virsh's calls do.
    fn domain_define_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        if flags == 0 {
            let args = DomainDefineXmlArgs { xml: xml.into() };
            return Ok(domain_ref(self.call_domain_define_xml(&args)?.dom));
        }
        let args = DomainDefineXmlFlagsArgs {
            xml: xml.into(),
            flags,
        };
        Ok(domain_ref(self.call_domain_define_xml_flags(&args)?.dom))
    }
    fn domain_undefine(&self, d: &DomainRef, flags: u32) -> Result<()> {
        match flags {
            0 => self.call_domain_undefine(&DomainUndefineArgs { dom: nonnull(d) }),
            _ => self.call_domain_undefine_flags(&dom_flags(d, flags)),
        }
    }
    fn domain_create_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        let args = DomainCreateXmlArgs {
            xml_desc: xml.into(),
            flags,
        };
        Ok(domain_ref(self.call_domain_create_xml(&args)?.dom))
    }
    /// `DOMAIN_CREATE` returns nothing: look the domain up again for its new
    /// id, as libvirt's `remoteDomainCreate` does.
    fn domain_create(&self, d: &DomainRef, flags: u32) -> Result<DomainRef> {
        if flags == 0 {
            self.call_domain_create(&DomainCreateArgs { dom: nonnull(d) })?;
            return self.domain_lookup_by_uuid(&d.uuid);
        }
        Ok(domain_ref(
            self.call_domain_create_with_flags(&dom_flags(d, flags))?
                .dom,
        ))
    }
    fn domain_shutdown(&self, d: &DomainRef, flags: u32) -> Result<()> {
        match flags {
            0 => self.call_domain_shutdown(&DomainShutdownArgs { dom: nonnull(d) }),
            _ => self.call_domain_shutdown_flags(&dom_flags(d, flags)),
        }
    }
    fn domain_destroy(&self, d: &DomainRef, flags: u32) -> Result<()> {
        match flags {
            0 => self.call_domain_destroy(&DomainDestroyArgs { dom: nonnull(d) }),
            _ => self.call_domain_destroy_flags(&dom_flags(d, flags)),
        }
    }
    fn domain_suspend(&self, d: &DomainRef) -> Result<()> {
        self.call_domain_suspend(&DomainSuspendArgs { dom: nonnull(d) })
    }
    fn domain_resume(&self, d: &DomainRef) -> Result<()> {
        self.call_domain_resume(&DomainResumeArgs { dom: nonnull(d) })
    }
    fn domain_reboot(&self, d: &DomainRef, flags: u32) -> Result<()> {
        self.call_domain_reboot(&dom_flags(d, flags))
    }

    fn domain_get_info(&self, d: &DomainRef) -> Result<DomainInfo> {
        let r = self.call_domain_get_info(&DomainGetInfoArgs { dom: nonnull(d) })?;
        Ok(DomainInfo {
            state: DomainState::from_i32_or_nostate(r.state as i32),
            max_mem: r.max_mem,
            memory: r.memory,
            nr_virt_cpu: r.nr_virt_cpu,
            cpu_time: r.cpu_time,
        })
    }
    fn domain_get_state(&self, d: &DomainRef, flags: u32) -> Result<(DomainState, i32)> {
        let r = self.call_domain_get_state(&dom_flags(d, flags))?;
        Ok((DomainState::from_i32_or_nostate(r.state), r.reason))
    }
    fn domain_get_xml_desc(&self, d: &DomainRef, flags: u32) -> Result<String> {
        Ok(self.call_domain_get_xml_desc(&dom_flags(d, flags))?.xml)
    }
    fn domain_get_os_type(&self, d: &DomainRef) -> Result<String> {
        Ok(self
            .call_domain_get_os_type(&DomainGetOsTypeArgs { dom: nonnull(d) })?
            .type_)
    }
    fn domain_get_hostname(&self, d: &DomainRef, flags: u32) -> Result<String> {
        Ok(self
            .call_domain_get_hostname(&dom_flags(d, flags))?
            .hostname)
    }
    fn domain_qemu_monitor_command(&self, d: &DomainRef, cmd: &str, flags: u32) -> Result<String> {
        use rvirt_rpc::qemu::{DomainMonitorCommandArgs, QemuCalls};
        let args = DomainMonitorCommandArgs {
            dom: nonnull(d),
            cmd: cmd.to_string(),
            flags,
        };
        Ok(self.call_domain_monitor_command(&args)?.result)
    }
    fn domain_get_max_memory(&self, d: &DomainRef) -> Result<u64> {
        let r = self.call_domain_get_max_memory(&DomainGetMaxMemoryArgs { dom: nonnull(d) })?;
        Ok(r.memory)
    }
    fn domain_get_vcpus_flags(&self, d: &DomainRef, flags: u32) -> Result<i32> {
        Ok(self.call_domain_get_vcpus_flags(&dom_flags(d, flags))?.num)
    }
    fn domain_get_autostart(&self, d: &DomainRef) -> Result<bool> {
        self.call_domain_get_autostart(&DomainGetAutostartArgs { dom: nonnull(d) })
            .map(|r| r.value() != 0)
    }
    fn domain_set_autostart(&self, d: &DomainRef, autostart: bool) -> Result<()> {
        let args = DomainSetAutostartArgs {
            dom: nonnull(d),
            autostart: autostart as i32,
        };
        self.call_domain_set_autostart(&args)
    }
    fn domain_is_active(&self, d: &DomainRef) -> Result<bool> {
        self.call_domain_is_active(&DomainIsActiveArgs { dom: nonnull(d) })
            .map(|r| r.value() != 0)
    }
    fn domain_is_persistent(&self, d: &DomainRef) -> Result<bool> {
        self.call_domain_is_persistent(&DomainIsPersistentArgs { dom: nonnull(d) })
            .map(|r| r.value() != 0)
    }
    fn domain_is_updated(&self, d: &DomainRef) -> Result<bool> {
        self.call_domain_is_updated(&DomainIsUpdatedArgs { dom: nonnull(d) })
            .map(|r| r.value() != 0)
    }
    fn domain_has_managed_save_image(&self, d: &DomainRef, flags: u32) -> Result<bool> {
        self.call_domain_has_managed_save_image(&dom_flags(d, flags))
            .map(|r| r.value() != 0)
    }
    fn domain_get_metadata(
        &self,
        d: &DomainRef,
        kind: i32,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        let args = DomainGetMetadataArgs {
            dom: nonnull(d),
            type_: kind,
            uri: uri.map(str::to_string),
            flags,
        };
        let r = self.call_domain_get_metadata(&args)?;
        Ok(r.metadata)
    }
    fn domain_get_security_label_list(&self, d: &DomainRef) -> Result<Vec<SecurityLabel>> {
        let args = DomainGetSecurityLabelListArgs { dom: nonnull(d) };
        let r = self.call_domain_get_security_label_list(&args)?;
        Ok(r.labels
            .iter()
            .map(|l| SecurityLabel {
                label: l.label_str(),
                enforcing: l.enforcing != 0,
            })
            .collect())
    }
    fn domain_get_security_label(&self, d: &DomainRef) -> Result<SecurityLabel> {
        let r =
            self.call_domain_get_security_label(&DomainGetSecurityLabelArgs { dom: nonnull(d) })?;
        Ok(SecurityLabel {
            label: r.label_str(),
            enforcing: r.enforcing != 0,
        })
    }

    /// One server-side callback per local registration; the server filters
    /// by domain and names the callback in every event it sends.
    fn domain_event_register_any(
        &self,
        d: Option<&DomainRef>,
        event: i32,
        callback: EventCallback,
    ) -> Result<i32> {
        if !self.event_callbacks {
            return Err(rvirt::driver::unsupported(
                "virConnectDomainEventRegisterAny",
            ));
        }
        let known = [
            event_id::LIFECYCLE,
            event_id::REBOOT,
            event_id::MIGRATION_ITERATION,
            event_id::JOB_COMPLETED,
            event_id::TUNABLE,
        ];
        if !known.contains(&event) {
            tracing::debug!(event, "events of this kind are not decoded yet");
        }
        let args = ConnectDomainEventCallbackRegisterAnyArgs {
            event_id: event,
            dom: d.map(nonnull),
        };
        self.events.by_server.register(
            || {
                let proc_ = Procedure::ConnectDomainEventCallbackRegisterAny;
                let r: ConnectDomainEventCallbackRegisterAnyRet = self.call(proc_, &args)?;
                Ok(r.callback_id)
            },
            || self.events.registry.register(d, event, callback),
        )
    }
    fn domain_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.events.by_server.deregister(callback_id, |server| {
            let args = ConnectDomainEventCallbackDeregisterAnyArgs {
                callback_id: server,
            };
            self.call_connect_domain_event_callback_deregister_any(&args)
        })?;
        self.events.registry.deregister(callback_id);
        Ok(())
    }
    fn connect_domain_xml_to_native(&self, format: &str, xml: &str, flags: u32) -> Result<String> {
        let args = ConnectDomainXmlToNativeArgs {
            native_format: format.to_string(),
            domain_xml: xml.to_string(),
            flags,
        };
        Ok(self.call_connect_domain_xml_to_native(&args)?.native_config)
    }
    fn domain_set_memory_flags(&self, d: &DomainRef, memory: u64, flags: u32) -> Result<()> {
        let dom = nonnull(d);
        self.call_domain_set_memory_flags(&DomainSetMemoryFlagsArgs { dom, memory, flags })
    }
    fn domain_set_vcpus_flags(&self, d: &DomainRef, nvcpus: u32, flags: u32) -> Result<()> {
        let dom = nonnull(d);
        self.call_domain_set_vcpus_flags(&DomainSetVcpusFlagsArgs { dom, nvcpus, flags })
    }
    fn domain_reset(&self, d: &DomainRef, flags: u32) -> Result<()> {
        let args = DomainResetArgs {
            dom: nonnull(d),
            flags,
        };
        self.call_domain_reset(&args)
    }
    fn domain_memory_stats(&self, d: &DomainRef, max: u32, flags: u32) -> Result<Vec<(i32, u64)>> {
        let args = DomainMemoryStatsArgs {
            dom: nonnull(d),
            max_stats: max,
            flags,
        };
        let r = self.call_domain_memory_stats(&args)?;
        Ok(r.stats.into_iter().map(|s| (s.tag, s.val)).collect())
    }
    /// (e)mulator binary, (a)rch, (m)achine, (v)irt type.
    fn domain_get_control_info(&self, d: &DomainRef, flags: u32) -> Result<(u32, u32, u64)> {
        self.control_info(d, flags)
    }
    fn domain_inject_nmi(&self, d: &DomainRef, flags: u32) -> Result<()> {
        self.inject_nmi(d, flags)
    }
    fn domain_get_disk_errors(
        &self,
        d: &DomainRef,
        max: u32,
        flags: u32,
    ) -> Result<(Vec<(String, i32)>, i32)> {
        self.disk_errors(d, max, flags)
    }
    fn domain_block_stats(&self, d: &DomainRef, path: &str) -> Result<rvirt::types::BlockStats> {
        self.block_stats(d, path)
    }
    fn domain_interface_stats(
        &self,
        d: &DomainRef,
        device: &str,
    ) -> Result<rvirt::types::InterfaceStats> {
        self.interface_stats(d, device)
    }
    fn get_domain_capabilities(
        &self,
        e: Opt,
        a: Opt,
        m: Opt,
        v: Opt,
        flags: u32,
    ) -> Result<String> {
        let owned = |s: Option<&str>| s.map(str::to_string);
        let args = ConnectGetDomainCapabilitiesArgs {
            emulatorbin: owned(e),
            arch: owned(a),
            machine: owned(m),
            virttype: owned(v),
            flags,
        };
        Ok(self
            .call_connect_get_domain_capabilities(&args)?
            .capabilities)
    }
    fn connect_get_all_domain_stats(&self, doms: &[DomainRef], stats: u32, f: u32) -> Records {
        let args = ConnectGetAllDomainStatsArgs {
            doms: doms.iter().map(nonnull).collect(),
            stats,
            flags: f,
        };
        let r = self.call_connect_get_all_domain_stats(&args)?;
        Ok(r.ret_stats
            .into_iter()
            .map(|rec| (domain_ref(rec.dom), rec.params))
            .collect())
    }
    fn domain_open_console(
        &self,
        d: &DomainRef,
        dev_name: Option<&str>,
        st: &rvirt::Stream,
        flags: u32,
    ) -> Result<()> {
        let args = DomainOpenConsoleArgs {
            dom: nonnull(d),
            dev_name: dev_name.map(str::to_string),
            flags,
        };
        self.open_stream::<rvirt_rpc::remote::procs::DomainOpenConsole>(st, &args)
    }
    fn domain_screenshot(
        &self,
        d: &DomainRef,
        st: &rvirt::Stream,
        screen: u32,
        flags: u32,
    ) -> Result<Option<String>> {
        let args = DomainScreenshotArgs {
            dom: nonnull(d),
            screen,
            flags,
        };
        let ret = self.open_stream::<rvirt_rpc::remote::procs::DomainScreenshot>(st, &args)?;
        Ok(ret.mime)
    }
}
