//! `Domain`: a handle on one guest, as `virDomainPtr`.

use crate::connect::Connect;
use crate::driver::DomainRef;
use crate::types::{DomainInfo, DomainState, SecurityLabel};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

#[derive(Clone)]
pub struct Domain {
    conn: Connect,
    r: DomainRef,
}

impl Domain {
    pub(crate) fn new(conn: Connect, r: DomainRef) -> Domain {
        Domain { conn, r }
    }

    /// A handle for a domain whose identity is already known (the daemon
    /// rebuilds handles from `remote_nonnull_domain` this way).
    pub fn from_ref(conn: &Connect, r: DomainRef) -> Domain {
        Domain::new(conn.clone(), r)
    }

    pub fn connect(&self) -> &Connect {
        &self.conn
    }
    pub fn domain_ref(&self) -> &DomainRef {
        &self.r
    }
    crate::handle::identity_getters!("virDomain");
    /// `virDomainGetID`: `None` for an inactive domain (libvirt's `(unsigned)-1`).
    pub fn id(&self) -> Option<u32> {
        u32::try_from(self.r.id).ok()
    }

    fn driver(&self) -> &std::sync::Arc<dyn crate::HypervisorConnection> {
        self.conn.driver()
    }

    pub fn get_state(&self) -> Result<(DomainState, i32)> {
        self.driver().domain_get_state(&self.r, 0)
    }
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        if flags & crate::flags::xml::SECURE != 0 && self.conn.is_read_only() {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::OPERATION_DENIED,
                "virDomainGetXMLDesc with secure flag",
            ));
        }
        self.driver().domain_get_xml_desc(&self.r, flags)
    }

    crate::forward::domain_calls! {
        read fn get_info => domain_get_info() -> Result<DomainInfo>;
        read fn get_os_type => domain_get_os_type() -> Result<String>;
        read fn get_max_memory => domain_get_max_memory() -> Result<u64>;
        /// `virDomainGetHostname`: refused on a read-only connection.
        write fn get_hostname => domain_get_hostname(flags: u32) -> Result<String>;
        /// `virDomainQemuMonitorCommand` (libvirt-qemu): refused read-only.
        write fn qemu_monitor_command => domain_qemu_monitor_command(cmd: &str, flags: u32)
            -> Result<String>;
        read fn get_vcpus_flags => domain_get_vcpus_flags(flags: u32) -> Result<i32>;
        read fn get_autostart => domain_get_autostart() -> Result<bool>;
        write fn set_autostart => domain_set_autostart(autostart: bool) -> Result<()>;
        read fn is_active => domain_is_active() -> Result<bool>;
        read fn is_persistent => domain_is_persistent() -> Result<bool>;
        read fn is_updated => domain_is_updated() -> Result<bool>;
        read fn has_managed_save_image => domain_has_managed_save_image(flags: u32)
            -> Result<bool>;
        read fn get_metadata => domain_get_metadata(kind: i32, uri: Option<&str>, flags: u32)
            -> Result<String>;
        read fn get_security_label => domain_get_security_label() -> Result<SecurityLabel>;
        read fn get_security_label_list => domain_get_security_label_list()
            -> Result<Vec<SecurityLabel>>;
        /// `virDomainMemoryStats`: (`VIR_DOMAIN_MEMORY_STAT_*` tag, value).
        read fn memory_stats => domain_memory_stats(max: u32, flags: u32) -> Result<Vec<(i32, u64)>>;
        write fn set_memory_flags => domain_set_memory_flags(kib: u64, flags: u32) -> Result<()>;
        write(crate::forward::by_flags("virDomainSetVcpus", flags))
            fn set_vcpus_flags => domain_set_vcpus_flags(nvcpus: u32, flags: u32) -> Result<()>;
        write fn reset => domain_reset(flags: u32) -> Result<()>;
    }

    /// `virDomainCreateWithFlags`; the handle learns its new id, as libvirt's
    /// drivers update `dom->id`.
    pub fn create(&mut self, flags: u32) -> Result<()> {
        self.conn.check_writable("virDomainCreateWithFlags")?;
        self.r = self.driver().domain_create(&self.r, flags)?;
        Ok(())
    }

    crate::forward::domain_calls! {
        write("virDomainUndefineFlags") fn undefine => domain_undefine(flags: u32) -> Result<()>;
        write(crate::forward::by_flags("virDomainShutdown", flags))
            fn shutdown => domain_shutdown(flags: u32) -> Result<()>;
        write(crate::forward::by_flags("virDomainDestroy", flags))
            fn destroy => domain_destroy(flags: u32) -> Result<()>;
        write fn suspend => domain_suspend() -> Result<()>;
        write fn resume => domain_resume() -> Result<()>;
        write fn reboot => domain_reboot(flags: u32) -> Result<()>;
        write fn open_console => domain_open_console(dev_name: Option<&str>, st: &crate::Stream, flags: u32)
            -> Result<()>;
    }

    /// `virDomainScreenshot`: `st` then carries an image of `screen`; its
    /// MIME type. A read-only connection may not take one.
    pub fn screenshot(
        &self,
        st: &crate::Stream,
        screen: u32,
        flags: u32,
    ) -> Result<Option<String>> {
        self.conn.check_writable("virDomainScreenshot")?;
        self.conn
            .driver()
            .domain_screenshot(&self.r, st, screen, flags)
    }
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain").field("ref", &self.r).finish()
    }
}
