//! libvirt's error model: every failure carries a code (`virErrorNumber`), the
//! domain that raised it (`virErrorDomain`), a level and a formatted message.
//!
//! Codes and domains are newtypes over `i32` rather than Rust enums because
//! they cross the wire: a peer may send a code this build does not know, and it
//! must survive the round trip unchanged.

use std::fmt;

/// `virErrorNumber`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i32);

/// `virErrorDomain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorDomain(pub i32);

/// `virErrorLevel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorLevel(pub i32);

impl ErrorLevel {
    pub const NONE: ErrorLevel = ErrorLevel(0);
    pub const WARNING: ErrorLevel = ErrorLevel(1);
    pub const ERROR: ErrorLevel = ErrorLevel(2);
}

macro_rules! error_codes {
    ($($name:ident = $val:expr, $msg:expr, $msginfo:expr;)*) => {
        impl ErrorCode {
            $(pub const $name: ErrorCode = ErrorCode($val);)*

            /// libvirt's `virErrorMsg`: the text for this code, with `%s`
            /// where the detail goes when there is one.
            fn templates(self) -> Option<(&'static str, &'static str)> {
                match self.0 {
                    $($val => Some(($msg, $msginfo)),)*
                    _ => None,
                }
            }

            /// The `VIR_ERR_*` name, for logs and debugging.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some(concat!("VIR_ERR_", stringify!($name))),)*
                    _ => None,
                }
            }
        }
    };
}

// Text from libvirt's src/util/virerror.c (virErrorMsgStrings).
error_codes! {
    OK = 0, "", "%s";
    INTERNAL_ERROR = 1, "internal error", "internal error: %s";
    NO_MEMORY = 2, "out of memory", "out of memory: %s";
    NO_SUPPORT = 3, "this function is not supported by the connection driver", "this function is not supported by the connection driver: %s";
    UNKNOWN_HOST = 4, "unknown host", "unknown host %s";
    NO_CONNECT = 5, "no connection driver available", "no connection driver available for %s";
    INVALID_CONN = 6, "invalid connection pointer in", "invalid connection pointer in %s";
    INVALID_DOMAIN = 7, "invalid domain pointer in", "invalid domain pointer in %s";
    INVALID_ARG = 8, "invalid argument", "invalid argument: %s";
    OPERATION_FAILED = 9, "operation failed", "operation failed: %s";
    GET_FAILED = 10, "GET operation failed", "GET operation failed: %s";
    POST_FAILED = 11, "POST operation failed", "POST operation failed: %s";
    HTTP_ERROR = 12, "got unknown HTTP error code", "got unknown HTTP error code %s";
    SEXPR_SERIAL = 13, "failed to serialize S-Expr", "failed to serialize S-Expr: %s";
    NO_XEN = 14, "could not use Xen hypervisor entry", "could not use Xen hypervisor entry %s";
    XEN_CALL = 15, "failed Xen syscall", "failed Xen syscall %s";
    OS_TYPE = 16, "unknown OS type", "unknown OS type %s";
    NO_KERNEL = 17, "missing kernel information", "missing kernel information: %s";
    NO_ROOT = 18, "missing root device information", "missing root device information in %s";
    NO_SOURCE = 19, "missing source information for device", "missing source information for device %s";
    NO_TARGET = 20, "missing target information for device", "missing target information for device %s";
    NO_NAME = 21, "missing name information", "missing name information in %s";
    NO_OS = 22, "missing operating system information", "missing operating system information for %s";
    NO_DEVICE = 23, "missing devices information", "missing devices information for %s";
    NO_XENSTORE = 24, "could not connect to Xen Store", "could not connect to Xen Store %s";
    DRIVER_FULL = 25, "too many drivers registered", "too many drivers registered in %s";
    CALL_FAILED = 26, "library call failed", "library call failed: %s";
    XML_ERROR = 27, "XML description is invalid or not well formed", "XML error: %s";
    DOM_EXIST = 28, "this domain exists already", "domain %s exists already";
    OPERATION_DENIED = 29, "operation forbidden for read only access", "operation forbidden: %s";
    OPEN_FAILED = 30, "failed to open configuration file", "failed to open configuration file %s";
    READ_FAILED = 31, "failed to read configuration file", "failed to read configuration file %s";
    PARSE_FAILED = 32, "failed to parse configuration file", "failed to parse configuration file %s";
    CONF_SYNTAX = 33, "configuration file syntax error", "configuration file syntax error: %s";
    WRITE_FAILED = 34, "failed to write configuration file", "failed to write configuration file: %s";
    XML_DETAIL = 35, "parser error", "%s";
    INVALID_NETWORK = 36, "invalid network pointer in", "invalid network pointer in %s";
    NETWORK_EXIST = 37, "this network exists already", "network %s exists already";
    SYSTEM_ERROR = 38, "system call error", "%s";
    RPC = 39, "RPC error", "%s";
    GNUTLS_ERROR = 40, "GNUTLS call error", "%s";
    WAR_NO_NETWORK = 41, "Failed to find the network", "Failed to find the network: %s";
    NO_DOMAIN = 42, "Domain not found", "Domain not found: %s";
    NO_NETWORK = 43, "Network not found", "Network not found: %s";
    INVALID_MAC = 44, "invalid MAC address", "invalid MAC address: %s";
    AUTH_FAILED = 45, "authentication failed", "authentication failed: %s";
    INVALID_STORAGE_POOL = 46, "invalid storage pool pointer in", "invalid storage pool pointer in %s";
    INVALID_STORAGE_VOL = 47, "invalid storage volume pointer in", "invalid storage volume pointer in %s";
    WAR_NO_STORAGE = 48, "Failed to find a storage driver", "Failed to find a storage driver: %s";
    NO_STORAGE_POOL = 49, "Storage pool not found", "Storage pool not found: %s";
    NO_STORAGE_VOL = 50, "Storage volume not found", "Storage volume not found: %s";
    WAR_NO_NODE = 51, "Failed to find a node driver", "Failed to find a node driver: %s";
    INVALID_NODE_DEVICE = 52, "invalid node device pointer", "invalid node device pointer in %s";
    NO_NODE_DEVICE = 53, "Node device not found", "Node device not found: %s";
    NO_SECURITY_MODEL = 54, "Security model not found", "Security model not found: %s";
    OPERATION_INVALID = 55, "Requested operation is not valid", "Requested operation is not valid: %s";
    WAR_NO_INTERFACE = 56, "Failed to find the interface", "Failed to find the interface: %s";
    NO_INTERFACE = 57, "Interface not found", "Interface not found: %s";
    INVALID_INTERFACE = 58, "invalid interface pointer in", "invalid interface pointer in %s";
    MULTIPLE_INTERFACES = 59, "multiple matching interfaces found", "multiple matching interfaces found: %s";
    WAR_NO_NWFILTER = 60, "Failed to start the nwfilter driver", "Failed to start the nwfilter driver: %s";
    INVALID_NWFILTER = 61, "Invalid network filter", "Invalid network filter: %s";
    NO_NWFILTER = 62, "Network filter not found", "Network filter not found: %s";
    BUILD_FIREWALL = 63, "Error while building firewall", "Error while building firewall: %s";
    WAR_NO_SECRET = 64, "Failed to find a secret storage driver", "Failed to find a secret storage driver: %s";
    INVALID_SECRET = 65, "Invalid secret", "Invalid secret: %s";
    NO_SECRET = 66, "Secret not found", "Secret not found: %s";
    CONFIG_UNSUPPORTED = 67, "unsupported configuration", "unsupported configuration: %s";
    OPERATION_TIMEOUT = 68, "Timed out during operation", "Timed out during operation: %s";
    MIGRATE_PERSIST_FAILED = 69, "Failed to make domain persistent after migration", "Failed to make domain persistent after migration: %s";
    HOOK_SCRIPT_FAILED = 70, "Hook script execution failed", "Hook script execution failed: %s";
    INVALID_DOMAIN_SNAPSHOT = 71, "Invalid domain snapshot", "Invalid domain snapshot: %s";
    NO_DOMAIN_SNAPSHOT = 72, "Domain snapshot not found", "Domain snapshot not found: %s";
    INVALID_STREAM = 73, "invalid stream pointer", "invalid stream pointer in %s";
    ARGUMENT_UNSUPPORTED = 74, "argument unsupported", "argument unsupported: %s";
    STORAGE_PROBE_FAILED = 75, "Storage pool probe failed", "Storage pool probe failed: %s";
    STORAGE_POOL_BUILT = 76, "Storage pool already built", "Storage pool already built: %s";
    SNAPSHOT_REVERT_RISKY = 77, "revert requires force", "revert requires force: %s";
    OPERATION_ABORTED = 78, "operation aborted", "operation aborted: %s";
    AUTH_CANCELLED = 79, "authentication cancelled", "authentication cancelled: %s";
    NO_DOMAIN_METADATA = 80, "metadata not found", "metadata not found: %s";
    MIGRATE_UNSAFE = 81, "Unsafe migration", "Unsafe migration: %s";
    OVERFLOW = 82, "numerical overflow", "numerical overflow: %s";
    BLOCK_COPY_ACTIVE = 83, "block copy still active", "block copy still active: %s";
    OPERATION_UNSUPPORTED = 84, "Operation not supported", "Operation not supported: %s";
    SSH = 85, "SSH transport error", "SSH transport error: %s";
    AGENT_UNRESPONSIVE = 86, "Guest agent is not responding", "Guest agent is not responding: %s";
    RESOURCE_BUSY = 87, "resource busy", "resource busy: %s";
    ACCESS_DENIED = 88, "access denied", "access denied: %s";
    DBUS_SERVICE = 89, "error from service", "error from service: %s";
    STORAGE_VOL_EXIST = 90, "this storage volume exists already", "storage volume %s exists already";
    CPU_INCOMPATIBLE = 91, "the CPU is incompatible with host CPU", "the CPU is incompatible with host CPU: %s";
    XML_INVALID_SCHEMA = 92, "XML document failed to validate against schema", "XML document failed to validate against schema: %s";
    MIGRATE_FINISH_OK = 93, "migration successfully aborted", "migration successfully aborted: %s";
    AUTH_UNAVAILABLE = 94, "authentication unavailable", "authentication unavailable: %s";
    NO_SERVER = 95, "Server not found", "Server not found: %s";
    NO_CLIENT = 96, "Client not found", "Client not found: %s";
    AGENT_UNSYNCED = 97, "guest agent replied with wrong id to guest-sync command", "guest agent replied with wrong id to guest-sync command: %s";
    LIBSSH = 98, "libssh transport error", "libssh transport error: %s";
    DEVICE_MISSING = 99, "device not found", "device not found: %s";
    INVALID_NWFILTER_BINDING = 100, "Invalid network filter binding", "Invalid network filter binding: %s";
    NO_NWFILTER_BINDING = 101, "Network filter binding not found", "Network filter binding not found: %s";
    INVALID_DOMAIN_CHECKPOINT = 102, "Invalid domain checkpoint", "Invalid domain checkpoint: %s";
    NO_DOMAIN_CHECKPOINT = 103, "Domain checkpoint not found", "Domain checkpoint not found: %s";
    NO_DOMAIN_BACKUP = 104, "Domain backup job id not found", "Domain backup job id not found: %s";
    INVALID_NETWORK_PORT = 105, "Invalid network port pointer", "Invalid network port pointer: %s";
    NETWORK_PORT_EXIST = 106, "this network port exists already", "network port %s exists already";
    NO_NETWORK_PORT = 107, "network port not found", "network port not found: %s";
    NO_HOSTNAME = 108, "no hostname found", "no hostname found: %s";
    CHECKPOINT_INCONSISTENT = 109, "checkpoint inconsistent", "checkpoint inconsistent: %s";
    MULTIPLE_DOMAINS = 110, "multiple matching domains found", "multiple matching domains found: %s";
}

impl ErrorDomain {
    pub const NONE: ErrorDomain = ErrorDomain(0);
    pub const XML: ErrorDomain = ErrorDomain(5);
    pub const DOM: ErrorDomain = ErrorDomain(6);
    pub const RPC: ErrorDomain = ErrorDomain(7);
    pub const CONF: ErrorDomain = ErrorDomain(9);
    pub const QEMU: ErrorDomain = ErrorDomain(10);
    pub const NET: ErrorDomain = ErrorDomain(11);
    pub const TEST: ErrorDomain = ErrorDomain(12);
    pub const REMOTE: ErrorDomain = ErrorDomain(13);
    pub const NETWORK: ErrorDomain = ErrorDomain(19);
    pub const DOMAIN: ErrorDomain = ErrorDomain(20);
    pub const SECURITY: ErrorDomain = ErrorDomain(24);
    pub const STREAMS: ErrorDomain = ErrorDomain(38);
    pub const CAPABILITIES: ErrorDomain = ErrorDomain(44);
    pub const URI: ErrorDomain = ErrorDomain(45);
    pub const AUTH: ErrorDomain = ErrorDomain(46);
    pub const DEVICE: ErrorDomain = ErrorDomain(49);
}

/// One libvirt error (`virError`): what a caller inspects and what the RPC
/// layer sends as `remote_error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub domain: ErrorDomain,
    pub level: ErrorLevel,
    /// The full text as libvirt prints it, e.g. `internal error: domain 'x' not paused`.
    pub message: String,
    pub str1: Option<String>,
    pub str2: Option<String>,
    pub str3: Option<String>,
    pub int1: i32,
    pub int2: i32,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// `virReportError(code, "%s", detail)`: the code's template applied to `detail`.
    pub fn new(domain: ErrorDomain, code: ErrorCode, detail: impl AsRef<str>) -> Error {
        let detail = detail.as_ref();
        let message = match code.templates() {
            Some((bare, _)) if detail.is_empty() => bare.to_string(),
            Some((_, with_info)) => with_info.replacen("%s", detail, 1),
            None if detail.is_empty() => format!("unknown error code {}", code.0),
            None => detail.to_string(),
        };
        Error::raw(domain, code, message)
    }

    /// An error whose message is already final (e.g. received from a peer).
    pub fn raw(domain: ErrorDomain, code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            domain,
            level: ErrorLevel::ERROR,
            message: message.into(),
            str1: None,
            str2: None,
            str3: None,
            int1: -1,
            int2: -1,
        }
    }

    /// The code's text with no detail (`virReportError(code, NULL)`).
    pub fn bare(domain: ErrorDomain, code: ErrorCode) -> Error {
        Error::new(domain, code, "")
    }

    /// `virReportSystemError`: "<what>: <strerror(errno)>".
    pub fn system(domain: ErrorDomain, what: impl AsRef<str>, err: &std::io::Error) -> Error {
        let mut e = Error::raw(
            domain,
            ErrorCode::SYSTEM_ERROR,
            format!("{}: {}", what.as_ref(), strerror(err)),
        );
        e.int1 = err.raw_os_error().unwrap_or(0);
        e
    }

    pub fn internal(domain: ErrorDomain, detail: impl AsRef<str>) -> Error {
        Error::new(domain, ErrorCode::INTERNAL_ERROR, detail)
    }

    pub fn invalid_arg(domain: ErrorDomain, detail: impl AsRef<str>) -> Error {
        Error::new(domain, ErrorCode::INVALID_ARG, detail)
    }

    pub fn operation_invalid(domain: ErrorDomain, detail: impl AsRef<str>) -> Error {
        Error::new(domain, ErrorCode::OPERATION_INVALID, detail)
    }

    pub fn no_support(domain: ErrorDomain, what: impl AsRef<str>) -> Error {
        Error::new(domain, ErrorCode::NO_SUPPORT, what)
    }

    /// `VIR_ERR_XML_ERROR` from the XML domain, as conf reports parse failures.
    pub fn xml(detail: impl AsRef<str>) -> Error {
        Error::new(ErrorDomain::DOMAIN, ErrorCode::XML_ERROR, detail)
    }

    /// Prefix the message, as `virLastErrorPrefixMessage` does.
    pub fn prefixed(mut self, prefix: impl AsRef<str>) -> Error {
        self.message = format!("{}: {}", prefix.as_ref(), self.message);
        self
    }
}

/// `strerror(3)` text without Rust's " (os error N)" suffix, as libvirt prints it.
pub fn strerror(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(pos) => text[..pos].to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_uses_libvirt_templates() {
        let e = Error::new(
            ErrorDomain::TEST,
            ErrorCode::INTERNAL_ERROR,
            "domain 'test' not paused",
        );
        assert_eq!(e.message, "internal error: domain 'test' not paused");
        assert_eq!(
            Error::bare(ErrorDomain::TEST, ErrorCode::NO_DOMAIN).message,
            "Domain not found"
        );
        assert_eq!(
            Error::new(ErrorDomain::TEST, ErrorCode::DOM_EXIST, "'x'").message,
            "domain 'x' exists already"
        );
    }

    #[test]
    fn unknown_codes_survive() {
        let e = Error::new(ErrorDomain(99), ErrorCode(4242), "from a newer peer");
        assert_eq!(e.code.0, 4242);
        assert_eq!(e.message, "from a newer peer");
        assert_eq!(ErrorCode(4242).name(), None);
        assert_eq!(ErrorCode::NO_DOMAIN.name(), Some("VIR_ERR_NO_DOMAIN"));
    }

    #[test]
    fn system_error_has_strerror() {
        let io = std::io::Error::from_raw_os_error(2);
        let e = Error::system(ErrorDomain::NONE, "Failed to open file '/x'", &io);
        assert_eq!(
            e.message,
            "Failed to open file '/x': No such file or directory"
        );
        assert_eq!(e.int1, 2);
    }
}
