//! The driver traits: what a hypervisor driver (test, qemu) or the remote
//! driver implements, one method per libvirt driver entry point
//! (`virHypervisorDriver` in libvirt's src/driver-hypervisor.h).
//!
//! Every method has a default that reports `VIR_ERR_NO_SUPPORT` naming the
//! public API, exactly what libvirt says when a driver leaves an entry NULL,
//! so a driver implements only what it can really do.

use crate::events::EventCallback;
use crate::types::{DomainInfo, DomainState, NodeInfo, SecurityLabel, SecurityModel};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use std::sync::Arc;

pub mod checkpoint;
pub mod guest;
pub mod host;
pub mod interface;
pub mod migration;
pub mod migration_args;
pub mod network;
pub mod nodedev;
pub mod nwfilter;
pub mod save;
pub mod secret;
pub mod shared;
pub mod snapshot;
pub mod storage;
pub mod tuning;
pub use checkpoint::CheckpointDriver;
pub use guest::GuestDriver;
pub use host::HostDriver;
pub use interface::{InterfaceDriver, InterfaceRef};
pub use migration::{Cookie, MigrationDriver};
pub use migration_args::{Begin3Args, FinishArgs, ParamsArgs, PerformArgs, PrepareArgs};
pub use network::{DhcpLease, NetworkDriver, NetworkRef, NetworkUpdate};
pub use nodedev::{NodeDeviceDriver, NodeDeviceRef};
pub use nwfilter::{NWFilterBindingRef, NWFilterDriver, NWFilterRef};
pub use save::SaveDriver;
pub use secret::{SecretDriver, SecretRef};
pub use snapshot::SnapshotDriver;
pub use storage::StorageDriver;
pub use tuning::TuningDriver;

/// The identity of a domain as libvirt's `virDomainPtr` carries it: enough
/// for a driver to find its object again, and what crosses the wire as
/// `remote_nonnull_domain`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DomainRef {
    pub name: String,
    pub uuid: [u8; 16],
    /// -1 when the domain is not running.
    pub id: i32,
}

impl DomainRef {
    pub fn uuid_string(&self) -> String {
        rvirt_util::uuid::Uuid::from_bytes(self.uuid).to_string()
    }
}

/// What `ConnectDriver::open` decides about a URI.
pub enum OpenOutcome {
    /// This driver serves the URI.
    Opened(Arc<dyn HypervisorConnection>),
    /// Not this driver's URI: try the next one (`VIR_DRV_OPEN_DECLINED`).
    Declined,
}

/// A driver that can open connections (libvirt's `virConnectDriver`).
pub trait ConnectDriver: Send + Sync {
    /// Short name, e.g. "Test", "QEMU", "remote".
    fn name(&self) -> &'static str;

    /// Whether this is the remote driver, which libvirt tries last and only
    /// for URIs naming a transport or host.
    fn is_remote(&self) -> bool {
        false
    }

    fn open(&self, uri: &Uri, flags: u32) -> Result<OpenOutcome>;

    /// Start the driver's daemon-side state (libvirt's `stateInitialize`):
    /// what it needs from the daemon's configuration, and any listener or
    /// thread it owns from then on. A program that never calls this (a
    /// client such as rvirsh) gets the driver's defaults.
    fn state_initialize(&self, config: &StateConfig) -> Result<()> {
        let _ = config;
        Ok(())
    }
}

/// What a daemon hands every driver at start-up: the host's identity and
/// the driver settings of its configuration file, by key
/// (`test_relocation_listen`, ...). Each driver reads the keys it knows.
#[derive(Clone, Debug, Default)]
pub struct StateConfig {
    /// libvirtd.conf's `host_uuid`: the host UUID drivers report.
    pub host_uuid: Option<[u8; 16]>,
    pub settings: std::collections::BTreeMap<String, String>,
}

impl StateConfig {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }
}

/// `virReportUnsupportedError`: the text libvirt gives for a NULL driver entry.
pub fn unsupported(api: &str) -> Error {
    Error::new(ErrorDomain::NONE, ErrorCode::NO_SUPPORT, api)
}

/// [`unsupported`] raised in a public API file of its own error `domain`
/// (`VIR_FROM_NODEDEV` in libvirt-nodedev.c...).
pub fn unsupported_in(domain: ErrorDomain, api: &str) -> Error {
    Error::new(domain, ErrorCode::NO_SUPPORT, api)
}

macro_rules! unsupported_default {
    ($api:literal) => {
        Err(unsupported($api))
    };
}

/// One open connection to a hypervisor (libvirt's `virHypervisorDriver`
/// bound to a `virConnectPtr`).
#[allow(unused_variables)]
pub trait HypervisorConnection: MigrationDriver + Send + Sync {
    /// Called once when the last public handle goes away.
    fn close(&self) -> Result<()> {
        Ok(())
    }

    /// `virConnectGetType`, e.g. "TEST", "QEMU".
    fn get_type(&self) -> Result<String>;
    fn get_version(&self) -> Result<u64> {
        unsupported_default!("virConnectGetVersion")
    }
    fn get_lib_version(&self) -> Result<u64> {
        Ok(crate::LIB_VERSION)
    }
    fn get_hostname(&self) -> Result<String> {
        unsupported_default!("virConnectGetHostname")
    }
    fn get_uri(&self) -> Result<String>;
    fn get_max_vcpus(&self, type_: Option<&str>) -> Result<i32> {
        unsupported_default!("virConnectGetMaxVcpus")
    }
    fn is_secure(&self) -> Result<bool> {
        Ok(true)
    }
    fn is_encrypted(&self) -> Result<bool> {
        Ok(false)
    }
    fn is_alive(&self) -> bool {
        true
    }
    /// `virConnectSetKeepAlive`: PING a silent peer every `interval`
    /// seconds and close the connection after `count` unanswered PINGs
    /// (`interval` <= 0: no PINGs). Only a connection to a daemon has a
    /// peer to watch.
    fn set_keep_alive(&self, interval: i32, count: u32) -> Result<()> {
        unsupported_default!("virConnectSetKeepAlive")
    }
    /// Whether reads (lookups, lists, info, state, XML, host facts) are
    /// answered from memory, never waiting on a guest, a peer or a job.
    /// rvirtd runs such reads on the client's own task rather than a
    /// worker thread. Off unless a driver promises it.
    fn reads_are_quick(&self) -> bool {
        false
    }
    /// `virConnectSupportsFeature` with libvirt's `VIR_DRV_FEATURE_*` values.
    fn supports_feature(&self, feature: i32) -> Result<bool> {
        Ok(false)
    }
    fn node_get_info(&self) -> Result<NodeInfo> {
        unsupported_default!("virNodeGetInfo")
    }
    fn get_capabilities(&self) -> Result<String> {
        unsupported_default!("virConnectGetCapabilities")
    }
    /// `virNodeGetCPUMap`: the host's CPU count, the map of the online
    /// ones (a byte per eight) and how many are online.
    fn node_get_cpu_map(&self, flags: u32) -> Result<(i32, Vec<u8>, u32)> {
        unsupported_default!("virNodeGetCPUMap")
    }
    fn node_get_security_model(&self) -> Result<SecurityModel> {
        unsupported_default!("virNodeGetSecurityModel")
    }

    fn list_all_domains(&self, flags: u32) -> Result<Vec<DomainRef>> {
        unsupported_default!("virConnectListAllDomains")
    }
    fn list_domains(&self, max: usize) -> Result<Vec<i32>> {
        unsupported_default!("virConnectListDomains")
    }
    fn num_of_domains(&self) -> Result<usize> {
        unsupported_default!("virConnectNumOfDomains")
    }
    fn list_defined_domains(&self, max: usize) -> Result<Vec<String>> {
        unsupported_default!("virConnectListDefinedDomains")
    }
    fn num_of_defined_domains(&self) -> Result<usize> {
        unsupported_default!("virConnectNumOfDefinedDomains")
    }

    fn domain_lookup_by_name(&self, name: &str) -> Result<DomainRef> {
        unsupported_default!("virDomainLookupByName")
    }
    fn domain_lookup_by_id(&self, id: i32) -> Result<DomainRef> {
        unsupported_default!("virDomainLookupByID")
    }
    fn domain_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<DomainRef> {
        unsupported_default!("virDomainLookupByUUID")
    }

    fn domain_define_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        unsupported_default!("virDomainDefineXMLFlags")
    }
    fn domain_undefine(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        unsupported_default!("virDomainUndefineFlags")
    }
    fn domain_create_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        unsupported_default!("virDomainCreateXML")
    }
    fn domain_create(&self, dom: &DomainRef, flags: u32) -> Result<DomainRef> {
        unsupported_default!("virDomainCreateWithFlags")
    }
    fn domain_shutdown(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        unsupported_default!("virDomainShutdownFlags")
    }
    fn domain_destroy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        unsupported_default!("virDomainDestroyFlags")
    }
    fn domain_suspend(&self, dom: &DomainRef) -> Result<()> {
        unsupported_default!("virDomainSuspend")
    }
    fn domain_resume(&self, dom: &DomainRef) -> Result<()> {
        unsupported_default!("virDomainResume")
    }
    fn domain_reboot(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        unsupported_default!("virDomainReboot")
    }

    fn domain_get_info(&self, dom: &DomainRef) -> Result<DomainInfo> {
        unsupported_default!("virDomainGetInfo")
    }
    fn domain_get_state(&self, dom: &DomainRef, flags: u32) -> Result<(DomainState, i32)> {
        unsupported_default!("virDomainGetState")
    }
    fn domain_get_xml_desc(&self, dom: &DomainRef, flags: u32) -> Result<String> {
        unsupported_default!("virDomainGetXMLDesc")
    }
    fn domain_get_os_type(&self, dom: &DomainRef) -> Result<String> {
        unsupported_default!("virDomainGetOSType")
    }
    fn domain_get_max_memory(&self, dom: &DomainRef) -> Result<u64> {
        unsupported_default!("virDomainGetMaxMemory")
    }
    fn domain_get_hostname(&self, dom: &DomainRef, flags: u32) -> Result<String> {
        unsupported_default!("virDomainGetHostname")
    }
    fn domain_get_vcpus_flags(&self, dom: &DomainRef, flags: u32) -> Result<i32> {
        unsupported_default!("virDomainGetVcpusFlags")
    }
    fn domain_get_autostart(&self, dom: &DomainRef) -> Result<bool> {
        unsupported_default!("virDomainGetAutostart")
    }
    fn domain_set_autostart(&self, dom: &DomainRef, autostart: bool) -> Result<()> {
        unsupported_default!("virDomainSetAutostart")
    }
    fn domain_is_active(&self, dom: &DomainRef) -> Result<bool> {
        unsupported_default!("virDomainIsActive")
    }
    fn domain_is_persistent(&self, dom: &DomainRef) -> Result<bool> {
        unsupported_default!("virDomainIsPersistent")
    }
    fn domain_is_updated(&self, dom: &DomainRef) -> Result<bool> {
        unsupported_default!("virDomainIsUpdated")
    }
    fn domain_has_managed_save_image(&self, dom: &DomainRef, flags: u32) -> Result<bool> {
        unsupported_default!("virDomainHasManagedSaveImage")
    }
    /// `virDomainGetMetadata` (type: [`crate::flags::metadata`]).
    fn domain_get_metadata(
        &self,
        dom: &DomainRef,
        kind: i32,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        unsupported_default!("virDomainGetMetadata")
    }
    fn domain_get_security_label(&self, dom: &DomainRef) -> Result<SecurityLabel> {
        unsupported_default!("virDomainGetSecurityLabel")
    }
    /// `virDomainGetSecurityLabelList`: one label per security driver of
    /// a running guest, none for an inactive one.
    fn domain_get_security_label_list(&self, dom: &DomainRef) -> Result<Vec<SecurityLabel>> {
        unsupported_default!("virDomainGetSecurityLabelList")
    }

    /// `virConnectDomainEventRegisterAny`: returns the callback id.
    fn domain_event_register_any(
        &self,
        dom: Option<&DomainRef>,
        event_id: i32,
        callback: EventCallback,
    ) -> Result<i32> {
        unsupported_default!("virConnectDomainEventRegisterAny")
    }
    fn domain_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        unsupported_default!("virConnectDomainEventDeregisterAny")
    }

    /// The driver's snapshot entry points, if it keeps snapshots (see
    /// [`SnapshotDriver`]); `None` makes every snapshot call
    /// `VIR_ERR_NO_SUPPORT`.
    fn snapshots(&self) -> Option<&dyn SnapshotDriver> {
        None
    }
    /// The driver's checkpoint entry points, if it keeps checkpoints (see
    /// [`CheckpointDriver`]); `None` makes every checkpoint call
    /// `VIR_ERR_NO_SUPPORT`.
    fn checkpoints(&self) -> Option<&dyn CheckpointDriver> {
        None
    }
    /// The resource-tuning entry points ([`TuningDriver`]), if any.
    fn tuning(&self) -> Option<&dyn TuningDriver> {
        None
    }
    /// The guest's clock, filesystems, keys, metadata, renaming, ...
    /// ([`GuestDriver`]), if any.
    fn guest(&self) -> Option<&dyn GuestDriver> {
        None
    }
    /// Save, restore, managed save and core dumps ([`SaveDriver`]), if
    /// any.
    fn save(&self) -> Option<&dyn SaveDriver> {
        None
    }
    /// Host memory, CPU statistics and sysinfo ([`HostDriver`]), if any.
    fn host(&self) -> Option<&dyn HostDriver> {
        None
    }
    /// The virtual network driver ([`NetworkDriver`]), if any.
    fn network(&self) -> Option<&dyn NetworkDriver> {
        None
    }
    /// Whether this connection uses the daemon's host-wide secondary
    /// drivers ([`shared`]) where it has none of its own: libvirt's
    /// `virConnectDriver.local`, true for `qemu:///system`.
    fn uses_shared_drivers(&self) -> bool {
        false
    }
    /// The network filter driver ([`NWFilterDriver`]), if any.
    fn nwfilter(&self) -> Option<&dyn NWFilterDriver> {
        None
    }

    /// The storage driver beside this connection (pools and volumes), if
    /// any; `None` makes every storage call `VIR_ERR_NO_SUPPORT`.
    fn storage(&self) -> Option<&dyn StorageDriver> {
        None
    }
    /// The node device driver ([`NodeDeviceDriver`]), if any.
    fn node_devices(&self) -> Option<&dyn NodeDeviceDriver> {
        None
    }
    /// The secret driver ([`SecretDriver`]), if any.
    fn secrets(&self) -> Option<&dyn SecretDriver> {
        None
    }
    /// The host interface driver ([`InterfaceDriver`]), if any.
    fn interfaces(&self) -> Option<&dyn InterfaceDriver> {
        None
    }

    /// `virConnectDomainXMLToNative`, e.g. format `qemu-argv`.
    fn connect_domain_xml_to_native(&self, format: &str, xml: &str, flags: u32) -> Result<String> {
        unsupported_default!("virConnectDomainXMLToNative")
    }
    /// `virDomainSetMemoryFlags` (memory in KiB; `VIR_DOMAIN_AFFECT_*`,
    /// `VIR_DOMAIN_MEM_MAXIMUM`).
    fn domain_set_memory_flags(&self, dom: &DomainRef, memory_kib: u64, flags: u32) -> Result<()> {
        unsupported_default!("virDomainSetMemoryFlags")
    }
    /// `virDomainSetVcpusFlags` (`VIR_DOMAIN_AFFECT_*`,
    /// `VIR_DOMAIN_VCPU_MAXIMUM`, `_GUEST`, `_HOTPLUGGABLE`).
    fn domain_set_vcpus_flags(&self, dom: &DomainRef, nvcpus: u32, flags: u32) -> Result<()> {
        unsupported_default!("virDomainSetVcpusFlags")
    }
    /// `virDomainReset`: a hard reset, without the guest's cooperation.
    fn domain_reset(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        unsupported_default!("virDomainReset")
    }
    /// `virDomainMemoryStats`: (`VIR_DOMAIN_MEMORY_STAT_*` tag, value).
    fn domain_memory_stats(
        &self,
        dom: &DomainRef,
        max: u32,
        flags: u32,
    ) -> Result<Vec<(i32, u64)>> {
        unsupported_default!("virDomainMemoryStats")
    }
    /// `virDomainGetControlInfo`: (state, details, milliseconds in it).
    fn domain_get_control_info(&self, dom: &DomainRef, flags: u32) -> Result<(u32, u32, u64)> {
        unsupported_default!("virDomainGetControlInfo")
    }
    /// `virDomainInjectNMI`.
    fn domain_inject_nmi(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        unsupported_default!("virDomainInjectNMI")
    }
    /// `virDomainGetDiskErrors`: up to `max` (disk, `VIR_DOMAIN_DISK_ERROR_*`),
    /// and with `max` 0 the count alone.
    fn domain_get_disk_errors(
        &self,
        dom: &DomainRef,
        max: u32,
        flags: u32,
    ) -> Result<(Vec<(String, i32)>, i32)> {
        unsupported_default!("virDomainGetDiskErrors")
    }
    /// `virDomainBlockStats` of the disk `path` (target or source).
    fn domain_block_stats(&self, dom: &DomainRef, path: &str) -> Result<crate::types::BlockStats> {
        unsupported_default!("virDomainBlockStats")
    }
    /// `virDomainInterfaceStats` of the interface `device` (name or MAC).
    fn domain_interface_stats(
        &self,
        dom: &DomainRef,
        device: &str,
    ) -> Result<crate::types::InterfaceStats> {
        unsupported_default!("virDomainInterfaceStats")
    }
    /// `virConnectGetDomainCapabilities`.
    fn get_domain_capabilities(
        &self,
        emulator: Option<&str>,
        arch: Option<&str>,
        machine: Option<&str>,
        virt_type: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        unsupported_default!("virConnectGetDomainCapabilities")
    }
    /// `virConnectGetAllDomainStats` / `virDomainListGetStats` (`doms`
    /// empty: every domain the list flags in `flags` select).
    fn connect_get_all_domain_stats(
        &self,
        doms: &[DomainRef],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<(DomainRef, rvirt_util::TypedParams)>> {
        unsupported_default!("virConnectGetAllDomainStats")
    }
    /// `virDomainQemuMonitorCommand` (libvirt-qemu): QEMU's reply to a
    /// command of the caller's (flag 1: a human-monitor line).
    fn domain_qemu_monitor_command(
        &self,
        dom: &DomainRef,
        cmd: &str,
        flags: u32,
    ) -> Result<String> {
        unsupported_default!("virDomainQemuMonitorCommand")
    }
    /// `virDomainOpenConsole`: bind `st` to the guest's console or serial
    /// port `dev_name` (`None`: the first one), in both directions.
    fn domain_open_console(
        &self,
        dom: &DomainRef,
        dev_name: Option<&str>,
        st: &crate::Stream,
        flags: u32,
    ) -> Result<()> {
        unsupported_default!("virDomainOpenConsole")
    }
    /// `virDomainScreenshot`: bind `st` to an image of `screen`, whose
    /// bytes the client then reads; the image's MIME type.
    fn domain_screenshot(
        &self,
        dom: &DomainRef,
        st: &crate::Stream,
        screen: u32,
        flags: u32,
    ) -> Result<Option<String>> {
        unsupported_default!("virDomainScreenshot")
    }
}
