//! The entry points of `virHypervisorDriver` about the guest itself and
//! its definition beyond the lifecycle: its clock (`domainGetTime`,
//! `domainSetTime`), filesystems (`domainFSFreeze`, `domainFSThaw`,
//! `domainFSTrim`, `domainGetFSInfo`), input and processes
//! (`domainSendKey`, `domainSendProcessSignal`), users
//! (`domainSetUserPassword`), addresses (`domainInterfaceAddresses`),
//! perf events, metadata, renaming, lifecycle actions, messages, the
//! launch security and memory statistics period, block device sizes.
//! A driver that has them hands this out through
//! [`super::HypervisorConnection::guest`]; `None` makes every call
//! `VIR_ERR_NO_SUPPORT`, as does each method a driver leaves to its
//! default (libvirt's NULL entry).

use super::{unsupported, DomainRef};
use rvirt_util::{Result, TypedParams};

/// One filesystem of a guest (`virDomainFSInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsInfo {
    pub mountpoint: String,
    pub name: String,
    pub fstype: String,
    /// The disks (target names) it lives on.
    pub dev_aliases: Vec<String>,
}

/// One address of a guest interface (`virDomainIPAddress`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAddress {
    /// `VIR_IP_ADDR_TYPE_IPV4` (0) or `_IPV6` (1).
    pub kind: i32,
    pub addr: String,
    pub prefix: u32,
}

/// One interface as `virDomainInterfaceAddresses` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestInterface {
    pub name: String,
    pub hwaddr: Option<String>,
    pub addrs: Vec<IpAddress>,
}

/// `virDomainBlockInfo`: (capacity, allocation, physical) in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    pub capacity: u64,
    pub allocation: u64,
    pub physical: u64,
}

pub trait GuestDriver: Send + Sync {
    /// `virDomainGetTime`: (seconds, nanoseconds) of the guest's clock.
    fn get_time(&self, _dom: &DomainRef, _flags: u32) -> Result<(i64, u32)> {
        Err(unsupported("virDomainGetTime"))
    }
    /// `virDomainSetTime`.
    fn set_time(&self, _dom: &DomainRef, _seconds: i64, _nseconds: u32, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSetTime"))
    }
    /// `virDomainFSFreeze`: how many filesystems were frozen (`mountpoints`
    /// empty: all of them).
    fn fs_freeze(&self, _dom: &DomainRef, _mountpoints: &[String], _flags: u32) -> Result<i32> {
        Err(unsupported("virDomainFSFreeze"))
    }
    /// `virDomainFSThaw`: how many were thawed.
    fn fs_thaw(&self, _dom: &DomainRef, _mountpoints: &[String], _flags: u32) -> Result<i32> {
        Err(unsupported("virDomainFSThaw"))
    }
    /// `virDomainFSTrim` (`mount_point` `None`: every filesystem).
    fn fs_trim(
        &self,
        _dom: &DomainRef,
        _mount_point: Option<&str>,
        _minimum: u64,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainFSTrim"))
    }
    /// `virDomainGetFSInfo`.
    fn get_fs_info(&self, _dom: &DomainRef, _flags: u32) -> Result<Vec<FsInfo>> {
        Err(unsupported("virDomainGetFSInfo"))
    }
    /// `virDomainSendKey`: `keycodes` of `codeset` (`VIR_KEYCODE_SET_*`),
    /// held `holdtime` ms.
    fn send_key(
        &self,
        _dom: &DomainRef,
        _codeset: u32,
        _holdtime: u32,
        _keycodes: &[u32],
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSendKey"))
    }
    /// `virDomainSendProcessSignal`.
    fn send_process_signal(
        &self,
        _dom: &DomainRef,
        _pid: i64,
        _signum: u32,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSendProcessSignal"))
    }
    /// `virDomainSetUserPassword`.
    fn set_user_password(
        &self,
        _dom: &DomainRef,
        _user: &str,
        _password: &str,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSetUserPassword"))
    }
    /// `virDomainInterfaceAddresses` from `source`
    /// (`VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_*`).
    fn interface_addresses(
        &self,
        _dom: &DomainRef,
        _source: u32,
        _flags: u32,
    ) -> Result<Vec<GuestInterface>> {
        Err(unsupported("virDomainInterfaceAddresses"))
    }
    /// `virDomainGetPerfEvents`: each event and whether it is enabled.
    fn get_perf_events(&self, _dom: &DomainRef, _flags: u32) -> Result<TypedParams> {
        Err(unsupported("virDomainGetPerfEvents"))
    }
    /// `virDomainSetPerfEvents`.
    fn set_perf_events(&self, _dom: &DomainRef, _params: &TypedParams, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSetPerfEvents"))
    }
    /// `virDomainSetMetadata` (`kind`: [`crate::flags::metadata`];
    /// `metadata` `None` removes it).
    fn set_metadata(
        &self,
        _dom: &DomainRef,
        _kind: i32,
        _metadata: Option<&str>,
        _key: Option<&str>,
        _uri: Option<&str>,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSetMetadata"))
    }
    /// `virDomainRename`: the domain under its new name.
    fn rename(&self, _dom: &DomainRef, _new_name: &str, _flags: u32) -> Result<DomainRef> {
        Err(unsupported("virDomainRename"))
    }
    /// `virDomainSetLifecycleAction` (`VIR_DOMAIN_LIFECYCLE_*` and
    /// `VIR_DOMAIN_LIFECYCLE_ACTION_*`).
    fn set_lifecycle_action(
        &self,
        _dom: &DomainRef,
        _kind: u32,
        _action: u32,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSetLifecycleAction"))
    }
    /// `virDomainGetMessages`.
    fn get_messages(&self, _dom: &DomainRef, _flags: u32) -> Result<Vec<String>> {
        Err(unsupported("virDomainGetMessages"))
    }
    /// `virDomainGetLaunchSecurityInfo`.
    fn get_launch_security_info(&self, _dom: &DomainRef, _flags: u32) -> Result<TypedParams> {
        Err(unsupported("virDomainGetLaunchSecurityInfo"))
    }
    /// `virDomainSetMemoryStatsPeriod` (seconds; 0 stops the collection).
    fn set_memory_stats_period(&self, _dom: &DomainRef, _period: i32, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSetMemoryStatsPeriod"))
    }
    /// `virDomainMemoryPeek`: `size` bytes of guest memory from `start`
    /// (`VIR_MEMORY_VIRTUAL` or `VIR_MEMORY_PHYSICAL` in `flags`).
    fn memory_peek(
        &self,
        _dom: &DomainRef,
        _start: u64,
        _size: u32,
        _flags: u32,
    ) -> Result<Vec<u8>> {
        Err(unsupported("virDomainMemoryPeek"))
    }
    /// `virDomainGetBlockInfo` of the disk `path` (target or source).
    fn get_block_info(&self, _dom: &DomainRef, _path: &str, _flags: u32) -> Result<BlockInfo> {
        Err(unsupported("virDomainGetBlockInfo"))
    }
}
