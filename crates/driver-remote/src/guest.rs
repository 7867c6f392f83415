//! The guest entry points over the wire (`REMOTE_PROC_DOMAIN_GET_TIME`,
//! `_FSFREEZE`, `_GET_FSINFO`, `_RENAME`, ...), most of them one
//! procedure each through [`forward!`].

use crate::conn::{nonnull, RemoteConnection};
use crate::forward::forward;
use rvirt::driver::guest::{BlockInfo, FsInfo};
use rvirt::driver::{DomainRef, GuestDriver};
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_util::{Result, TypedParams};

impl GuestDriver for RemoteConnection {
    forward! {
        fn set_time(dom: &DomainRef, seconds: i64, nseconds: u32, flags: u32) -> ()
            = DomainSetTimeArgs;
        fn fs_trim(dom: &DomainRef, mount_point: Option<&str>, minimum: u64, flags: u32) -> ()
            = DomainFstrimArgs;
        fn send_process_signal(dom: &DomainRef, pid_value: i64, signum: u32, flags: u32) -> ()
            = DomainSendProcessSignalArgs;
        fn get_perf_events(dom: &DomainRef, flags: u32) -> TypedParams
            = DomainGetPerfEventsArgs.params;
        fn set_perf_events(dom: &DomainRef, params: &TypedParams, flags: u32) -> ()
            = DomainSetPerfEventsArgs;
        fn set_lifecycle_action(dom: &DomainRef, type_: u32, action: u32, flags: u32) -> ()
            = DomainSetLifecycleActionArgs;
        fn get_messages(dom: &DomainRef, flags: u32) -> Vec<String>
            = DomainGetMessagesArgs.msgs;
        fn get_launch_security_info(dom: &DomainRef, flags: u32) -> TypedParams
            = DomainGetLaunchSecurityInfoArgs.params;
        fn set_memory_stats_period(dom: &DomainRef, period: i32, flags: u32) -> ()
            = DomainSetMemoryStatsPeriodArgs;
    }

    fn get_time(&self, d: &DomainRef, flags: u32) -> Result<(i64, u32)> {
        let args = DomainGetTimeArgs {
            dom: nonnull(d),
            flags,
        };
        let r = self.call_domain_get_time(&args)?;
        Ok((r.seconds, r.nseconds))
    }

    fn fs_freeze(&self, d: &DomainRef, mountpoints: &[String], flags: u32) -> Result<i32> {
        let args = DomainFsfreezeArgs {
            dom: nonnull(d),
            mountpoints: mountpoints.to_vec(),
            flags,
        };
        Ok(self.call_domain_fsfreeze(&args)?.filesystems)
    }

    fn fs_thaw(&self, d: &DomainRef, mountpoints: &[String], flags: u32) -> Result<i32> {
        let args = DomainFsthawArgs {
            dom: nonnull(d),
            mountpoints: mountpoints.to_vec(),
            flags,
        };
        Ok(self.call_domain_fsthaw(&args)?.filesystems)
    }

    fn get_fs_info(&self, d: &DomainRef, flags: u32) -> Result<Vec<FsInfo>> {
        let args = DomainGetFsinfoArgs {
            dom: nonnull(d),
            flags,
        };
        let r = self.call_domain_get_fsinfo(&args)?;
        Ok(r.info
            .into_iter()
            .map(|fs| FsInfo {
                mountpoint: fs.mountpoint,
                name: fs.name,
                fstype: fs.fstype,
                dev_aliases: fs.dev_aliases,
            })
            .collect())
    }

    fn set_user_password(
        &self,
        d: &DomainRef,
        user: &str,
        password: &str,
        flags: u32,
    ) -> Result<()> {
        let args = DomainSetUserPasswordArgs {
            dom: nonnull(d),
            user: Some(user.into()),
            password: Some(password.into()),
            flags,
        };
        self.call_domain_set_user_password(&args)
    }

    fn set_metadata(
        &self,
        d: &DomainRef,
        kind: i32,
        metadata: Option<&str>,
        key: Option<&str>,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        let args = DomainSetMetadataArgs {
            dom: nonnull(d),
            type_: kind,
            metadata: metadata.map(str::to_string),
            key: key.map(str::to_string),
            uri: uri.map(str::to_string),
            flags,
        };
        self.call_domain_set_metadata(&args)
    }

    /// `remoteDomainRename`: the handle takes the new name on success.
    fn rename(&self, d: &DomainRef, new_name: &str, flags: u32) -> Result<DomainRef> {
        let args = DomainRenameArgs {
            dom: nonnull(d),
            new_name: Some(new_name.into()),
            flags,
        };
        self.call_domain_rename(&args)?;
        Ok(DomainRef {
            name: new_name.into(),
            ..d.clone()
        })
    }

    fn memory_peek(&self, d: &DomainRef, offset: u64, size: u32, flags: u32) -> Result<Vec<u8>> {
        let args = DomainMemoryPeekArgs {
            dom: nonnull(d),
            offset,
            size,
            flags,
        };
        Ok(self.call_domain_memory_peek(&args)?.buffer)
    }

    fn get_block_info(&self, d: &DomainRef, path: &str, flags: u32) -> Result<BlockInfo> {
        let args = DomainGetBlockInfoArgs {
            dom: nonnull(d),
            path: path.into(),
            flags,
        };
        let r = self.call_domain_get_block_info(&args)?;
        Ok(BlockInfo {
            capacity: r.capacity,
            allocation: r.allocation,
            physical: r.physical,
        })
    }
}
