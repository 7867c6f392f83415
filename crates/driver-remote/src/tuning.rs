//! The tuning entry points over the wire (`REMOTE_PROC_DOMAIN_*_PARAMETERS`,
//! the pinning procedures), with `VIR_TYPED_PARAM_STRING_OKAY` as
//! libvirt's client library adds it. The scheduler getter first asks for
//! the count (the scheduler type's).

use crate::conn::{nonnull, RemoteConnection};
use crate::forward::forward;
use rvirt::driver::{DomainRef, TuningDriver};
use rvirt_rpc::remote::RemoteCalls;
use rvirt_rpc::remote::*;
use rvirt_util::{Result, TypedParams};

const STRING_OKAY: u32 = 1 << 2;

impl TuningDriver for RemoteConnection {
    forward! {
        fn set_scheduler_parameters(dom: &DomainRef, params: &TypedParams, flags: u32) -> ()
            = DomainSetSchedulerParametersFlagsArgs;
        fn set_memory_parameters(dom: &DomainRef, params: &TypedParams, flags: u32) -> ()
            = DomainSetMemoryParametersArgs;
        fn set_blkio_parameters(dom: &DomainRef, params: &TypedParams, flags: u32) -> ()
            = DomainSetBlkioParametersArgs;
        fn set_numa_parameters(dom: &DomainRef, params: &TypedParams, flags: u32) -> ()
            = DomainSetNumaParametersArgs;
        fn pin_vcpu(dom: &DomainRef, vcpu: u32, cpumap: &[u8], flags: u32) -> ()
            = DomainPinVcpuFlagsArgs;
        fn pin_emulator(dom: &DomainRef, cpumap: &[u8], flags: u32) -> () = DomainPinEmulatorArgs;
    }
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
    fn pin_vcpu_without_flags(&self, d: &DomainRef, vcpu: u32, cpumap: &[u8]) -> Result<()> {
        let args = DomainPinVcpuArgs {
            dom: nonnull(d),
            vcpu,
            cpumap: cpumap.to_vec(),
        };
        self.call_domain_pin_vcpu(&args)
    }
    fn get_vcpus(
        &self,
        d: &DomainRef,
        maxinfo: usize,
        maplen: usize,
    ) -> Result<(Vec<rvirt::types::VcpuInfo>, Vec<u8>)> {
        let args = DomainGetVcpusArgs {
            dom: nonnull(d),
            maxinfo: maxinfo as i32,
            maplen: maplen as i32,
        };
        let ret = self.call_domain_get_vcpus(&args)?;
        let infos = ret.info.into_iter().map(|v| rvirt::types::VcpuInfo {
            number: v.number,
            state: v.state,
            cpu_time: v.cpu_time,
            cpu: v.cpu,
        });
        Ok((infos.collect(), ret.cpumaps))
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
    fn get_interface_parameters(
        &self,
        d: &DomainRef,
        device: &str,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        let args = DomainGetInterfaceParametersArgs {
            dom: nonnull(d),
            device: device.into(),
            nparams,
            flags: flags | STRING_OKAY,
        };
        let ret = self.call_domain_get_interface_parameters(&args)?;
        Ok((ret.params, ret.nparams))
    }
    fn set_interface_parameters(
        &self,
        d: &DomainRef,
        device: &str,
        p: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        let args = DomainSetInterfaceParametersArgs {
            dom: nonnull(d),
            device: device.into(),
            params: p.clone(),
            flags,
        };
        self.call_domain_set_interface_parameters(&args)
    }
    fn get_iothread_info(&self, d: &DomainRef, flags: u32) -> Result<Vec<(u32, Vec<u8>)>> {
        let args = DomainGetIothreadInfoArgs {
            dom: nonnull(d),
            flags,
        };
        let ret = self.call_domain_get_iothread_info(&args)?;
        let threads = ret.info.into_iter().map(|t| (t.iothread_id, t.cpumap));
        Ok(threads.collect())
    }
    fn pin_iothread(&self, d: &DomainRef, id: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        let args = DomainPinIothreadArgs {
            dom: nonnull(d),
            iothreads_id: id,
            cpumap: cpumap.to_vec(),
            flags,
        };
        self.call_domain_pin_iothread(&args)
    }
    fn add_iothread(&self, d: &DomainRef, id: u32, flags: u32) -> Result<()> {
        let args = DomainAddIothreadArgs {
            dom: nonnull(d),
            iothread_id: id,
            flags,
        };
        self.call_domain_add_iothread(&args)
    }
    fn del_iothread(&self, d: &DomainRef, id: u32, flags: u32) -> Result<()> {
        let args = DomainDelIothreadArgs {
            dom: nonnull(d),
            iothread_id: id,
            flags,
        };
        self.call_domain_del_iothread(&args)
    }
    fn set_iothread_params(
        &self,
        d: &DomainRef,
        id: u32,
        p: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        let args = DomainSetIothreadParamsArgs {
            dom: nonnull(d),
            iothread_id: id,
            params: p.clone(),
            flags,
        };
        self.call_domain_set_iothread_params(&args)
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
