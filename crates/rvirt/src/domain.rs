//! `Domain`: a handle on one guest, as `virDomainPtr`.

use crate::connect::Connect;
use crate::driver::DomainRef;
use crate::types::{DomainInfo, DomainState, SecurityLabel};
use rvirt_util::Result;

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
    pub fn name(&self) -> &str {
        &self.r.name
    }
    pub fn uuid(&self) -> &[u8; 16] {
        &self.r.uuid
    }
    pub fn uuid_string(&self) -> String {
        self.r.uuid_string()
    }
    /// `virDomainGetID`: `None` for an inactive domain (libvirt's `(unsigned)-1`).
    pub fn id(&self) -> Option<u32> {
        u32::try_from(self.r.id).ok()
    }

    fn driver(&self) -> &std::sync::Arc<dyn crate::HypervisorConnection> {
        self.conn.driver()
    }

    pub fn get_info(&self) -> Result<DomainInfo> {
        self.driver().domain_get_info(&self.r)
    }
    pub fn get_state(&self) -> Result<(DomainState, i32)> {
        self.driver().domain_get_state(&self.r, 0)
    }
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        if flags & crate::flags::xml::SECURE != 0 {
            self.conn.check_writable()?;
        }
        self.driver().domain_get_xml_desc(&self.r, flags)
    }
    pub fn get_os_type(&self) -> Result<String> {
        self.driver().domain_get_os_type(&self.r)
    }
    pub fn get_max_memory(&self) -> Result<u64> {
        self.driver().domain_get_max_memory(&self.r)
    }
    /// `virDomainGetHostname`: refused on a read-only connection.
    pub fn get_hostname(&self, flags: u32) -> Result<String> {
        self.conn.check_writable()?;
        self.driver().domain_get_hostname(&self.r, flags)
    }
    pub fn get_vcpus_flags(&self, flags: u32) -> Result<i32> {
        self.driver().domain_get_vcpus_flags(&self.r, flags)
    }
    pub fn get_autostart(&self) -> Result<bool> {
        self.driver().domain_get_autostart(&self.r)
    }
    pub fn set_autostart(&self, autostart: bool) -> Result<()> {
        self.conn.check_writable()?;
        self.driver().domain_set_autostart(&self.r, autostart)
    }
    pub fn is_active(&self) -> Result<bool> {
        self.driver().domain_is_active(&self.r)
    }
    pub fn is_persistent(&self) -> Result<bool> {
        self.driver().domain_is_persistent(&self.r)
    }
    pub fn is_updated(&self) -> Result<bool> {
        self.driver().domain_is_updated(&self.r)
    }
    pub fn has_managed_save_image(&self, flags: u32) -> Result<bool> {
        self.driver().domain_has_managed_save_image(&self.r, flags)
    }
    pub fn get_metadata(&self, kind: i32, uri: Option<&str>, flags: u32) -> Result<String> {
        self.driver().domain_get_metadata(&self.r, kind, uri, flags)
    }
    pub fn get_security_label(&self) -> Result<SecurityLabel> {
        self.driver().domain_get_security_label(&self.r)
    }

    /// `virDomainCreateWithFlags`; the handle learns its new id, as libvirt's
    /// drivers update `dom->id`.
    pub fn create(&mut self, flags: u32) -> Result<()> {
        self.conn.check_writable()?;
        self.r = self.driver().domain_create(&self.r, flags)?;
        Ok(())
    }
    pub fn undefine(&self, flags: u32) -> Result<()> {
        self.conn.check_writable()?;
        self.driver().domain_undefine(&self.r, flags)
    }
    pub fn shutdown(&self, flags: u32) -> Result<()> {
        self.conn.check_writable()?;
        self.driver().domain_shutdown(&self.r, flags)
    }
    pub fn destroy(&self, flags: u32) -> Result<()> {
        self.conn.check_writable()?;
        self.driver().domain_destroy(&self.r, flags)
    }
    pub fn suspend(&self) -> Result<()> {
        self.conn.check_writable()?;
        self.driver().domain_suspend(&self.r)
    }
    pub fn resume(&self) -> Result<()> {
        self.conn.check_writable()?;
        self.driver().domain_resume(&self.r)
    }
    pub fn reboot(&self, flags: u32) -> Result<()> {
        self.conn.check_writable()?;
        self.driver().domain_reboot(&self.r, flags)
    }
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domain").field("ref", &self.r).finish()
    }
}
