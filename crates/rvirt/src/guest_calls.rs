//! The public calls of a domain about the guest and its definition
//! (libvirt-domain.c: time, filesystems, keys, signals, passwords,
//! addresses, perf events, metadata, rename, lifecycle actions, messages,
//! launch security, the memory statistics period, block info), with the
//! argument checks the public API makes before the driver, handed to the
//! driver's [`GuestDriver`].

use crate::driver::guest::{BlockInfo, FsInfo, GuestInterface};
use crate::driver::GuestDriver;
use crate::tuning::arg_error;
use crate::Domain;
use rvirt_util::{Error, ErrorDomain, Result, TypedParams};

/// `VIR_KEYCODE_SET_LAST`: the codesets libvirt knows.
const KEYCODE_SETS: u32 = 10;
/// `VIR_DOMAIN_SEND_KEY_MAX_KEYS`.
const SEND_KEY_MAX_KEYS: usize = 16;
/// `VIR_DOMAIN_LIFECYCLE_LAST`, `VIR_DOMAIN_LIFECYCLE_ACTION_LAST`.
const LIFECYCLE_TYPES: u32 = 3;
const LIFECYCLE_ACTIONS: u32 = 6;
/// `VIR_TYPED_PARAM_STRING_OKAY`.
const STRING_OKAY: u32 = 1 << 2;
/// `VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT`.
const ADDRESSES_SRC_AGENT: u32 = 1;

/// `virCheckNonNullArgGoto`: `arg` may not be NULL in `api`.
fn non_null<'a>(arg: Option<&'a str>, name: &str, api: &str) -> Result<&'a str> {
    arg.ok_or_else(|| arg_error(format!("{name} in {api} must not be NULL")))
}

/// `virCheckNullArgGoto`.
fn null(arg: Option<&str>, name: &str, api: &str) -> Result<()> {
    match arg {
        Some(_) => Err(arg_error(format!("{name} in {api} must be NULL"))),
        None => Ok(()),
    }
}

/// `virCheckNonEmptyStringArgGoto`.
fn non_empty<'a>(arg: Option<&'a str>, name: &str, api: &str) -> Result<&'a str> {
    match non_null(arg, name, api)? {
        "" => Err(arg_error(format!(
            "string {name} in {api} must not be empty"
        ))),
        s => Ok(s),
    }
}

impl Domain {
    fn guest_driver(&self, api: &str) -> Result<&dyn GuestDriver> {
        self.connect()
            .driver()
            .guest()
            .ok_or_else(|| crate::driver::unsupported(api))
    }

    /// `virDomainGetTime`: the guest's clock (seconds, nanoseconds).
    pub fn get_time(&self, flags: u32) -> Result<(i64, u32)> {
        self.connect().check_writable("virDomainGetTime")?;
        let d = self.guest_driver("virDomainGetTime")?;
        d.get_time(self.domain_ref(), flags)
    }

    /// `virDomainSetTime`.
    pub fn set_time(&self, seconds: i64, nseconds: u32, flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainSetTime")?;
        let d = self.guest_driver("virDomainSetTime")?;
        d.set_time(self.domain_ref(), seconds, nseconds, flags)
    }

    /// `virDomainFSFreeze`: how many filesystems were frozen.
    pub fn fs_freeze(&self, mountpoints: &[String], flags: u32) -> Result<i32> {
        self.connect().check_writable("virDomainFSFreeze")?;
        let d = self.guest_driver("virDomainFSFreeze")?;
        d.fs_freeze(self.domain_ref(), mountpoints, flags)
    }

    /// `virDomainFSThaw`: how many filesystems were thawed.
    pub fn fs_thaw(&self, mountpoints: &[String], flags: u32) -> Result<i32> {
        self.connect().check_writable("virDomainFSThaw")?;
        let d = self.guest_driver("virDomainFSThaw")?;
        d.fs_thaw(self.domain_ref(), mountpoints, flags)
    }

    /// `virDomainFSTrim`.
    pub fn fs_trim(&self, mount_point: Option<&str>, minimum: u64, flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainFSTrim")?;
        let d = self.guest_driver("virDomainFSTrim")?;
        d.fs_trim(self.domain_ref(), mount_point, minimum, flags)
    }

    /// `virDomainGetFSInfo`.
    pub fn get_fs_info(&self, flags: u32) -> Result<Vec<FsInfo>> {
        self.connect().check_writable("virDomainGetFSInfo")?;
        let d = self.guest_driver("virDomainGetFSInfo")?;
        d.get_fs_info(self.domain_ref(), flags)
    }

    /// `virDomainSendKey`.
    pub fn send_key(
        &self,
        codeset: u32,
        holdtime: u32,
        keycodes: &[u32],
        flags: u32,
    ) -> Result<()> {
        self.connect().check_writable("virDomainSendKey")?;
        if keycodes.is_empty() {
            // What a zero-length list reaches the API as: NULL.
            return Err(arg_error("keycodes in virDomainSendKey must not be NULL"));
        }
        if codeset >= KEYCODE_SETS {
            return Err(arg_error(format!("Unsupported codeset '{codeset}'")));
        }
        if keycodes.len() > SEND_KEY_MAX_KEYS {
            return Err(arg_error(format!(
                "nkeycodes must be <= {SEND_KEY_MAX_KEYS}"
            )));
        }
        let d = self.guest_driver("virDomainSendKey")?;
        d.send_key(self.domain_ref(), codeset, holdtime, keycodes, flags)
    }

    /// `virDomainSendProcessSignal`.
    pub fn send_process_signal(&self, pid: i64, signum: u32, flags: u32) -> Result<()> {
        if pid == 0 {
            return Err(arg_error(
                "pid_value in virDomainSendProcessSignal must not be zero",
            ));
        }
        self.connect()
            .check_writable("virDomainSendProcessSignal")?;
        let d = self.guest_driver("virDomainSendProcessSignal")?;
        d.send_process_signal(self.domain_ref(), pid, signum, flags)
    }

    /// `virDomainSetUserPassword` (`None` stands for C's NULL).
    pub fn set_user_password(
        &self,
        user: Option<&str>,
        password: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        const API: &str = "virDomainSetUserPassword";
        self.connect().check_writable("virDomainSetUserPassword")?;
        let user = non_null(user, "user", API)?;
        let password = non_null(password, "password", API)?;
        let d = self.guest_driver(API)?;
        d.set_user_password(self.domain_ref(), user, password, flags)
    }

    /// `virDomainInterfaceAddresses` from `source`; asking the guest
    /// agent needs a read-write connection.
    pub fn interface_addresses(&self, source: u32, flags: u32) -> Result<Vec<GuestInterface>> {
        if source == ADDRESSES_SRC_AGENT {
            self.connect()
                .check_writable("virDomainInterfaceAddresses")?;
        }
        let d = self.guest_driver("virDomainInterfaceAddresses")?;
        d.interface_addresses(self.domain_ref(), source, flags)
    }

    /// `virDomainGetPerfEvents`.
    pub fn get_perf_events(&self, flags: u32) -> Result<TypedParams> {
        let d = self.guest_driver("virDomainGetPerfEvents")?;
        d.get_perf_events(self.domain_ref(), flags)
    }

    /// `virDomainSetPerfEvents`.
    pub fn set_perf_events(&self, params: &TypedParams, flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainSetPerfEvents")?;
        if params.is_empty() {
            // An empty list reaches the API as NULL.
            return Err(arg_error(
                "params in virDomainSetPerfEvents must not be NULL",
            ));
        }
        let d = self.guest_driver("virDomainSetPerfEvents")?;
        d.set_perf_events(self.domain_ref(), params, flags)
    }

    /// `virDomainSetMetadata` (`kind`: [`crate::flags::metadata`]).
    pub fn set_metadata(
        &self,
        kind: i32,
        metadata: Option<&str>,
        key: Option<&str>,
        uri: Option<&str>,
        flags: u32,
    ) -> Result<()> {
        use crate::flags::metadata::{DESCRIPTION, ELEMENT, TITLE};
        const API: &str = "virDomainSetMetadata";
        self.connect().check_writable("virDomainSetMetadata")?;
        match kind {
            TITLE | DESCRIPTION => {
                if kind == TITLE && metadata.is_some_and(|m| m.contains('\n')) {
                    return Err(arg_error("metadata title can't contain newlines"));
                }
                null(uri, "uri", API)?;
                null(key, "key", API)?;
            }
            ELEMENT => {
                non_null(uri, "uri", API)?;
                if metadata.is_some() {
                    non_null(key, "key", API)?;
                }
            }
            _ => {}
        }
        let d = self.guest_driver(API)?;
        d.set_metadata(self.domain_ref(), kind, metadata, key, uri, flags)
    }

    /// `virDomainRename`: this handle then names the domain by its new
    /// name.
    pub fn rename(&mut self, new_name: Option<&str>, flags: u32) -> Result<()> {
        const API: &str = "virDomainRename";
        let new_name = non_empty(new_name, "new_name", API)?;
        self.connect().check_writable("virDomainRename")?;
        let d = self.guest_driver(API)?;
        let renamed = d.rename(self.domain_ref(), new_name, flags)?;
        *self = Domain::from_ref(self.connect(), renamed);
        Ok(())
    }

    /// `virDomainSetLifecycleAction`.
    pub fn set_lifecycle_action(&self, kind: u32, action: u32, flags: u32) -> Result<()> {
        self.connect()
            .check_writable("virDomainSetLifecycleAction")?;
        if kind >= LIFECYCLE_TYPES {
            let text = format!("invalid lifecycle type '{kind}'");
            return Err(Error::invalid_arg(ErrorDomain::DOMAIN, text));
        }
        if action >= LIFECYCLE_ACTIONS {
            let text = format!("invalid lifecycle action '{action}'");
            return Err(Error::invalid_arg(ErrorDomain::DOMAIN, text));
        }
        let d = self.guest_driver("virDomainSetLifecycleAction")?;
        d.set_lifecycle_action(self.domain_ref(), kind, action, flags)
    }

    /// `virDomainGetMessages`.
    pub fn get_messages(&self, flags: u32) -> Result<Vec<String>> {
        let d = self.guest_driver("virDomainGetMessages")?;
        d.get_messages(self.domain_ref(), flags)
    }

    /// `virDomainGetLaunchSecurityInfo`: string parameters allowed where
    /// the driver supports them, as the public API adds.
    pub fn get_launch_security_info(&self, flags: u32) -> Result<TypedParams> {
        self.connect()
            .check_writable("virDomainGetLaunchSecurityInfo")?;
        let strings = self
            .connect()
            .driver()
            .supports_feature(crate::flags::feature::TYPED_PARAM_STRING)?;
        let flags = if strings { flags | STRING_OKAY } else { flags };
        let d = self.guest_driver("virDomainGetLaunchSecurityInfo")?;
        d.get_launch_security_info(self.domain_ref(), flags)
    }

    /// `virDomainSetMemoryStatsPeriod`.
    pub fn set_memory_stats_period(&self, period: i32, flags: u32) -> Result<()> {
        self.connect()
            .check_writable("virDomainSetMemoryStatsPeriod")?;
        if period < 0 {
            return Err(arg_error(
                "period in virDomainSetMemoryStatsPeriod must be zero or greater",
            ));
        }
        let d = self.guest_driver("virDomainSetMemoryStatsPeriod")?;
        d.set_memory_stats_period(self.domain_ref(), period, flags)
    }

    /// `virDomainMemoryPeek`.
    pub fn memory_peek(&self, start: u64, size: u32, flags: u32) -> Result<Vec<u8>> {
        self.connect().check_writable("virDomainMemoryPeek")?;
        if flags & 3 == 3 {
            return Err(arg_error(
                "Flags 'VIR_MEMORY_VIRTUAL' and 'VIR_MEMORY_PHYSICAL' are mutually exclusive",
            ));
        }
        let d = self.guest_driver("virDomainMemoryPeek")?;
        d.memory_peek(self.domain_ref(), start, size, flags)
    }

    /// `virDomainGetBlockInfo` of a disk (target name or source path).
    pub fn get_block_info(&self, disk: &str, flags: u32) -> Result<BlockInfo> {
        if disk.is_empty() {
            return Err(arg_error(
                "string disk in virDomainGetBlockInfo must not be empty",
            ));
        }
        let d = self.guest_driver("virDomainGetBlockInfo")?;
        d.get_block_info(self.domain_ref(), disk, flags)
    }
}
