//! The tuning entry points over the wire (`REMOTE_PROC_DOMAIN_*_PARAMETERS`,
//! the pinning procedures), with `VIR_TYPED_PARAM_STRING_OKAY` as
//! libvirt's client library adds it. The scheduler getter first asks for
//! the count (the scheduler type's).

use crate::conn::{nonnull, RemoteConnection};
use rvirt::driver::{DomainRef, TuningDriver};
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_util::{Result, TypedParams};

const STRING_OKAY: u32 = 1 << 2;

impl TuningDriver for RemoteConnection {
    fn get_scheduler_type(&self, d: &DomainRef) -> Result<(String, i32)> {
        let ret =
            self.call_domain_get_scheduler_type(&DomainGetSchedulerTypeArgs { dom: nonnull(d) })?;
        Ok((ret.type_, ret.nparams))
    }
    fn get_scheduler_parameters(&self, d: &DomainRef, flags: u32) -> Result<TypedParams> {
        let (_, nparams) = self.get_scheduler_type(d)?;
        let args = DomainGetSchedulerParametersFlagsArgs {
            dom: nonnull(d),
            nparams,
            flags: flags | STRING_OKAY,
        };
        Ok(self
            .call_domain_get_scheduler_parameters_flags(&args)?
            .params)
    }
    fn set_scheduler_parameters(&self, d: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        let args = DomainSetSchedulerParametersFlagsArgs {
            dom: nonnull(d),
            params: p.clone(),
            flags,
        };
        self.call_domain_set_scheduler_parameters_flags(&args)
    }
    fn get_memory_parameters(
        &self,
        d: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        let args = DomainGetMemoryParametersArgs {
            dom: nonnull(d),
            nparams,
            flags: flags | STRING_OKAY,
        };
        let ret = self.call_domain_get_memory_parameters(&args)?;
        Ok((ret.params, ret.nparams))
    }
    fn set_memory_parameters(&self, d: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        let args = DomainSetMemoryParametersArgs {
            dom: nonnull(d),
            params: p.clone(),
            flags,
        };
        self.call_domain_set_memory_parameters(&args)
    }
    fn get_blkio_parameters(
        &self,
        d: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        let args = DomainGetBlkioParametersArgs {
            dom: nonnull(d),
            nparams,
            flags: flags | STRING_OKAY,
        };
        let ret = self.call_domain_get_blkio_parameters(&args)?;
        Ok((ret.params, ret.nparams))
    }
    fn set_blkio_parameters(&self, d: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        let args = DomainSetBlkioParametersArgs {
            dom: nonnull(d),
            params: p.clone(),
            flags,
        };
        self.call_domain_set_blkio_parameters(&args)
    }
    fn get_numa_parameters(
        &self,
        d: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        let args = DomainGetNumaParametersArgs {
            dom: nonnull(d),
            nparams,
            flags: flags | STRING_OKAY,
        };
        let ret = self.call_domain_get_numa_parameters(&args)?;
        Ok((ret.params, ret.nparams))
    }
    fn set_numa_parameters(&self, d: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        let args = DomainSetNumaParametersArgs {
            dom: nonnull(d),
            params: p.clone(),
            flags,
        };
        self.call_domain_set_numa_parameters(&args)
    }
    fn pin_vcpu(&self, d: &DomainRef, vcpu: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        let args = DomainPinVcpuFlagsArgs {
            dom: nonnull(d),
            vcpu,
            cpumap: cpumap.to_vec(),
            flags,
        };
        self.call_domain_pin_vcpu_flags(&args)
    }
    fn get_vcpu_pin_info(
        &self,
        d: &DomainRef,
        ncpumaps: usize,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        let args = DomainGetVcpuPinInfoArgs {
            dom: nonnull(d),
            ncpumaps: ncpumaps as i32,
            maplen: maplen as i32,
            flags,
        };
        let ret = self.call_domain_get_vcpu_pin_info(&args)?;
        Ok((ret.cpumaps, ret.num))
    }
    fn pin_emulator(&self, d: &DomainRef, cpumap: &[u8], flags: u32) -> Result<()> {
        let args = DomainPinEmulatorArgs {
            dom: nonnull(d),
            cpumap: cpumap.to_vec(),
            flags,
        };
        self.call_domain_pin_emulator(&args)
    }
    fn get_emulator_pin_info(
        &self,
        d: &DomainRef,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        let args = DomainGetEmulatorPinInfoArgs {
            dom: nonnull(d),
            maplen: maplen as i32,
            flags,
        };
        let ret = self.call_domain_get_emulator_pin_info(&args)?;
        Ok((ret.cpumaps, ret.ret))
    }
}
