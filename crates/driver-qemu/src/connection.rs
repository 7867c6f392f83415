//! `HypervisorConnection` for `qemu:///system`: the libvirt API over the
//! driver's guests, with the QEMU driver's checks and messages.

use crate::driver::Driver;
use crate::lifecycle;
use crate::ops;
use crate::state::DomainObj;
use rvirt::driver::{DomainRef, HypervisorConnection};
use rvirt::events::{EventCallback, EventRegistry};
use rvirt::flags;
use rvirt::types::{DomainInfo, DomainState, SecurityLabel, SecurityModel};
use rvirt_util::{Error, ErrorDomain, Result, TypedParams};
use std::sync::Arc;

pub struct QemuConnection {
    pub(crate) driver: Arc<Driver>,
    uri: String,
    events: Arc<EventRegistry>,
    /// Incoming migrations this connection prepared and did not finish.
    pub(crate) prepared: crate::migration::Prepared,
}

impl QemuConnection {
    /// A connection whose event registry hears every guest's events.
    pub fn new(driver: Arc<Driver>, uri: String) -> QemuConnection {
        let conn = QemuConnection {
            events: Arc::default(),
            prepared: Default::default(),
            driver,
            uri,
        };
        conn.driver.add_listener(&conn.events);
        conn
    }

    /// `pick` of every running (`active`) or every defined-only guest.
    fn guests_where<T>(&self, active: bool, pick: impl Fn(&DomainObj) -> T) -> Vec<T> {
        let domains = self.driver.domains.lock();
        domains
            .iter()
            .filter(|o| o.is_active() == active)
            .map(pick)
            .collect()
    }

    fn read<R>(&self, dom: &DomainRef, f: impl FnOnce(&DomainObj) -> Result<R>) -> Result<R> {
        let domains = self.driver.domains.lock();
        f(domains.get(dom)?)
    }

    fn find(
        &self,
        pick: impl FnOnce(&crate::state::Domains) -> Result<&DomainObj>,
    ) -> Result<DomainRef> {
        let domains = self.driver.domains.lock();
        pick(&domains).map(DomainObj::domain_ref)
    }
}

pub(crate) fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    if given & !allowed != 0 {
        return Err(rvirt::connect::unsupported_flags(api, given & !allowed));
    }
    Ok(())
}

/// The `virConnectListAllDomains` flags `obj` satisfies.
fn list_bits(obj: &DomainObj) -> u32 {
    use flags::list::*;
    let pick = |cond: bool, yes: u32, no: u32| if cond { yes } else { no };
    let state = match obj.state {
        DomainState::Running => RUNNING,
        DomainState::Paused => PAUSED,
        DomainState::Shutoff => SHUTOFF,
        _ => OTHER,
    };
    pick(obj.is_active(), ACTIVE, INACTIVE)
        | pick(obj.persistent, PERSISTENT, TRANSIENT)
        | pick(obj.autostart, AUTOSTART, NO_AUTOSTART)
        | state
        | NO_MANAGEDSAVE
        | NO_SNAPSHOT
        | NO_CHECKPOINT
}

/// A guest matches when, in every group of alternatives the caller
/// names, it satisfies one of them.
fn matches_list(obj: &DomainObj, wanted: u32) -> bool {
    use flags::list::*;
    const GROUPS: [u32; 7] = [
        ACTIVE | INACTIVE,
        PERSISTENT | TRANSIENT,
        RUNNING | PAUSED | SHUTOFF | OTHER,
        MANAGEDSAVE | NO_MANAGEDSAVE,
        AUTOSTART | NO_AUTOSTART,
        HAS_SNAPSHOT | NO_SNAPSHOT,
        HAS_CHECKPOINT | NO_CHECKPOINT,
    ];
    let have = list_bits(obj);
    GROUPS
        .iter()
        .all(|g| wanted & g == 0 || wanted & g & have != 0)
}

impl HypervisorConnection for QemuConnection {
    /// Storage, networks, node devices, secrets and interfaces come from
    /// the daemon's host-wide drivers, as with libvirt's QEMU driver.
    fn uses_shared_drivers(&self) -> bool {
        true
    }
    fn get_type(&self) -> Result<String> {
        Ok("QEMU".into())
    }
    /// libvirt's close callback of an incoming migration: a client gone
    /// before finish leaves nothing behind.
    fn close(&self) -> Result<()> {
        crate::migration::discard_prepared(&self.driver, &self.prepared);
        Ok(())
    }
    fn get_version(&self) -> Result<u64> {
        let caps = self
            .driver
            .caps(std::path::Path::new(crate::driver::DEFAULT_EMULATOR))?;
        let (major, minor, micro) = caps.version;
        Ok(u64::from(major) * 1_000_000 + u64::from(minor) * 1_000 + u64::from(micro))
    }
    fn get_hostname(&self) -> Result<String> {
        rvirt_util::host::hostname()
    }
    fn get_uri(&self) -> Result<String> {
        Ok(self.uri.clone())
    }
    fn get_max_vcpus(&self, _type: Option<&str>) -> Result<i32> {
        let caps = self
            .driver
            .caps(std::path::Path::new(crate::driver::DEFAULT_EMULATOR))?;
        Ok(caps.default_machine().map_or(255, |m| m.max_cpus as i32))
    }
    fn supports_feature(&self, feature: i32) -> Result<bool> {
        // virDriverFeatureIsGlobal: every driver declares the fixed
        // virNetworkUpdate argument order (networks are shared here).
        let global = feature == rvirt::flags::feature::NETWORK_UPDATE_HAS_CORRECT_ORDER;
        Ok(global || crate::migration::supports_feature(feature))
    }
    fn get_capabilities(&self) -> Result<String> {
        crate::host_caps::capabilities_xml(&self.driver)
    }
    fn node_get_security_model(&self) -> Result<SecurityModel> {
        Ok(self.driver.security.node_model())
    }

    fn list_all_domains(&self, flags: u32) -> Result<Vec<DomainRef>> {
        check_flags("qemuConnectListAllDomains", flags, flags::list::ALL)?;
        let domains = self.driver.domains.lock();
        Ok(domains
            .iter()
            .filter(|o| matches_list(o, flags))
            .map(DomainObj::domain_ref)
            .collect())
    }
    fn list_domains(&self, max: usize) -> Result<Vec<i32>> {
        let mut ids = self.guests_where(true, |o| o.id);
        ids.sort_unstable();
        ids.truncate(max);
        Ok(ids)
    }
    fn num_of_domains(&self) -> Result<usize> {
        Ok(self.guests_where(true, |_| ()).len())
    }
    fn list_defined_domains(&self, max: usize) -> Result<Vec<String>> {
        let mut names = self.guests_where(false, |o| o.def.name.clone());
        names.truncate(max);
        Ok(names)
    }
    fn num_of_defined_domains(&self) -> Result<usize> {
        Ok(self.guests_where(false, |_| ()).len())
    }

    fn domain_lookup_by_name(&self, name: &str) -> Result<DomainRef> {
        self.find(|d| d.by_name(name))
    }
    fn domain_lookup_by_id(&self, id: i32) -> Result<DomainRef> {
        self.find(|d| d.by_id(id))
    }
    fn domain_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<DomainRef> {
        self.find(|d| d.by_uuid(uuid))
    }

    fn domain_define_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        check_flags("qemuDomainDefineXMLFlags", flags, flags::define::VALIDATE)?;
        ops::define(&self.driver, xml)
    }
    fn domain_undefine(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        use flags::undefine::*;
        check_flags(
            "qemuDomainUndefineFlags",
            flags,
            MANAGED_SAVE | SNAPSHOTS_METADATA | NVRAM | KEEP_NVRAM | CHECKPOINTS_METADATA,
        )?;
        ops::undefine(&self.driver, dom)
    }
    fn domain_create_xml(&self, xml: &str, flags: u32) -> Result<DomainRef> {
        check_flags(
            "qemuDomainCreateXML",
            flags,
            flags::create::PAUSED | flags::create::VALIDATE,
        )?;
        ops::create_xml(&self.driver, xml, flags & flags::create::PAUSED != 0)
    }
    fn domain_create(&self, dom: &DomainRef, flags: u32) -> Result<DomainRef> {
        check_flags("qemuDomainCreateWithFlags", flags, flags::create::PAUSED)?;
        ops::with_job(&self.driver, dom, || {
            let req = lifecycle::StartRequest {
                paused: flags & flags::create::PAUSED != 0,
            };
            lifecycle::start(&self.driver, dom, req)
        })
    }
    fn domain_shutdown(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        // VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN (1), _GUEST_AGENT (2).
        check_flags("qemuDomainShutdownFlags", flags, 1 | 2)?;
        ops::shutdown_or_reboot(&self.driver, dom, flags, false)
    }
    fn domain_destroy(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        // VIR_DOMAIN_DESTROY_GRACEFUL = 1: SIGTERM only, never SIGKILL.
        check_flags("qemuDomainDestroyFlags", flags, 1)?;
        ops::destroy(&self.driver, dom, flags & 1 != 0)
    }
    fn domain_suspend(&self, dom: &DomainRef) -> Result<()> {
        ops::suspend(&self.driver, dom)
    }
    fn domain_resume(&self, dom: &DomainRef) -> Result<()> {
        ops::resume(&self.driver, dom)
    }
    fn domain_reboot(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        // VIR_DOMAIN_REBOOT_ACPI_POWER_BTN (1), _GUEST_AGENT (2).
        check_flags("qemuDomainReboot", flags, 1 | 2)?;
        ops::shutdown_or_reboot(&self.driver, dom, flags, true)
    }

    fn domain_get_info(&self, dom: &DomainRef) -> Result<DomainInfo> {
        self.read(dom, |obj| {
            let pid = obj.run.as_ref().map(|r| r.pid);
            Ok(DomainInfo {
                cpu_time: pid.map_or(0, crate::stats::cpu_time_ns),
                nr_virt_cpu: obj.vcpus(0) as u16,
                max_mem: obj.def.memory_kib,
                memory: obj.def.current_memory_kib,
                state: obj.state,
            })
        })
    }
    fn domain_get_state(&self, dom: &DomainRef, flags: u32) -> Result<(DomainState, i32)> {
        check_flags("qemuDomainGetState", flags, 0)?;
        self.read(dom, |obj| Ok((obj.state, obj.reason)))
    }
    fn domain_get_xml_desc(&self, dom: &DomainRef, flags: u32) -> Result<String> {
        use flags::xml::*;
        let known = SECURE | INACTIVE | UPDATE_CPU | MIGRATABLE;
        check_flags("qemuDomainGetXMLDesc", flags, known)?;
        self.read(dom, |obj| Ok(obj.describe(flags)))
    }
    fn domain_get_os_type(&self, dom: &DomainRef) -> Result<String> {
        self.read(dom, |obj| Ok(obj.def.os.os_type.to_string()))
    }
    fn domain_get_max_memory(&self, dom: &DomainRef) -> Result<u64> {
        self.read(dom, |obj| Ok(obj.def.memory_kib))
    }
    fn tuning(&self) -> Option<&dyn rvirt::driver::TuningDriver> {
        Some(self)
    }
    fn node_get_info(&self) -> Result<rvirt::types::NodeInfo> {
        crate::node_info::node_get_info()
    }
    fn domain_get_vcpus_flags(&self, dom: &DomainRef, flags: u32) -> Result<i32> {
        check_flags("qemuDomainGetVcpusFlags", flags, 1 | 2 | 4 | 8)?;
        self.read(dom, |obj| Ok(obj.vcpus(flags) as i32))
    }
    fn domain_get_autostart(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.autostart))
    }
    fn domain_set_autostart(&self, dom: &DomainRef, autostart: bool) -> Result<()> {
        ops::set_autostart(&self.driver, dom, autostart)
    }
    fn domain_is_updated(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.new_def.is_some()))
    }
    fn domain_get_security_label(&self, dom: &DomainRef) -> Result<SecurityLabel> {
        let security = &self.driver.security;
        self.read(dom, |obj| {
            Ok(match obj.is_active() {
                true => security.process_label(),
                false => SecurityLabel::default(),
            })
        })
    }
    fn domain_get_security_label_list(&self, dom: &DomainRef) -> Result<Vec<SecurityLabel>> {
        let security = &self.driver.security;
        self.read(dom, |obj| match &obj.run {
            Some(run) => security.process_labels(&obj.def, run.pid),
            None => Ok(Vec::new()),
        })
    }
    fn domain_is_persistent(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.persistent))
    }
    fn domain_has_managed_save_image(&self, dom: &DomainRef, _flags: u32) -> Result<bool> {
        self.read(dom, |_| Ok(false))
    }
    fn domain_is_active(&self, dom: &DomainRef) -> Result<bool> {
        self.read(dom, |obj| Ok(obj.is_active()))
    }

    fn connect_domain_xml_to_native(&self, format: &str, xml: &str, flags: u32) -> Result<String> {
        check_flags("qemuConnectDomainXMLToNative", flags, 0)?;
        ops::xml_to_native(&self.driver, format, xml)
    }
    fn domain_set_memory_flags(&self, dom: &DomainRef, kib: u64, flags: u32) -> Result<()> {
        check_flags("qemuDomainSetMemoryFlags", flags, 1 | 2 | 4)?;
        ops::set_memory(&self.driver, dom, kib, flags)
    }

    fn domain_set_vcpus_flags(&self, dom: &DomainRef, nvcpus: u32, flags: u32) -> Result<()> {
        // AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM | VCPU_HOTPLUGGABLE;
        // VCPU_GUEST (8) needs the agent's guest-set-vcpus, not carried.
        check_flags("qemuDomainSetVcpusFlags", flags, 1 | 2 | 4 | 16)?;
        crate::vcpus::set_vcpus(&self.driver, dom, nvcpus, flags)
    }
    fn domain_reset(&self, dom: &DomainRef, flags: u32) -> Result<()> {
        check_flags("qemuDomainReset", flags, 0)?;
        ops::monitor_command(&self.driver, dom, qapi::qmp::system_reset {})
    }
    fn domain_qemu_monitor_command(
        &self,
        dom: &DomainRef,
        cmd: &str,
        flags: u32,
    ) -> Result<String> {
        const HMP: u32 = 1; // VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
        check_flags("qemuDomainQemuMonitorCommandWithFiles", flags, HMP)?;
        ops::arbitrary_command(&self.driver, dom, cmd, flags & HMP != 0)
    }
    fn domain_open_console(
        &self,
        dom: &DomainRef,
        dev_name: Option<&str>,
        st: &rvirt::Stream,
        flags: u32,
    ) -> Result<()> {
        crate::console::open(&self.driver, dom, dev_name, st, flags)
    }
    fn domain_memory_stats(&self, d: &DomainRef, max: u32, flags: u32) -> Result<Vec<(i32, u64)>> {
        check_flags("qemuDomainMemoryStats", flags, 0)?;
        ops::memory_stats(&self.driver, d, max)
    }
    fn get_domain_capabilities(
        &self,
        emulatorbin: Option<&str>,
        wanted_arch: Option<&str>,
        wanted_machine: Option<&str>,
        virttype: Option<&str>,
        flags: u32,
    ) -> Result<String> {
        check_flags("qemuConnectGetDomainCapabilities", flags, 0)?;
        let req = crate::domcaps::Request::parse(wanted_arch, wanted_machine, virttype)?;
        let binary = emulatorbin.unwrap_or(crate::driver::DEFAULT_EMULATOR);
        let caps = self.driver.caps(std::path::Path::new(binary))?;
        crate::domcaps::format(&caps, &req)
    }
    fn connect_get_all_domain_stats(
        &self,
        doms: &[DomainRef],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<(DomainRef, TypedParams)>> {
        // The list filters (VIR_CONNECT_LIST_DOMAINS_*), and
        // ENFORCE_STATS (1 << 31): refuse a group this driver lacks.
        const ENFORCE: u32 = 1 << 31;
        check_flags(
            "qemuConnectGetAllDomainStats",
            flags,
            flags::list::ALL | ENFORCE | 1 << 30 | 1 << 29,
        )?;
        if flags & ENFORCE != 0 && stats & !crate::stats::SUPPORTED != 0 {
            return Err(Error::new(
                ErrorDomain::QEMU,
                rvirt_util::ErrorCode::OPERATION_UNSUPPORTED,
                format!(
                    "Stats types bits 0x{:x} are not supported by this daemon",
                    stats & !crate::stats::SUPPORTED
                ),
            ));
        }
        let chosen: Vec<DomainRef> = {
            let domains = self.driver.domains.lock();
            if doms.is_empty() {
                domains
                    .iter()
                    .filter(|o| matches_list(o, flags & flags::list::ALL))
                    .map(DomainObj::domain_ref)
                    .collect()
            } else {
                let found = doms.iter().map(|d| domains.get(d));
                found
                    .map(|o| o.map(DomainObj::domain_ref))
                    .collect::<Result<_>>()?
            }
        };
        Ok(crate::stats::records(&self.driver, &chosen, stats))
    }

    fn domain_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        rvirt::events::deregistered(self.events.deregister(callback_id), callback_id)
    }
    fn domain_event_register_any(
        &self,
        only: Option<&DomainRef>,
        id: i32,
        cb: EventCallback,
    ) -> Result<i32> {
        Ok(self.events.register(only, id, cb))
    }
}
