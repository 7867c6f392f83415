//! `virDomainMigrate*` / `virDomainMigrateToURI*`: the application-facing
//! calls. Each checks the request, picks a protocol from the drivers'
//! `VIR_DRV_FEATURE_*` answers and drives the phases, following libvirt's
//! src/libvirt-domain.c step by step (the error texts are libvirt's):
//!
//! * managed (`migrate*` with a destination connection): V3 with params if
//!   both sides have MIGRATION_PARAMS, else V3, V2, V1;
//! * peer-to-peer (`PEER2PEER`): one perform call on the source with the
//!   destination's connection URI; the source driver does the rest;
//! * direct (`migrate_to_uri*` without `PEER2PEER`): one perform call on the
//!   source with a hypervisor URI.

use super::v3::{self, Mode, PerformTo, V3Request, V3Source};
use super::{flags, params as param};
use crate::driver::{
    Begin3Args, Cookie, FinishArgs, HypervisorConnection, ParamsArgs, PerformArgs, PrepareArgs,
};
use crate::flags::feature;
use crate::types::DomainState;
use crate::{Connect, Domain};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams};
use std::sync::Arc;

/// `virReportInvalidArg` / `virReportInvalidNonNullArg`: unlike
/// `virReportError`, the text is not wrapped in "invalid argument: %s".
fn invalid_arg(text: &str) -> Error {
    Error::raw(ErrorDomain::DOMAIN, ErrorCode::INVALID_ARG, text)
}

/// `virReportUnsupportedError` in src/libvirt-domain.c: names the entry
/// point the application called.
fn no_support(api: &str) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::NO_SUPPORT, api)
}

fn unsupported_arg(text: &str) -> Error {
    Error::new(ErrorDomain::DOMAIN, ErrorCode::ARGUMENT_UNSUPPORTED, text)
}

fn supports(conn: &Connect, f: i32) -> bool {
    conn.supports_feature(f).unwrap_or(false)
}

/// `VIR_EXCLUSIVE_FLAGS_GOTO(NON_SHARED_DISK, NON_SHARED_INC)`, and bits
/// libvirt 9.0 does not define. libvirt leaves those to each driver's
/// `virCheckFlags`; rvirt refuses them here, in virCheckFlags' words naming
/// the API called, because drivers only check the flags they know.
fn check_common(flags: u32, api: &str) -> Result<()> {
    if flags & !super::flags::ALL != 0 {
        return Err(crate::connect::unsupported_flags(
            api,
            flags & !super::flags::ALL,
        ));
    }
    if flags & flags::NON_SHARED_DISK != 0 && flags & flags::NON_SHARED_INC != 0 {
        return Err(invalid_arg(
            "Flags 'VIR_MIGRATE_NON_SHARED_DISK' and 'VIR_MIGRATE_NON_SHARED_INC' are mutually exclusive",
        ));
    }
    Ok(())
}

fn check_offline(src: &Connect, dst: &Connect, flags: u32) -> Result<()> {
    if flags & flags::OFFLINE == 0 {
        return Ok(());
    }
    if !supports(src, feature::MIGRATION_OFFLINE) {
        return Err(unsupported_arg(
            "offline migration is not supported by the source host",
        ));
    }
    if !supports(dst, feature::MIGRATION_OFFLINE) {
        return Err(unsupported_arg(
            "offline migration is not supported by the destination host",
        ));
    }
    Ok(())
}

/// Change protection is only needed by the source and V3 re-adds it there;
/// libvirt masks it out for the rest.
fn check_change_protection(src: &Connect, flags: u32) -> Result<u32> {
    if flags & flags::CHANGE_PROTECTION != 0 && !supports(src, feature::MIGRATE_CHANGE_PROTECTION) {
        return Err(unsupported_arg("cannot enforce change protection"));
    }
    Ok(flags & !flags::CHANGE_PROTECTION)
}

/// The protocol both sides of a managed migration speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    V3Params,
    V3,
    V2,
    V1,
}

fn pick_protocol(src: &Connect, dst: &Connect, allow_params: bool, api: &str) -> Result<Protocol> {
    let both = |f| supports(src, f) && supports(dst, f);
    if allow_params && both(feature::MIGRATION_PARAMS) {
        Ok(Protocol::V3Params)
    } else if both(feature::MIGRATION_V3) {
        Ok(Protocol::V3)
    } else if both(feature::MIGRATION_V2) {
        Ok(Protocol::V2)
    } else if both(feature::MIGRATION_V1) {
        Ok(Protocol::V1)
    } else {
        Err(no_support(api))
    }
}

/// The fixed arguments of the older APIs, as params (`virDomainMigrate3`'s
/// compatParams).
#[derive(Clone, Copy)]
struct Legacy<'a> {
    uri: Option<&'a str>,
    dname: Option<&'a str>,
    dxml: Option<&'a str>,
    bandwidth: u64,
}

impl<'a> Legacy<'a> {
    /// The arguments of the APIs that take no destination XML.
    fn new(uri: Option<&'a str>, dname: Option<&'a str>, bandwidth: u64) -> Legacy<'a> {
        Legacy {
            uri,
            dname,
            dxml: None,
            bandwidth,
        }
    }

    fn from_params(p: &'a TypedParams, names: &[&str], what: &str) -> Result<Legacy<'a>> {
        if p.iter().any(|x| !names.contains(&x.field.as_str())) {
            return Err(unsupported_arg(what));
        }
        Ok(Legacy {
            uri: p.get_string(param::URI),
            dname: p.get_string(param::DEST_NAME),
            dxml: p.get_string(param::DEST_XML),
            bandwidth: p.get_u64(param::BANDWIDTH).unwrap_or(0),
        })
    }

    /// The V1/V2 prepare of this request (no cookie; `dom_xml` empty for V1).
    fn prepare(&self, flags: u32, dom_xml: &'a str) -> PrepareArgs<'a> {
        PrepareArgs {
            uri_in: self.uri,
            flags,
            dname: self.dname,
            bandwidth: self.bandwidth,
            dom_xml,
            ..PrepareArgs::default()
        }
    }

    /// The V1/V2 perform of this request to `uri`.
    fn perform<'b>(&self, cookie_in: &'b [u8], uri: &'b str, flags: u32) -> PerformArgs<'b>
    where
        'a: 'b,
    {
        PerformArgs {
            cookie_in,
            uri: Some(uri),
            flags,
            dname: self.dname,
            bandwidth: self.bandwidth,
            ..PerformArgs::default()
        }
    }

    fn to_params(self) -> TypedParams {
        let mut p = TypedParams::new();
        if let Some(u) = self.uri {
            p.push(param::URI, TypedParamValue::String(u.into()));
        }
        if let Some(n) = self.dname {
            p.push(param::DEST_NAME, TypedParamValue::String(n.into()));
        }
        if let Some(x) = self.dxml {
            p.push(param::DEST_XML, TypedParamValue::String(x.into()));
        }
        p.push(param::BANDWIDTH, TypedParamValue::ULLong(self.bandwidth));
        p
    }
}

const COMPAT_PARAMS: &[&str] = &[
    param::URI,
    param::DEST_NAME,
    param::DEST_XML,
    param::BANDWIDTH,
];

impl Domain {
    /// `virDomainMigrate`. With PEER2PEER, `uri` (if given) names the
    /// destination libvirt, else the destination connection's URI does.
    pub fn migrate(
        &self,
        dconn: &Connect,
        flags: u32,
        dname: Option<&str>,
        uri: Option<&str>,
        bandwidth: u64,
    ) -> Result<Domain> {
        let legacy = Legacy::new(uri, dname, bandwidth);
        self.migrate_fixed(dconn, &legacy, flags, "virDomainMigrate")
    }

    /// `virDomainMigrate2`. With PEER2PEER the destination connection's URI
    /// names the destination libvirt and `uri` (if any) is the migration URI.
    pub fn migrate2(
        &self,
        dconn: &Connect,
        dxml: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        uri: Option<&str>,
        bandwidth: u64,
    ) -> Result<Domain> {
        let legacy = Legacy {
            dxml,
            ..Legacy::new(uri, dname, bandwidth)
        };
        self.migrate_fixed(dconn, &legacy, flags, "virDomainMigrate2")
    }

    /// The body `virDomainMigrate` and `virDomainMigrate2` share.
    fn migrate_fixed(
        &self,
        dconn: &Connect,
        legacy: &Legacy,
        flags: u32,
        api: &str,
    ) -> Result<Domain> {
        self.connect().check_writable(api)?;
        dconn.check_writable(api)?;
        check_common(flags, api)?;
        check_offline(self.connect(), dconn, flags)?;
        if flags & flags::PEER2PEER != 0 {
            if !supports(self.connect(), feature::MIGRATION_P2P) {
                return Err(no_support(api));
            }
            let dconn_uri;
            let (dconnuri, miguri) = match (api, legacy.uri) {
                ("virDomainMigrate", Some(uri)) => (uri, None),
                (_, miguri) => {
                    dconn_uri = dconn.get_uri()?;
                    (dconn_uri.as_str(), miguri)
                }
            };
            let params = Legacy {
                uri: miguri,
                ..*legacy
            }
            .to_params();
            self.migrate_unmanaged(Some(dconnuri), &params, flags)?;
            return dconn.lookup_by_name(legacy.dname.unwrap_or(self.name()));
        }
        let flags = check_change_protection(self.connect(), flags)?;
        if flags & flags::TUNNELLED != 0 {
            // virReportError here, unlike virDomainMigrate3's virReportInvalidArg.
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::OPERATION_INVALID,
                "cannot perform tunnelled migration without using peer2peer flag",
            ));
        }
        let protocol = pick_protocol(self.connect(), dconn, false, api)?;
        if legacy.dxml.is_some() && matches!(protocol, Protocol::V2 | Protocol::V1) {
            return Err(unsupported_arg(
                "Unable to change target guest XML during migration",
            ));
        }
        self.migrate_managed(dconn, protocol, legacy, flags)
    }

    /// `virDomainMigrate3`.
    pub fn migrate3(&self, dconn: &Connect, params: &TypedParams, flags: u32) -> Result<Domain> {
        self.connect().check_writable("virDomainMigrate3")?;
        dconn.check_writable("virDomainMigrate3")?;
        check_common(flags, "virDomainMigrate3")?;
        params.validate(super::PARAM_TYPES)?;
        // Only this entry point refuses PEER2PEER: the others run it.
        if flags & flags::PEER2PEER != 0 {
            return Err(invalid_arg(
                "use virDomainMigrateToURI3 for peer-to-peer migration",
            ));
        }
        if flags & flags::TUNNELLED != 0 {
            return Err(invalid_arg(
                "cannot perform tunnelled migration without using peer2peer flag",
            ));
        }
        check_offline(self.connect(), dconn, flags)?;
        let flags = check_change_protection(self.connect(), flags)?;
        let protocol = pick_protocol(self.connect(), dconn, true, "virDomainMigrate3")?;
        if protocol == Protocol::V3Params {
            return self.migrate_v3(dconn, None, params, true, flags);
        }
        let legacy = Legacy::from_params(
            params,
            COMPAT_PARAMS,
            "Migration APIs with extensible parameters are not supported but extended parameters were passed",
        )?;
        if legacy.dxml.is_some() && protocol != Protocol::V3 {
            return Err(unsupported_arg(
                "Unable to change target guest XML during migration",
            ));
        }
        self.migrate_managed(dconn, protocol, &legacy, flags)
    }

    /// `virDomainMigrateToURI`: `duri` is the destination's connection URI
    /// with PEER2PEER, else the hypervisor's migration URI.
    pub fn migrate_to_uri(
        &self,
        duri: &str,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<()> {
        let (dconnuri, miguri) = if flags & flags::PEER2PEER != 0 {
            (Some(duri), None)
        } else {
            (None, Some(duri))
        };
        let params = Legacy::new(miguri, dname, bandwidth).to_params();
        self.migrate_to_uri_checked(dconnuri, &params, flags, "virDomainMigrateToURI")
    }

    /// `virDomainMigrateToURI2`.
    pub fn migrate_to_uri2(
        &self,
        dconnuri: Option<&str>,
        miguri: Option<&str>,
        dxml: Option<&str>,
        flags: u32,
        dname: Option<&str>,
        bandwidth: u64,
    ) -> Result<()> {
        let params = Legacy {
            dxml,
            ..Legacy::new(miguri, dname, bandwidth)
        }
        .to_params();
        self.migrate_to_uri_checked(dconnuri, &params, flags, "virDomainMigrateToURI2")
    }

    /// `virDomainMigrateToURI3`.
    pub fn migrate_to_uri3(
        &self,
        dconnuri: Option<&str>,
        params: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        params.validate(super::PARAM_TYPES)?;
        self.migrate_to_uri_checked(dconnuri, params, flags, "virDomainMigrateToURI3")
    }

    fn migrate_to_uri_checked(
        &self,
        dconnuri: Option<&str>,
        params: &TypedParams,
        flags: u32,
        api: &str,
    ) -> Result<()> {
        self.connect().check_writable(api)?;
        check_common(flags, api)?;
        // virDomainMigrateUnmanagedCheckCompat
        if flags & flags::OFFLINE != 0 && !supports(self.connect(), feature::MIGRATION_OFFLINE) {
            return Err(unsupported_arg(
                "offline migration is not supported by the source host",
            ));
        }
        let dconnuri = if flags & flags::PEER2PEER != 0 {
            if !supports(self.connect(), feature::MIGRATION_P2P) {
                return Err(unsupported_arg(
                    "p2p migration is not supported by the source host",
                ));
            }
            Some(
                dconnuri
                    .ok_or_else(|| invalid_arg(&format!("dconnuri in {api} must not be NULL")))?,
            )
        } else {
            if !supports(self.connect(), feature::MIGRATION_DIRECT) {
                return Err(unsupported_arg(
                    "direct migration is not supported by the source host",
                ));
            }
            None
        };
        self.migrate_unmanaged(dconnuri, params, flags)
    }

    /// `virDomainMigrateUnmanagedParams`: peer-to-peer or direct, one
    /// perform call on the source.
    fn migrate_unmanaged(
        &self,
        dconnuri: Option<&str>,
        params: &TypedParams,
        flags: u32,
    ) -> Result<()> {
        let src = self.connect();
        if flags & flags::PEER2PEER != 0 {
            check_not_local(dconnuri.unwrap_or(""))?;
        }
        let drv = src.driver();
        if flags & flags::PEER2PEER != 0 && supports(src, feature::MIGRATION_PARAMS) {
            let args = ParamsArgs {
                params,
                cookie_in: &[],
                flags,
            };
            drv.domain_migrate_perform3_params(self.domain_ref(), dconnuri, &args)?;
        } else if supports(src, feature::MIGRATION_V3) {
            let l = Legacy::from_params(
                params,
                COMPAT_PARAMS,
                "Some parameters are not supported by migration protocol 3",
            )?;
            let args = PerformArgs {
                xmlin: l.dxml,
                dconnuri,
                uri: l.uri,
                flags,
                dname: l.dname,
                bandwidth: l.bandwidth,
                ..PerformArgs::default()
            };
            drv.domain_migrate_perform3(self.domain_ref(), &args)?;
        } else {
            let l = Legacy::from_params(
                params,
                &[param::DEST_NAME, param::BANDWIDTH, param::URI],
                "Some parameters are not supported by migration protocol 2",
            )?;
            let uri = if flags & flags::PEER2PEER != 0 {
                if l.uri.is_some() {
                    return Err(Error::new(
                        ErrorDomain::DOMAIN,
                        ErrorCode::INTERNAL_ERROR,
                        "Unable to override peer2peer migration URI",
                    ));
                }
                dconnuri
            } else {
                l.uri
            };
            drv.domain_migrate_perform(
                self.domain_ref(),
                &l.perform(&[], uri.unwrap_or(""), flags),
            )?;
        }
        Ok(())
    }

    fn migrate_managed(
        &self,
        dconn: &Connect,
        protocol: Protocol,
        legacy: &Legacy,
        flags: u32,
    ) -> Result<Domain> {
        match protocol {
            Protocol::V3Params => self.migrate_v3(dconn, None, &legacy.to_params(), true, flags),
            Protocol::V3 => self.migrate_v3(dconn, Some(legacy), &TypedParams::new(), false, flags),
            Protocol::V2 => self.migrate_v2(dconn, legacy, flags),
            Protocol::V1 => self.migrate_v1(dconn, legacy, flags),
        }
    }

    /// The source's state decides VIR_MIGRATE_PAUSED, as in libvirt; the
    /// destination never sees the source-only flags.
    fn dest_flags(&self, flags: &mut u32) -> u32 {
        if let Ok((DomainState::Paused, _)) = self.get_state() {
            *flags |= flags::PAUSED;
        }
        *flags & !(flags::ABORT_ON_ERROR | flags::AUTO_CONVERGE)
    }

    /// `virDomainMigrateVersion1`.
    fn migrate_v1(&self, dconn: &Connect, l: &Legacy, mut flags: u32) -> Result<Domain> {
        let destflags = self.dest_flags(&mut flags);
        let dst = dconn.driver();
        let (cookie, uri_out) = dst.domain_migrate_prepare(&l.prepare(destflags, ""))?;
        let uri = required_uri(uri_out.as_deref().or(l.uri), "domainMigratePrepare")?;
        self.connect()
            .driver()
            .domain_migrate_perform(self.domain_ref(), &l.perform(&cookie, &uri, flags))?;
        let finish = FinishArgs {
            dname: l.dname.unwrap_or(self.name()),
            cookie_in: &cookie,
            uri: Some(&uri),
            flags: destflags,
            ..FinishArgs::default()
        };
        let r = dst.domain_migrate_finish(&finish)?;
        Ok(Domain::from_ref(dconn, r))
    }

    /// `virDomainMigrateVersion2`.
    fn migrate_v2(&self, dconn: &Connect, l: &Legacy, mut flags: u32) -> Result<Domain> {
        let xml_flags = if supports(self.connect(), feature::XML_MIGRATABLE) {
            crate::flags::xml::MIGRATABLE
        } else {
            crate::flags::xml::SECURE | crate::flags::xml::UPDATE_CPU
        };
        let dom_xml = self
            .connect()
            .driver()
            .domain_get_xml_desc(self.domain_ref(), xml_flags)?;
        let destflags = self.dest_flags(&mut flags);
        let dst = dconn.driver();
        let (cookie, uri_out) = dst.domain_migrate_prepare2(&l.prepare(destflags, &dom_xml))?;
        let dname = l.dname.unwrap_or(self.name());
        let uri = uri_out.as_deref().or(l.uri).map(str::to_string);
        let perform = match &uri {
            None => Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::INTERNAL_ERROR,
                "domainMigratePrepare2 did not set uri",
            )),
            Some(uri) => self
                .connect()
                .driver()
                .domain_migrate_perform(self.domain_ref(), &l.perform(&cookie, uri, flags)),
        };
        let retcode = i32::from(perform.is_err());
        let finish = FinishArgs {
            dname,
            cookie_in: &cookie,
            uri: Some(uri.as_deref().unwrap_or("")),
            flags: destflags,
            ..FinishArgs::default()
        };
        let finished = dst.domain_migrate_finish2(&finish, retcode);
        // The perform error is the one worth reporting.
        perform?;
        Ok(Domain::from_ref(dconn, finished?))
    }

    /// `virDomainMigrateVersion3Full`, through the one V3 runner.
    fn migrate_v3(
        &self,
        dconn: &Connect,
        legacy: Option<&Legacy>,
        params: &TypedParams,
        use_params: bool,
        flags: u32,
    ) -> Result<Domain> {
        let protection = if supports(self.connect(), feature::MIGRATE_CHANGE_PROTECTION) {
            flags::CHANGE_PROTECTION
        } else {
            0
        };
        let l = legacy.copied().unwrap_or(Legacy::new(None, None, 0));
        let request = V3Request {
            mode: Mode::Managed,
            name: self.name(),
            use_params,
            params: params.clone(),
            dname: l.dname,
            xmlin: l.dxml,
            uri: l.uri.map(str::to_string),
            bandwidth: l.bandwidth,
            dconnuri: None,
            flags,
        };
        let src = ClientSource {
            dom: self,
            drv: self.connect().driver().clone(),
            protection,
        };
        // Confirm's failure was logged: the destination runs the guest.
        v3::run(&src, dconn, request)?.result
    }
}

/// The source of a managed migration: the source connection's driver.
struct ClientSource<'a> {
    dom: &'a Domain,
    drv: Arc<dyn HypervisorConnection>,
    protection: u32,
}

impl V3Source for ClientSource<'_> {
    fn is_paused(&self) -> bool {
        matches!(self.dom.get_state(), Ok((DomainState::Paused, _)))
    }
    fn protection(&self) -> u32 {
        self.protection
    }
    fn begin_keeps_job(&self) -> bool {
        self.protection != 0
    }
    fn begin(&self, r: &V3Request, flags: u32) -> Result<(Cookie, String)> {
        let me = self.dom.domain_ref();
        if r.use_params {
            return self.drv.domain_migrate_begin3_params(me, &r.params, flags);
        }
        let args = Begin3Args {
            xmlin: r.xmlin,
            flags,
            dname: r.dname,
            bandwidth: r.bandwidth,
        };
        self.drv.domain_migrate_begin3(me, &args)
    }
    fn perform(&self, r: &V3Request, cookie: &[u8], to: PerformTo, flags: u32) -> Result<Cookie> {
        let PerformTo::Uri(uri) = to else {
            return Err(Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::INTERNAL_ERROR,
                "managed migration cannot be tunnelled",
            ));
        };
        let me = self.dom.domain_ref();
        if r.use_params {
            let args = r.params_args(cookie, flags);
            return self.drv.domain_migrate_perform3_params(me, None, &args);
        }
        let args = PerformArgs {
            cookie_in: cookie,
            uri: Some(uri),
            flags,
            dname: r.dname,
            bandwidth: r.bandwidth,
            ..PerformArgs::default()
        };
        self.drv.domain_migrate_perform3(me, &args)
    }
    fn confirm(&self, r: &V3Request, cookie: &[u8], flags: u32, cancelled: bool) -> Result<()> {
        let me = self.dom.domain_ref();
        if r.use_params {
            let args = r.params_args(cookie, flags);
            self.drv
                .domain_migrate_confirm3_params(me, &args, cancelled)
        } else {
            self.drv
                .domain_migrate_confirm3(me, cookie, flags, cancelled)
        }
    }
}

fn required_uri(uri: Option<&str>, phase: &str) -> Result<String> {
    uri.map(str::to_string).ok_or_else(|| {
        Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::INTERNAL_ERROR,
            format!("{phase} did not set uri"),
        )
    })
}

/// `virDomainMigrateCheckNotLocal`: a peer-to-peer destination must name a
/// host other than localhost.
fn check_not_local(dconnuri: &str) -> Result<()> {
    let uri = rvirt_util::Uri::parse(dconnuri)?;
    match uri.server.as_deref() {
        Some(s) if !s.starts_with("localhost") => Ok(()),
        _ => Err(invalid_arg("Attempt to migrate guest to the same host")),
    }
}

#[cfg(test)]
mod tests;
