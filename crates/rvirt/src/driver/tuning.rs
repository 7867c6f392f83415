//! The resource-tuning entry points of `virHypervisorDriver`
//! (`domainGetSchedulerType`, `domain{Get,Set}SchedulerParametersFlags`,
//! `domain{Get,Set}{Memory,Blkio,Numa}Parameters`, `domainPinVcpuFlags`,
//! `domainGetVcpuPinInfo`, `domainPinEmulator`, `domainGetEmulatorPinInfo`).
//! A driver that tunes guests hands this out through
//! [`super::HypervisorConnection::tuning`]; `None` makes every call
//! `VIR_ERR_NO_SUPPORT`, and so does each entry point a driver leaves to
//! its default (libvirt's NULL entry in the driver table).
//!
//! The memory, blkio and NUMA getters keep libvirt's `nparams` in/out
//! argument: 0 asks for the count only (answered before or after the
//! checks that may fail, as each libvirt driver orders them), else at
//! most that many parameters come back. They return (parameters, count).

use super::{unsupported, DomainRef};
use rvirt_util::{Result, TypedParams};

pub trait TuningDriver: Send + Sync {
    /// `virDomainGetSchedulerType`: the scheduler and its parameter count.
    fn get_scheduler_type(&self, _dom: &DomainRef) -> Result<(String, i32)> {
        Err(unsupported("virDomainGetSchedulerType"))
    }
    /// `virDomainGetSchedulerParametersFlags`.
    fn get_scheduler_parameters(&self, _dom: &DomainRef, _flags: u32) -> Result<TypedParams> {
        Err(unsupported("virDomainGetSchedulerParametersFlags"))
    }
    /// `virDomainSetSchedulerParametersFlags`.
    fn set_scheduler_parameters(
        &self,
        _dom: &DomainRef,
        _p: &TypedParams,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSetSchedulerParametersFlags"))
    }
    /// `virDomainGetMemoryParameters`.
    fn get_memory_parameters(
        &self,
        _dom: &DomainRef,
        _nparams: i32,
        _flags: u32,
    ) -> Result<(TypedParams, i32)> {
        Err(unsupported("virDomainGetMemoryParameters"))
    }
    /// `virDomainSetMemoryParameters`.
    fn set_memory_parameters(&self, _dom: &DomainRef, _p: &TypedParams, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSetMemoryParameters"))
    }
    /// `virDomainGetBlkioParameters`.
    fn get_blkio_parameters(
        &self,
        _dom: &DomainRef,
        _nparams: i32,
        _flags: u32,
    ) -> Result<(TypedParams, i32)> {
        Err(unsupported("virDomainGetBlkioParameters"))
    }
    /// `virDomainSetBlkioParameters`.
    fn set_blkio_parameters(&self, _dom: &DomainRef, _p: &TypedParams, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSetBlkioParameters"))
    }
    /// `virDomainGetNumaParameters`.
    fn get_numa_parameters(
        &self,
        _dom: &DomainRef,
        _nparams: i32,
        _flags: u32,
    ) -> Result<(TypedParams, i32)> {
        Err(unsupported("virDomainGetNumaParameters"))
    }
    /// `virDomainSetNumaParameters`.
    fn set_numa_parameters(&self, _dom: &DomainRef, _p: &TypedParams, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainSetNumaParameters"))
    }
    /// `virDomainPinVcpuFlags`: `cpumap` is libvirt's bitmap, a byte per
    /// eight host CPUs.
    fn pin_vcpu(&self, _dom: &DomainRef, _vcpu: u32, _cpumap: &[u8], _flags: u32) -> Result<()> {
        Err(unsupported("virDomainPinVcpuFlags"))
    }
    /// `virDomainGetVcpuPinInfo`: `ncpumaps` maps of `maplen` bytes, and
    /// how many vCPUs were filled in.
    fn get_vcpu_pin_info(
        &self,
        _dom: &DomainRef,
        _ncpumaps: usize,
        _maplen: usize,
        _flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        Err(unsupported("virDomainGetVcpuPinInfo"))
    }
    /// `virDomainPinEmulator`.
    fn pin_emulator(&self, _dom: &DomainRef, _cpumap: &[u8], _flags: u32) -> Result<()> {
        Err(unsupported("virDomainPinEmulator"))
    }
    /// `virDomainGetEmulatorPinInfo`: the map and 1 (0 when nothing to show).
    fn get_emulator_pin_info(
        &self,
        _dom: &DomainRef,
        _maplen: usize,
        _flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        Err(unsupported("virDomainGetEmulatorPinInfo"))
    }
}
