//! REMOTE program procedure numbers (`remote_procedure` in libvirt 9.0's
//! `remote_protocol.x`, 1 to 443) and what the daemon needs to know about
//! each: its name, whether libvirt runs it on a high-priority worker
//! (`@priority: high`), the public API it stands for and whether a
//! read-only connection may call it.
//!
//! The table is not written here: `scripts/gen-remote-procs.py` derives
//! `crates/rpc/protocol/remote.procs` from libvirt's sources and build.rs
//! turns it into [`Procedure`]. The access class is not the `@acl`
//! annotation (that feeds the polkit access drivers): libvirtd refuses a
//! read-only client only where the public API entry point calls
//! `virCheckReadOnlyGoto`, after the arguments were decoded, with
//! "read only access prevents virXxx" from the API file's error domain.

use rvirt_util::{Error, ErrorCode, ErrorDomain};

/// The `@priority` annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    Low,
    High,
}

/// Who may call a procedure, as libvirt 9.0's public API decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Allowed on read-only connections.
    Read,
    /// Allowed on read-only connections except with some flags or
    /// arguments (`VIR_DOMAIN_XML_SECURE`, `VIR_DOMAIN_VCPU_GUEST`, ...),
    /// which the API layer refuses itself.
    ReadUnlessFlags,
    /// The public API refuses read-only connections unconditionally.
    Write,
    /// A server-to-client event message, never called: libvirtd's table
    /// has no handler for it, so a call gets "unknown procedure".
    Event,
}

/// What [`Procedure::info`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcedureInfo {
    /// libvirt's constant name, e.g. `REMOTE_PROC_CONNECT_OPEN`.
    pub name: &'static str,
    pub priority: Priority,
    pub access: Access,
    /// The public API the daemon calls (`virDomainDestroy`); `None` for
    /// events and for calls the daemon answers itself (auth, close).
    pub api: Option<&'static str>,
    /// The error domain the API reports from (`VIR_FROM_THIS` of its
    /// `src/libvirt-*.c`: `virConnectGetType` reports from DOMAIN).
    pub api_domain: ErrorDomain,
}

impl ProcedureInfo {
    /// May a read-only connection make this call (flags aside)?
    pub fn readonly_ok(&self) -> bool {
        matches!(self.access, Access::Read | Access::ReadUnlessFlags)
    }

    /// libvirt's refusal of this call on a read-only connection
    /// (`virCheckReadOnlyGoto`).
    pub fn readonly_denied(&self) -> Error {
        Error::new(
            self.api_domain,
            ErrorCode::OPERATION_DENIED,
            format!("read only access prevents {}", self.api_or_name()),
        )
    }

    /// What the public API reports when the driver lacks the call
    /// (`virReportUnsupportedError`).
    pub fn unsupported(&self) -> Error {
        Error::no_support(self.api_domain, self.api_or_name())
    }

    fn api_or_name(&self) -> &'static str {
        self.api.unwrap_or(self.name)
    }
}

macro_rules! procedures {
    ($( $variant:ident = $num:literal, $name:literal, $prio:ident, $access:ident,
        $api:expr, $dom:literal; )*) => {
        /// `remote_procedure`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum Procedure {
            $( $variant = $num, )*
        }

        impl Procedure {
            /// Every procedure, in number order.
            pub const ALL: &'static [Procedure] = &[$( Procedure::$variant, )*];

            pub fn from_i32(v: i32) -> Option<Procedure> {
                match v {
                    $( $num => Some(Procedure::$variant), )*
                    _ => None,
                }
            }

            pub fn info(self) -> ProcedureInfo {
                match self {
                    $( Procedure::$variant => ProcedureInfo {
                        name: concat!("REMOTE_PROC_", $name),
                        priority: Priority::$prio,
                        access: Access::$access,
                        api: $api,
                        api_domain: ErrorDomain($dom),
                    }, )*
                }
            }
        }
    };
}

impl Procedure {
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// The table for a raw procedure number, if libvirt 9.0 defines it.
pub fn procedure_info(proc_: i32) -> Option<ProcedureInfo> {
    Procedure::from_i32(proc_).map(Procedure::info)
}

// The table itself: `protocol/remote.procs`, through build.rs.
include!(concat!(env!("OUT_DIR"), "/remote_procedures.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(Procedure::ALL.len(), 443);
        for (i, p) in Procedure::ALL.iter().enumerate() {
            assert_eq!(*p as i32, i as i32 + 1);
            assert_eq!(Procedure::from_i32(*p as i32), Some(*p));
        }
        assert_eq!(Procedure::from_i32(0), None);
        assert_eq!(Procedure::from_i32(444), None);
        let open = procedure_info(1).unwrap();
        assert_eq!(open.name, "REMOTE_PROC_CONNECT_OPEN");
        assert_eq!(open.priority, Priority::High);
        assert!(open.readonly_ok());
        assert!(!Procedure::DomainDefineXml.info().readonly_ok());
        assert!(!Procedure::DomainMigrateGetMaxSpeed.info().readonly_ok());
        assert_eq!(Procedure::DomainAbortJobFlags as i32, 442);
        assert_eq!(
            Procedure::DomainEventCallbackLifecycle.info().access,
            Access::Event
        );
        assert_eq!(Procedure::ConnectListAllDomains as i32, 273);
    }

    /// Every procedure has a class, an API to name in errors unless it is
    /// an event or daemon-only, and the counts are libvirt 9.0's.
    #[test]
    fn every_procedure_is_classified() {
        let count = |a: Access| {
            Procedure::ALL
                .iter()
                .filter(|p| p.info().access == a)
                .count()
        };
        assert_eq!(count(Access::Read), 189);
        assert_eq!(count(Access::ReadUnlessFlags), 6);
        assert_eq!(count(Access::Write), 197);
        assert_eq!(count(Access::Event), 51);
        let without_api: Vec<_> = Procedure::ALL
            .iter()
            .filter(|p| p.info().api.is_none() && p.info().access != Access::Event)
            .map(|p| p.name())
            .collect();
        assert_eq!(
            without_api,
            [
                "REMOTE_PROC_CONNECT_CLOSE",
                "REMOTE_PROC_AUTH_LIST",
                "REMOTE_PROC_AUTH_SASL_INIT",
                "REMOTE_PROC_AUTH_SASL_START",
                "REMOTE_PROC_AUTH_SASL_STEP",
                "REMOTE_PROC_AUTH_POLKIT",
            ]
        );
    }

    #[test]
    fn refusals_name_the_api_in_its_domain() {
        let destroy = Procedure::DomainDestroy.info();
        assert_eq!(destroy.access, Access::Write);
        let e = destroy.readonly_denied();
        assert_eq!(e.code, ErrorCode::OPERATION_DENIED);
        assert_eq!(e.domain, ErrorDomain::DOMAIN);
        assert_eq!(
            e.message,
            "operation forbidden: read only access prevents virDomainDestroy"
        );
        // libvirt-network.c reports from VIR_FROM_NETWORK (19).
        let net = Procedure::NetworkCreate.info();
        assert_eq!(net.api, Some("virNetworkCreate"));
        assert_eq!(net.readonly_denied().domain, ErrorDomain(19));
        // virNodeDeviceDettach keeps its historic spelling.
        assert_eq!(
            Procedure::NodeDeviceDettach.info().api,
            Some("virNodeDeviceDettach")
        );
        let e = Procedure::NodeGetSevInfo.info().unsupported();
        assert_eq!(e.code, ErrorCode::NO_SUPPORT);
        assert_eq!(
            e.message,
            "this function is not supported by the connection driver: virNodeGetSEVInfo"
        );
        assert_eq!(
            Procedure::DomainGetXmlDesc.info().access,
            Access::ReadUnlessFlags
        );
        assert!(Procedure::DomainGetXmlDesc.info().readonly_ok());
    }
}
