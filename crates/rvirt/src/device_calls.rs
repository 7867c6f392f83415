//! The public per-device calls of a domain (libvirt-domain.c): IOThreads,
//! interface bandwidth parameters, block and interface statistics, with
//! the argument checks the public API makes before the driver.

use crate::tuning::arg_error;
use crate::types::{BlockStats, InterfaceStats};
use crate::Domain;
use rvirt_util::{Result, TypedParams};

impl Domain {
    /// `virDomainGetIOThreadInfo`: each IOThread's ID and CPU map.
    pub fn get_iothread_info(&self, flags: u32) -> Result<Vec<(u32, Vec<u8>)>> {
        if flags & 3 == 3 {
            return Err(arg_error(
                "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive",
            ));
        }
        let d = self.tuning_driver("virDomainGetIOThreadInfo")?;
        d.get_iothread_info(self.domain_ref(), flags)
    }

    /// `virDomainPinIOThread`.
    pub fn pin_iothread(&self, id: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainPinIOThread")?;
        if cpumap.is_empty() {
            return Err(arg_error(
                "maplen in virDomainPinIOThread must be greater than zero",
            ));
        }
        let d = self.tuning_driver("virDomainPinIOThread")?;
        d.pin_iothread(self.domain_ref(), id, cpumap, flags)
    }

    /// `virDomainAddIOThread`.
    pub fn add_iothread(&self, id: u32, flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainAddIOThread")?;
        let d = self.tuning_driver("virDomainAddIOThread")?;
        d.add_iothread(self.domain_ref(), id, flags)
    }

    /// `virDomainDelIOThread`.
    pub fn del_iothread(&self, id: u32, flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainDelIOThread")?;
        if id == 0 {
            return Err(arg_error(
                "iothread_id in virDomainDelIOThread must not be zero",
            ));
        }
        let d = self.tuning_driver("virDomainDelIOThread")?;
        d.del_iothread(self.domain_ref(), id, flags)
    }

    /// `virDomainSetIOThreadParams`.
    pub fn set_iothread_params(&self, id: u32, params: &TypedParams, flags: u32) -> Result<()> {
        self.connect()
            .check_writable("virDomainSetIOThreadParams")?;
        if params.is_empty() {
            return Err(arg_error(
                "nparams in virDomainSetIOThreadParams must be greater than zero",
            ));
        }
        let d = self.tuning_driver("virDomainSetIOThreadParams")?;
        d.set_iothread_params(self.domain_ref(), id, params, flags)
    }

    /// `virDomainGetInterfaceParameters`: `nparams` 0 asks for the count.
    pub fn get_interface_parameters(
        &self,
        device: &str,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        if nparams < 0 {
            return Err(arg_error(
                "nparams in virDomainGetInterfaceParameters must be zero or greater",
            ));
        }
        let d = self.tuning_driver("virDomainGetInterfaceParameters")?;
        d.get_interface_parameters(self.domain_ref(), device, nparams, flags)
    }

    /// `virDomainSetInterfaceParameters`.
    pub fn set_interface_parameters(
        &self,
        device: &str,
        params: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        self.connect()
            .check_writable("virDomainSetInterfaceParameters")?;
        if params.is_empty() {
            return Err(arg_error(
                "nparams in virDomainSetInterfaceParameters must be greater than zero",
            ));
        }
        let d = self.tuning_driver("virDomainSetInterfaceParameters")?;
        d.set_interface_parameters(self.domain_ref(), device, params, flags)
    }

    /// `virDomainGetControlInfo`: (state, details, milliseconds in it).
    pub fn get_control_info(&self, flags: u32) -> Result<(u32, u32, u64)> {
        let d = self.connect().driver();
        d.domain_get_control_info(self.domain_ref(), flags)
    }

    /// `virDomainInjectNMI`.
    pub fn inject_nmi(&self, flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainInjectNMI")?;
        let d = self.connect().driver();
        d.domain_inject_nmi(self.domain_ref(), flags)
    }

    /// `virDomainGetDiskErrors`: up to `max` errors, or with 0 the count.
    pub fn get_disk_errors(&self, max: u32, flags: u32) -> Result<(Vec<(String, i32)>, i32)> {
        let d = self.connect().driver();
        d.domain_get_disk_errors(self.domain_ref(), max, flags)
    }

    /// `virDomainBlockStats` of a disk (target name or source path).
    pub fn block_stats(&self, path: &str) -> Result<BlockStats> {
        self.connect()
            .driver()
            .domain_block_stats(self.domain_ref(), path)
    }

    /// `virDomainInterfaceStats` of an interface (name or MAC address).
    pub fn interface_stats(&self, device: &str) -> Result<InterfaceStats> {
        self.connect()
            .driver()
            .domain_interface_stats(self.domain_ref(), device)
    }
}
