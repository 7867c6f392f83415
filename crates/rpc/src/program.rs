//! What the three RPC programs (REMOTE, QEMU, ADMIN) share: the facts a
//! procedure's declaration gives ([`ProcedureInfo`]), the `procedures!`
//! macro their generated tables are written in, and the typed interfaces
//! derived from the same declarations: [`Proc`] (a procedure's number,
//! argument and return types) and [`Call`], over which each program
//! generates its client stubs (`remote::RemoteCalls` and friends).

use crate::xdr::{XdrDecode, XdrEncode};
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

/// What a procedure's declaration says about it.
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
    /// libvirt's `@acl` annotations, the access driver's checks in order:
    /// `object:permission`, optionally `:FLAGS` (the check applies only
    /// when those flags are given, `!FLAGS` when they are not); `none`
    /// where libvirt declares that no check applies; empty where the
    /// program has no annotations (the admin program).
    pub acl: &'static [&'static str],
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

/// One procedure of a program, as its declaration gives it: generated as a
/// marker type per procedure (`remote::procs::DomainGetXmlDesc`).
pub trait Proc {
    /// The program's procedure enum (`remote::Procedure`).
    type Id: Copy;
    const ID: Self::Id;
    const PROGRAM: u32;
    const VERSION: u32;
    const NUMBER: i32;
    /// `XXX_args`, or `()` for XDR `void`; the message of an event.
    type Args: XdrEncode + XdrDecode;
    /// `XXX_ret`, or `()`.
    type Ret: XdrEncode + XdrDecode;
}

/// The arguments of the many calls that take only a domain and flags
/// (`remote_domain_get_xml_desc_args` and its kin): the generated types
/// implement it, so a client builds any of them the same way.
pub trait DomainFlagsArgs {
    fn new(dom: crate::remote::NonnullDomain, flags: u32) -> Self;
}

/// A client connection that can make a call and wait for its reply; the
/// generated stubs (`remote::RemoteCalls::call_domain_get_xml_desc`...)
/// are written over it.
pub trait Call {
    fn call_proc<P: Proc>(&self, args: &P::Args) -> rvirt_util::Result<P::Ret>;

    /// The call whose argument struct `args` is: `request(&StoragePoolBuildArgs { .. })`.
    fn request<A: Request>(&self, args: &A) -> rvirt_util::Result<<A::Proc as Proc>::Ret> {
        self.call_proc::<A::Proc>(args)
    }
}

/// The argument struct of a call (not an event, nor a stream's opening):
/// each names the one procedure it belongs to, so a client needs only the
/// arguments to make the call ([`Call::request`]). Generated per procedure.
pub trait Request: XdrEncode + XdrDecode {
    type Proc: Proc<Args = Self>;
}

/// The body of a generated procedure table (`OUT_DIR/*_procedures.rs`):
/// the program's `Procedure` enum and its [`ProcedureInfo`]s.
macro_rules! procedures {
    ($prefix:literal; $( $variant:ident = $num:literal, $name:literal, $prio:ident, $access:ident,
        $api:expr, $dom:literal, [$($acl:literal),*]; )*) => {
        /// The program's procedures, by number.
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

            pub fn info(self) -> $crate::program::ProcedureInfo {
                use $crate::program::{Access, Priority};
                match self {
                    $( Procedure::$variant => $crate::program::ProcedureInfo {
                        name: concat!($prefix, $name),
                        priority: Priority::$prio,
                        access: Access::$access,
                        api: $api,
                        api_domain: rvirt_util::ErrorDomain($dom),
                        acl: &[$($acl),*],
                    }, )*
                }
            }

            pub fn name(self) -> &'static str {
                self.info().name
            }
        }

        /// The table entry for a raw procedure number, if libvirt 9.0 defines it.
        pub fn procedure_info(proc_: i32) -> Option<$crate::program::ProcedureInfo> {
            Procedure::from_i32(proc_).map(Procedure::info)
        }
    };
}
pub(crate) use procedures;

/// What makes a program module: its generated types and procedure table
/// (`OUT_DIR/<module>_types.rs` and `_procedures.rs`), a test for headers
/// addressed to it (`$is`) and a call-packet builder.
macro_rules! program_module {
    ($module:literal, $is:ident, $name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $module, "_types.rs"));
        include!(concat!(env!("OUT_DIR"), "/", $module, "_procedures.rs"));

        #[doc = concat!("Is this header addressed to the ", $name, " program?")]
        pub fn $is(header: &$crate::packet::Header) -> bool {
            header.prog == PROGRAM && header.vers == PROTOCOL_VERSION
        }

        #[doc = concat!("A ", $name, " call packet.")]
        pub fn call<T: $crate::xdr::XdrEncode + ?Sized>(
            proc_: Procedure,
            serial: u32,
            args: &T,
        ) -> $crate::xdr::XdrResult<$crate::packet::Packet> {
            $crate::packet::Packet::call(PROGRAM, PROTOCOL_VERSION, proc_ as i32, serial, args)
        }
    };
}
pub(crate) use program_module;
