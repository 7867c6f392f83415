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
use crate::types::VcpuInfo;
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
    /// `virDomainPinVcpu`: the QEMU driver's is the flags call with
    /// `VIR_DOMAIN_AFFECT_LIVE`, the test driver's with 0.
    fn pin_vcpu_without_flags(&self, dom: &DomainRef, vcpu: u32, cpumap: &[u8]) -> Result<()> {
        self.pin_vcpu(dom, vcpu, cpumap, 1)
    }
    /// `virDomainGetVcpus`: `maxinfo` vCPUs at most, and a map of
    /// `maplen` bytes for each of the `maxinfo` (zeros past those given).
    fn get_vcpus(
        &self,
        _dom: &DomainRef,
        _maxinfo: usize,
        _maplen: usize,
    ) -> Result<(Vec<VcpuInfo>, Vec<u8>)> {
        Err(unsupported("virDomainGetVcpus"))
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
    /// `virDomainGetInterfaceParameters` of interface `device`, with the
    /// `nparams` convention of the other getters.
    fn get_interface_parameters(
        &self,
        _dom: &DomainRef,
        _device: &str,
        _nparams: i32,
        _flags: u32,
    ) -> Result<(TypedParams, i32)> {
        Err(unsupported("virDomainGetInterfaceParameters"))
    }
    /// `virDomainSetInterfaceParameters`.
    fn set_interface_parameters(
        &self,
        _dom: &DomainRef,
        _device: &str,
        _p: &TypedParams,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSetInterfaceParameters"))
    }
    /// `virDomainGetIOThreadInfo`: each IOThread's ID and CPU map.
    fn get_iothread_info(&self, _dom: &DomainRef, _flags: u32) -> Result<Vec<(u32, Vec<u8>)>> {
        Err(unsupported("virDomainGetIOThreadInfo"))
    }
    /// `virDomainPinIOThread`.
    fn pin_iothread(&self, _dom: &DomainRef, _id: u32, _cpumap: &[u8], _flags: u32) -> Result<()> {
        Err(unsupported("virDomainPinIOThread"))
    }
    /// `virDomainAddIOThread`.
    fn add_iothread(&self, _dom: &DomainRef, _id: u32, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainAddIOThread"))
    }
    /// `virDomainDelIOThread`.
    fn del_iothread(&self, _dom: &DomainRef, _id: u32, _flags: u32) -> Result<()> {
        Err(unsupported("virDomainDelIOThread"))
    }
    /// `virDomainSetIOThreadParams`.
    fn set_iothread_params(
        &self,
        _dom: &DomainRef,
        _id: u32,
        _p: &TypedParams,
        _flags: u32,
    ) -> Result<()> {
        Err(unsupported("virDomainSetIOThreadParams"))
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
