//! The test driver's resource tuning (libvirt's test_driver.c): the
//! scheduler is "fair" with one parameter, `weight`, which reads 50 and
//! accepts any unsigned int without keeping it, as libvirt's does (its
//! `privdom->weight` is an XXX there). The memory, blkio and NUMA
//! parameters are in [`crate::tuning_params`], the pinning calls in
//! [`crate::pinning`].

use crate::check_flags;
use crate::connection::TestConnection;
use crate::{device_stats, iothreads, pinning, tuning_params};
use rvirt::driver::{DomainRef, TuningDriver};
use rvirt::types::VcpuInfo;
use rvirt_util::{Result, TypedParamType, TypedParamValue, TypedParams};

/// `VIR_DOMAIN_SCHEDULER_WEIGHT`.
const WEIGHT: &str = "weight";
/// What `testDomainGetSchedulerParametersFlags` reports for every domain.
const WEIGHT_VALUE: u32 = 50;

impl TuningDriver for TestConnection {
    /// `testDomainGetSchedulerType`: no domain lookup, as in libvirt.
    fn get_scheduler_type(&self, _dom: &DomainRef) -> Result<(String, i32)> {
        Ok(("fair".into(), 1))
    }

    fn get_scheduler_parameters(&self, dom: &DomainRef, flags: u32) -> Result<TypedParams> {
        check_flags("testDomainGetSchedulerParametersFlags", flags, 0)?;
        self.read(dom, |_| {
            Ok(TypedParams::new().with(WEIGHT, TypedParamValue::UInt(WEIGHT_VALUE)))
        })
    }

    /// Validated before the domain is looked up, as libvirt orders it.
    fn set_scheduler_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        check_flags("testDomainSetSchedulerParametersFlags", flags, 0)?;
        p.validate(&[(WEIGHT, TypedParamType::UInt, false)])?;
        self.read(dom, |_| Ok(()))
    }

    fn get_memory_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        tuning_params::get_memory(self, dom, nparams, flags)
    }
    fn set_memory_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        tuning_params::set_memory(self, dom, p, flags)
    }
    fn get_blkio_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        tuning_params::get_blkio(self, dom, nparams, flags)
    }
    fn set_blkio_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        tuning_params::set_blkio(self, dom, p, flags)
    }
    fn get_numa_parameters(
        &self,
        dom: &DomainRef,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        tuning_params::get_numa(self, dom, nparams, flags)
    }
    fn set_numa_parameters(&self, dom: &DomainRef, p: &TypedParams, flags: u32) -> Result<()> {
        tuning_params::set_numa(self, dom, p, flags)
    }
    fn pin_vcpu(&self, dom: &DomainRef, vcpu: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        pinning::pin_vcpu(self, dom, vcpu, cpumap, flags)
    }
    /// `testDomainPinVcpu` is the flags call with 0.
    fn pin_vcpu_without_flags(&self, dom: &DomainRef, vcpu: u32, cpumap: &[u8]) -> Result<()> {
        pinning::pin_vcpu(self, dom, vcpu, cpumap, 0)
    }
    fn get_vcpu_pin_info(
        &self,
        dom: &DomainRef,
        ncpumaps: usize,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        pinning::vcpu_pin_info(self, dom, ncpumaps, maplen, flags)
    }
    fn pin_emulator(&self, dom: &DomainRef, cpumap: &[u8], flags: u32) -> Result<()> {
        pinning::pin_emulator(self, dom, cpumap, flags)
    }
    fn get_emulator_pin_info(
        &self,
        dom: &DomainRef,
        maplen: usize,
        flags: u32,
    ) -> Result<(Vec<u8>, i32)> {
        pinning::emulator_pin_info(self, dom, maplen, flags)
    }
    fn get_interface_parameters(
        &self,
        dom: &DomainRef,
        device: &str,
        nparams: i32,
        flags: u32,
    ) -> Result<(TypedParams, i32)> {
        device_stats::get_interface_parameters(self, dom, device, nparams, flags)
    }
    fn set_interface_parameters(
        &self,
        dom: &DomainRef,
        device: &str,
        p: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        device_stats::set_interface_parameters(self, dom, device, p, flags)
    }
    fn get_iothread_info(&self, dom: &DomainRef, flags: u32) -> Result<Vec<(u32, Vec<u8>)>> {
        iothreads::info(self, dom, flags)
    }
    fn pin_iothread(&self, dom: &DomainRef, id: u32, cpumap: &[u8], flags: u32) -> Result<()> {
        iothreads::pin(self, dom, id, cpumap, flags)
    }
    fn add_iothread(&self, dom: &DomainRef, id: u32, flags: u32) -> Result<()> {
        iothreads::add(self, dom, id, flags)
    }
    fn del_iothread(&self, dom: &DomainRef, id: u32, flags: u32) -> Result<()> {
        iothreads::del(self, dom, id, flags)
    }
    fn set_iothread_params(
        &self,
        dom: &DomainRef,
        id: u32,
        p: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        iothreads::set_params(self, dom, id, p, flags)
    }
    fn get_vcpus(
        &self,
        dom: &DomainRef,
        maxinfo: usize,
        maplen: usize,
    ) -> Result<(Vec<VcpuInfo>, Vec<u8>)> {
        pinning::get_vcpus(self, dom, maxinfo, maplen)
    }
}

#[cfg(test)]
mod tests {
    use rvirt::Connect;
    use rvirt_util::{ErrorCode, TypedParamValue, TypedParams};

    fn test_domain(tag: &str) -> rvirt::Domain {
        crate::register();
        let path = std::env::temp_dir().join(format!(
            "rvirt-test-tuning-{}-{tag}.xml",
            std::process::id()
        ));
        std::fs::write(&path, crate::node::DEFAULT_NODE_XML).unwrap();
        let conn = Connect::open(&format!("test://{}", path.display())).unwrap();
        std::fs::remove_file(&path).unwrap();
        conn.lookup_by_name("test").unwrap()
    }

    #[test]
    fn scheduler_is_fair_with_a_weight_of_50() {
        let dom = test_domain("sched");
        assert_eq!(dom.get_scheduler_type().unwrap(), ("fair".to_string(), 1));
        let params = dom.get_scheduler_parameters(0).unwrap();
        assert_eq!(params.get("weight"), Some(&TypedParamValue::UInt(50)));
        assert_eq!(params.len(), 1);
        let weight = TypedParams::new().with("weight", TypedParamValue::UInt(100));
        dom.set_scheduler_parameters(&weight, 0).unwrap();
        let wrong = TypedParams::new().with("weight", TypedParamValue::ULLong(100));
        let e = dom.set_scheduler_parameters(&wrong, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument: invalid type 'ullong' for parameter 'weight', expected 'uint'"
        );
        let other = TypedParams::new().with("cpu_shares", TypedParamValue::UInt(1));
        let e = dom.set_scheduler_parameters(&other, 0).unwrap_err();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        let e = dom.get_scheduler_parameters(1).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);
    }
}
