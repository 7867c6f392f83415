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

    /// `virCheckReadOnlyGoto` in public API `api`: a read-only connection
    /// refuses it with `VIR_ERR_OPERATION_DENIED`, "read only access
    /// prevents virXxx", in the error domain of the libvirt file that
    /// defines the API.
    pub(crate) fn check_writable(&self, api: &str) -> Result<()> {
        if self.inner.read_only {
            return Err(Error::new(
                api_error_domain(api),
                ErrorCode::OPERATION_DENIED,
                format!("read only access prevents {api}"),
            ));
        }
        Ok(())
    }

    pub(crate) fn domain(&self, r: DomainRef) -> Domain {
        Domain::new(self.clone(), r)
    }

    crate::forward::connect_calls! {
        fn get_type() -> Result<String>;
        fn get_version() -> Result<u64>;
        fn get_lib_version() -> Result<u64>;
        fn get_hostname() -> Result<String>;
        fn get_uri() -> Result<String>;
        fn get_max_vcpus(type_: Option<&str>) -> Result<i32>;
        fn is_secure() -> Result<bool>;
        fn is_encrypted() -> Result<bool>;
        fn is_alive() -> bool;
        fn set_keep_alive(interval: i32, count: u32) -> Result<()>;
        fn supports_feature(feature: i32) -> Result<bool>;
        fn node_get_info() -> Result<NodeInfo>;
        fn node_get_cpu_map(flags: u32) -> Result<(i32, Vec<u8>, u32)>;
        fn get_capabilities() -> Result<String>;
        fn node_get_security_model() -> Result<SecurityModel>;
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
    crate::forward::connect_calls! {
        fn list_domains(max: usize) -> Result<Vec<i32>>;
        fn num_of_domains() -> Result<usize>;
        fn list_defined_domains(max: usize) -> Result<Vec<String>>;
        fn num_of_defined_domains() -> Result<usize>;
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
        self.check_writable(&crate::forward::by_flags("virDomainDefineXML", flags))?;
        Ok(self.domain(self.inner.driver.domain_define_xml(xml, flags)?))
    }
    /// `virDomainCreateXML`: start a transient domain.
    pub fn create_xml(&self, xml: &str, flags: u32) -> Result<Domain> {
        self.check_writable("virDomainCreateXML")?;
        Ok(self.domain(self.inner.driver.domain_create_xml(xml, flags)?))
    }

    /// `virConnectDomainXMLToNative`.
    pub fn domain_xml_to_native(&self, format: &str, xml: &str, flags: u32) -> Result<String> {
        self.check_writable("virConnectDomainXMLToNative")?;
        self.inner
            .driver
            .connect_domain_xml_to_native(format, xml, flags)
    }
    crate::forward::connect_calls! {
        /// `virConnectGetDomainCapabilities` (emulator, arch, machine, virt type).
        fn get_domain_capabilities(emulator: Option<&str>, arch: Option<&str>, machine: Option<&str>, virt_type: Option<&str>, flags: u32) -> Result<String>;
    }
    /// `virConnectGetAllDomainStats` (`doms` empty) or
    /// `virDomainListGetStats` (`doms` given): a record per domain.
    pub fn get_all_domain_stats(
        &self,
        doms: &[Domain],
        stats: u32,
        flags: u32,
    ) -> Result<Vec<(Domain, rvirt_util::TypedParams)>> {
        let refs: Vec<DomainRef> = doms.iter().map(|d| d.domain_ref().clone()).collect();
        let records = self
            .inner
            .driver
            .connect_get_all_domain_stats(&refs, stats, flags)?;
        Ok(records
            .into_iter()
            .map(|(r, params)| (self.domain(r), params))
            .collect())
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

/// A list's bound from the caller (`maxnames`, `maxuuids`): a negative
/// one is `virCheckNonNegativeArgGoto`'s error, raised from `domain`.
pub(crate) fn check_max(domain: ErrorDomain, max: i32, what: &str, api: &str) -> Result<usize> {
    usize::try_from(max).map_err(|_| {
        let msg = format!("{what} in {api} must be greater than or equal to 0");
        Error::raw(domain, ErrorCode::INVALID_ARG, msg)
    })
}

/// The `VIR_FROM_THIS` of the libvirt file (libvirt-domain.c,
/// libvirt-network.c...) that defines public API `api`.
fn api_error_domain(api: &str) -> ErrorDomain {
    const BY_PREFIX: [(&str, i32); 13] = [
        ("virDomainSnapshot", 35),
        ("virDomainRevertToSnapshot", 35),
        ("virDomainCheckpoint", 69),
        ("virDomainQemu", 0),
        ("virDomain", 20),
        ("virConnectDomain", 20),
        ("virNetwork", 19),
        ("virNWFilter", 33),
        ("virStorage", 18),
        ("virConnectFindStoragePoolSources", 18),
        ("virNodeDevice", 22),
        ("virInterface", 26),
        ("virSecret", 30),
    ];
    BY_PREFIX
        .iter()
        .find(|(prefix, _)| api.starts_with(prefix))
        .map_or(ErrorDomain::NONE, |(_, d)| ErrorDomain(*d))
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

/// `virCheckFlags` in a driver that reports from `domain`: the flags
/// outside `allowed` refused with [`unsupported_flags`]'s text.
pub fn check_flags_in(domain: ErrorDomain, api: &str, given: u32, allowed: u32) -> Result<()> {
    let bad = given & !allowed;
    if bad == 0 {
        return Ok(());
    }
    let mut e = unsupported_flags(api, bad);
    e.domain = domain;
    Err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_bound_is_libvirts_invalid_arg() {
        let domain = ErrorDomain(30);
        assert_eq!(
            check_max(domain, 5, "maxuuids", "virConnectListSecrets"),
            Ok(5)
        );
        let e = check_max(domain, -1, "maxuuids", "virConnectListSecrets").unwrap_err();
        assert_eq!((e.domain, e.code), (domain, ErrorCode::INVALID_ARG));
        assert_eq!(
            e.message,
            "maxuuids in virConnectListSecrets must be greater than or equal to 0"
        );
    }
}
