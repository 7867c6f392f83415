//! The test driver's resource tuning (libvirt's test_driver.c): the
//! scheduler is "fair" with one parameter, `weight`, which reads 50 and
//! accepts any unsigned int without keeping it, as libvirt's does (its
//! `privdom->weight` is an XXX there). The memory, blkio and NUMA
//! parameters and the pinning calls keep the trait's `VIR_ERR_NO_SUPPORT`
//! for now.

use crate::check_flags;
use crate::connection::TestConnection;
use rvirt::driver::{DomainRef, TuningDriver};
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
