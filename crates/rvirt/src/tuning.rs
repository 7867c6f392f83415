//! The public resource-tuning calls of a domain (libvirt-domain.c:
//! scheduler, memory, blkio and NUMA parameters, vCPU and emulator
//! pinning), handed to the driver's [`TuningDriver`].

use crate::driver::TuningDriver;
use crate::types::VcpuInfo;
use crate::Domain;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParams};

/// What the public API's argument checks (`virCheckPositiveArgGoto` and
/// friends) report: the text as is, no "invalid argument: " before it.
pub(crate) fn arg_error(text: impl Into<String>) -> Error {
    Error::raw(ErrorDomain::DOMAIN, ErrorCode::INVALID_ARG, text)
}

impl Domain {
    pub(crate) fn tuning_driver(&self, api: &str) -> Result<&dyn TuningDriver> {
        self.connect()
            .driver()
            .tuning()
            .ok_or_else(|| crate::driver::unsupported(api))
    }

    /// `virDomainGetSchedulerType`: the scheduler and its parameter count.
    pub fn get_scheduler_type(&self) -> Result<(String, i32)> {
        let d = self.tuning_driver("virDomainGetSchedulerType")?;
        d.get_scheduler_type(self.domain_ref())
    }

    /// `virDomainGetSchedulerParametersFlags`.
    pub fn get_scheduler_parameters(&self, flags: u32) -> Result<TypedParams> {
        let d = self.tuning_driver("virDomainGetSchedulerParametersFlags")?;
        d.get_scheduler_parameters(self.domain_ref(), flags)
    }

    /// `virDomainSetSchedulerParametersFlags`.
    pub fn set_scheduler_parameters(&self, params: &TypedParams, flags: u32) -> Result<()> {
        self.connect().check_writable(&crate::forward::by_flags(
            "virDomainSetSchedulerParameters",
            flags,
        ))?;
        let d = self.tuning_driver("virDomainSetSchedulerParametersFlags")?;
        d.set_scheduler_parameters(self.domain_ref(), params, flags)
    }

    /// `virDomainGetMemoryParameters`.
    /// `nparams` 0 asks for the count: (parameters, count).
    pub fn get_memory_parameters(&self, nparams: i32, flags: u32) -> Result<(TypedParams, i32)> {
        let d = self.tuning_driver("virDomainGetMemoryParameters")?;
        d.get_memory_parameters(self.domain_ref(), nparams, flags)
    }

    /// `virDomainSetMemoryParameters`.
    pub fn set_memory_parameters(&self, params: &TypedParams, flags: u32) -> Result<()> {
        self.connect()
            .check_writable("virDomainSetMemoryParameters")?;
        let d = self.tuning_driver("virDomainSetMemoryParameters")?;
        d.set_memory_parameters(self.domain_ref(), params, flags)
    }

    /// `virDomainGetBlkioParameters`.
    /// `nparams` 0 asks for the count: (parameters, count).
    pub fn get_blkio_parameters(&self, nparams: i32, flags: u32) -> Result<(TypedParams, i32)> {
        let d = self.tuning_driver("virDomainGetBlkioParameters")?;
        d.get_blkio_parameters(self.domain_ref(), nparams, flags)
    }

    /// `virDomainSetBlkioParameters`.
    pub fn set_blkio_parameters(&self, params: &TypedParams, flags: u32) -> Result<()> {
        self.connect()
            .check_writable("virDomainSetBlkioParameters")?;
        let d = self.tuning_driver("virDomainSetBlkioParameters")?;
        d.set_blkio_parameters(self.domain_ref(), params, flags)
    }

    /// `virDomainGetNumaParameters`.
    /// `nparams` 0 asks for the count: (parameters, count).
    pub fn get_numa_parameters(&self, nparams: i32, flags: u32) -> Result<(TypedParams, i32)> {
        let d = self.tuning_driver("virDomainGetNumaParameters")?;
        d.get_numa_parameters(self.domain_ref(), nparams, flags)
    }

    /// `virDomainSetNumaParameters`.
    pub fn set_numa_parameters(&self, params: &TypedParams, flags: u32) -> Result<()> {
        self.connect()
            .check_writable("virDomainSetNumaParameters")?;
        let d = self.tuning_driver("virDomainSetNumaParameters")?;
        d.set_numa_parameters(self.domain_ref(), params, flags)
    }

    /// `virDomainPinVcpuFlags` (`virDomainPinVcpu` is it with
    /// `VIR_DOMAIN_AFFECT_LIVE`).
    pub fn pin_vcpu(&self, vcpu: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainPinVcpuFlags")?;
        let d = self.tuning_driver("virDomainPinVcpuFlags")?;
        d.pin_vcpu(self.domain_ref(), vcpu, cpumap, flags)
    }

    /// `virDomainPinVcpu`: what the driver does without flags.
    pub fn pin_vcpu_without_flags(&self, vcpu: u32, cpumap: &[u8]) -> Result<()> {
        self.connect().check_writable("virDomainPinVcpu")?;
        let d = self.tuning_driver("virDomainPinVcpu")?;
        d.pin_vcpu_without_flags(self.domain_ref(), vcpu, cpumap)
    }

    /// `virDomainGetVcpus`: up to `maxinfo` vCPUs (more than 0), and
    /// `maxinfo` maps of `maplen` bytes (0: none asked for).
    pub fn get_vcpus(&self, maxinfo: i32, maplen: i32) -> Result<(Vec<VcpuInfo>, Vec<u8>)> {
        if maxinfo <= 0 {
            return Err(arg_error(
                "maxinfo in virDomainGetVcpus must be greater than zero",
            ));
        }
        if maplen < 0 {
            return Err(arg_error(
                "maplen in virDomainGetVcpus must be greater than zero",
            ));
        }
        let d = self.tuning_driver("virDomainGetVcpus")?;
        d.get_vcpus(self.domain_ref(), maxinfo as usize, maplen as usize)
    }

    /// `virDomainGetVcpuPinInfo`.
    pub fn get_vcpu_pin_info(
        &self,
        ncpumaps: usize,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        let d = self.tuning_driver("virDomainGetVcpuPinInfo")?;
        d.get_vcpu_pin_info(self.domain_ref(), ncpumaps, maplen, flags)
    }

    /// `virDomainPinEmulator`.
    pub fn pin_emulator(&self, cpumap: &[u8], flags: u32) -> Result<()> {
        self.connect().check_writable("virDomainPinEmulator")?;
        let d = self.tuning_driver("virDomainPinEmulator")?;
        d.pin_emulator(self.domain_ref(), cpumap, flags)
    }

    /// `virDomainGetEmulatorPinInfo`.
    pub fn get_emulator_pin_info(&self, maplen: usize, flags: u32) -> Result<(Vec<u8>, i32)> {
        let d = self.tuning_driver("virDomainGetEmulatorPinInfo")?;
        d.get_emulator_pin_info(self.domain_ref(), maplen, flags)
    }
}
