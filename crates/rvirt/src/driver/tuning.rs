//! The resource-tuning entry points of `virHypervisorDriver`
//! (`domainGetSchedulerType`, `domain{Get,Set}SchedulerParametersFlags`,
//! `domain{Get,Set}{Memory,Blkio,Numa}Parameters`, `domainPinVcpuFlags`,
//! `domainGetVcpuPinInfo`, `domainPinEmulator`, `domainGetEmulatorPinInfo`).
//! A driver that tunes guests hands this out through
//! [`super::HypervisorConnection::tuning`]; `None` makes every call
//! `VIR_ERR_NO_SUPPORT`.
//!
//! The memory, blkio and NUMA getters keep libvirt's `nparams` in/out
//! argument: 0 asks for the count only (answered before or after the
//! checks that may fail, as each libvirt driver orders them), else at
//! most that many parameters come back. They return (parameters, count).

use super::DomainRef;
use rvirt_util::{Result, TypedParams};

pub trait TuningDriver: Send + Sync {
    /// `virDomainGetSchedulerType`: the scheduler and its parameter count.
    fn get_scheduler_type(&self, dom: &DomainRef) -> Result<(String, i32)>;
    /// `virDomainGetSchedulerParametersFlags`.
    fn get_scheduler_parameters(&self, dom: &DomainRef, flags: u32) -> Result<TypedParams>;
    /// `virDomainSetSchedulerParametersFlags`.
    fn set_scheduler_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()>;
    /// `virDomainGetMemoryParameters`.
    fn get_memory_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)>;
    /// `virDomainSetMemoryParameters`.
    fn set_memory_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()>;
    /// `virDomainGetBlkioParameters`.
    fn get_blkio_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)>;
    /// `virDomainSetBlkioParameters`.
    fn set_blkio_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()>;
    /// `virDomainGetNumaParameters`.
    fn get_numa_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)>;
    /// `virDomainSetNumaParameters`.
    fn set_numa_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()>;
    /// `virDomainPinVcpuFlags`: `cpumap` is libvirt's bitmap, a byte per
    /// eight host CPUs.
    fn pin_vcpu(&self, dom: &DomainRef, vcpu: u32, cpumap: &[u8], flags: u32) -> Result<()>;
    /// `virDomainGetVcpuPinInfo`: `ncpumaps` maps of `maplen` bytes, and
    /// how many vCPUs were filled in.
    fn get_vcpu_pin_info(
        &self,
        dom: &DomainRef,
        ncpumaps: usize,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)>;
    /// `virDomainPinEmulator`.
    fn pin_emulator(&self, dom: &DomainRef, cpumap: &[u8], flags: u32) -> Result<()>;
    /// `virDomainGetEmulatorPinInfo`: the map and 1 (0 when nothing to show).
    fn get_emulator_pin_info(
        &self,
        dom: &DomainRef,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)>;
}
