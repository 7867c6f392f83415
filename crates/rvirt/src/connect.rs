//! `Connect`: an open connection, as `virConnectPtr`. Cloning is cheap and
//! shares the connection; the driver's `close` runs when the last clone drops.

use crate::domain::Domain;
use crate::driver::{DomainRef, HypervisorConnection, OpenOutcome};
use crate::events::EventCallback;
use crate::flags;
use crate::registry;
use crate::types::{NodeInfo, SecurityModel};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use std::sync::Arc;

#[derive(Clone)]
pub struct Connect {
    inner: Arc<ConnectInner>,
}

struct ConnectInner {
    driver: Arc<dyn HypervisorConnection>,
    read_only: bool,
}

impl Drop for ConnectInner {
    fn drop(&mut self) {
        if let Err(e) = self.driver.close() {
            tracing::debug!("closing connection: {e}");
        }
    }
}

impl Connect {
    /// `virConnectOpen`.
    pub fn open(uri: &str) -> Result<Connect> {
        Connect::open_flags(uri, 0)
    }

    /// `virConnectOpenReadOnly`.
    pub fn open_read_only(uri: &str) -> Result<Connect> {
        Connect::open_flags(uri, flags::open::RO)
    }

    /// `virConnectOpenAuth` without callbacks: asks each registered driver in
    /// turn; the first that does not decline serves the connection.
    pub fn open_flags(uri: &str, flags: u32) -> Result<Connect> {
        let parsed = Uri::parse(uri)?;
        if parsed.scheme.is_empty() {
            // virURIParse takes a relative reference; virConnectOpen does not.
            return Err(Error::new(
                ErrorDomain::NONE,
                ErrorCode::NO_CONNECT,
                format!("URI '{uri}' does not include a driver name"),
            ));
        }
        for driver in registry::drivers() {
            if driver.is_remote() != parsed.is_remote() && !driver.is_remote() {
                continue;
            }
            match driver.open(&parsed, flags)? {
                OpenOutcome::Opened(conn) => {
                    tracing::debug!(driver = driver.name(), uri, "connection opened");
                    return Ok(Connect::from_driver(conn, flags & flags::open::RO != 0));
                }
                OpenOutcome::Declined => continue,
            }
        }
        Err(Error::new(ErrorDomain::NONE, ErrorCode::NO_CONNECT, uri))
    }

    /// Wrap a driver connection that was opened by other means (the daemon
    /// and tests use this).
    pub fn from_driver(driver: Arc<dyn HypervisorConnection>, read_only: bool) -> Connect {
        Connect {
            inner: Arc::new(ConnectInner { driver, read_only }),
        }
    }

    /// The driver behind this connection, for code (the daemon, migration)
    /// that speaks to drivers directly.
    pub fn driver(&self) -> &Arc<dyn HypervisorConnection> {
        &self.inner.driver
    }

    /// See [`HypervisorConnection::reads_are_quick`].
    pub fn reads_are_quick(&self) -> bool {
        self.inner.driver.reads_are_quick()
    }

    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// `VIR_ERR_OPERATION_DENIED` for mutating calls on a read-only connection.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.inner.read_only {
            return Err(Error::bare(ErrorDomain::NONE, ErrorCode::OPERATION_DENIED));
        }
        Ok(())
    }

    pub(crate) fn domain(&self, r: DomainRef) -> Domain {
        Domain::new(self.clone(), r)
    }

    pub fn get_type(&self) -> Result<String> {
        self.inner.driver.get_type()
    }
    pub fn get_version(&self) -> Result<u64> {
        self.inner.driver.get_version()
    }
    pub fn get_lib_version(&self) -> Result<u64> {
        self.inner.driver.get_lib_version()
    }
    pub fn get_hostname(&self) -> Result<String> {
        self.inner.driver.get_hostname()
    }
    pub fn get_uri(&self) -> Result<String> {
        self.inner.driver.get_uri()
    }
    pub fn get_max_vcpus(&self, type_: Option<&str>) -> Result<i32> {
        self.inner.driver.get_max_vcpus(type_)
    }
    pub fn is_secure(&self) -> Result<bool> {
        self.inner.driver.is_secure()
    }
    pub fn is_encrypted(&self) -> Result<bool> {
        self.inner.driver.is_encrypted()
    }
    pub fn is_alive(&self) -> bool {
        self.inner.driver.is_alive()
    }
    pub fn supports_feature(&self, feature: i32) -> Result<bool> {
        self.inner.driver.supports_feature(feature)
    }
    pub fn node_get_info(&self) -> Result<NodeInfo> {
        self.inner.driver.node_get_info()
    }
    pub fn get_capabilities(&self) -> Result<String> {
        self.inner.driver.get_capabilities()
    }
    pub fn node_get_security_model(&self) -> Result<SecurityModel> {
        self.inner.driver.node_get_security_model()
    }

    /// `virConnectListAllDomains`.
    pub fn list_all_domains(&self, flags: u32) -> Result<Vec<Domain>> {
        if flags & !flags::list::ALL != 0 {
            return Err(unsupported_flags(
                "virConnectListAllDomains",
                flags & !flags::list::ALL,
            ));
        }
        let refs = self.inner.driver.list_all_domains(flags)?;
        Ok(refs.into_iter().map(|r| self.domain(r)).collect())
    }
    pub fn list_domains(&self, max: usize) -> Result<Vec<i32>> {
        self.inner.driver.list_domains(max)
    }
    pub fn num_of_domains(&self) -> Result<usize> {
        self.inner.driver.num_of_domains()
    }
    pub fn list_defined_domains(&self, max: usize) -> Result<Vec<String>> {
        self.inner.driver.list_defined_domains(max)
    }
    pub fn num_of_defined_domains(&self) -> Result<usize> {
        self.inner.driver.num_of_defined_domains()
    }

    pub fn lookup_by_name(&self, name: &str) -> Result<Domain> {
        Ok(self.domain(self.inner.driver.domain_lookup_by_name(name)?))
    }
    pub fn lookup_by_id(&self, id: i32) -> Result<Domain> {
        if id < 0 {
            return Err(Error::new(
                ErrorDomain::DOM,
                ErrorCode::INVALID_ARG,
                "id in virDomainLookupByID must be greater than or equal to 0",
            ));
        }
        Ok(self.domain(self.inner.driver.domain_lookup_by_id(id)?))
    }
    pub fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<Domain> {
        Ok(self.domain(self.inner.driver.domain_lookup_by_uuid(uuid)?))
    }
    /// `virDomainLookupByUUIDString`.
    pub fn lookup_by_uuid_string(&self, uuid: &str) -> Result<Domain> {
        let parsed = rvirt_util::uuid::parse(uuid).ok_or_else(|| {
            Error::new(
                ErrorDomain::DOM,
                ErrorCode::INVALID_ARG,
                "uuidstr in virDomainLookupByUUIDString must be a valid UUID",
            )
        })?;
        self.lookup_by_uuid(parsed.as_bytes())
    }

    /// `virDomainDefineXMLFlags`.
    pub fn define_xml(&self, xml: &str, flags: u32) -> Result<Domain> {
        self.check_writable()?;
        Ok(self.domain(self.inner.driver.domain_define_xml(xml, flags)?))
    }
    /// `virDomainCreateXML`: start a transient domain.
    pub fn create_xml(&self, xml: &str, flags: u32) -> Result<Domain> {
        self.check_writable()?;
        Ok(self.domain(self.inner.driver.domain_create_xml(xml, flags)?))
    }

    pub fn domain_event_register_any(
        &self,
        dom: Option<&Domain>,
        event_id: i32,
        callback: EventCallback,
    ) -> Result<i32> {
        self.inner
            .driver
            .domain_event_register_any(dom.map(|d| d.domain_ref()), event_id, callback)
    }
    pub fn domain_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.inner.driver.domain_event_deregister_any(callback_id)
    }
}

/// `virCheckFlags` failure: VIR_ERR_INVALID_ARG with the bare text (no
/// "invalid argument:" prefix), exactly as libvirt reports it.
pub fn unsupported_flags(api: &str, bad: u32) -> Error {
    Error::raw(
        ErrorDomain::NONE,
        ErrorCode::INVALID_ARG,
        format!("unsupported flags (0x{bad:x}) in function {api}"),
    )
}
