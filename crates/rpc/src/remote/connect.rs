//! Connection-level procedures: authentication, open/close, host facts.

use super::{
    AUTH_TYPE_LIST_MAX, DOMAIN_LIST_MAX, SECURITY_DOI_MAX, SECURITY_MODEL_MAX, STRING_MAX,
};
use crate::packet::NonnullDomain;

/// `VIR_CONNECT_RO`, in [`ConnectOpenArgs::flags`].
pub const CONNECT_RO: u32 = 1;

crate::xdr_struct! {
    /// AUTH_LIST (66): args void.
    pub struct AuthListRet {
        pub types: Vec<i32> [AUTH_TYPE_LIST_MAX],
    }

    /// CONNECT_OPEN (1): ret void.
    pub struct ConnectOpenArgs {
        pub name: Option<String> [STRING_MAX],
        pub flags: u32,
    }

    /// CONNECT_SUPPORTS_FEATURE (60).
    pub struct ConnectSupportsFeatureArgs {
        pub feature: i32,
    }
    pub struct ConnectSupportsFeatureRet {
        pub supported: i32,
    }

    /// CONNECT_GET_URI (110): args void.
    pub struct ConnectGetUriRet {
        pub uri: String [STRING_MAX],
    }

    /// CONNECT_GET_HOSTNAME (59): args void.
    pub struct ConnectGetHostnameRet {
        pub hostname: String [STRING_MAX],
    }

    /// CONNECT_GET_TYPE (3): args void.
    pub struct ConnectGetTypeRet {
        pub type_: String [STRING_MAX],
    }

    /// CONNECT_GET_VERSION (4): args void.
    pub struct ConnectGetVersionRet {
        pub hv_ver: u64,
    }

    /// CONNECT_GET_LIB_VERSION (157): args void.
    pub struct ConnectGetLibVersionRet {
        pub lib_ver: u64,
    }

    /// CONNECT_GET_SYSINFO (203).
    pub struct ConnectGetSysinfoArgs {
        pub flags: u32,
    }
    pub struct ConnectGetSysinfoRet {
        pub sysinfo: String [STRING_MAX],
    }

    /// NODE_GET_INFO (6): args void. `model` is `char model[32]`: 32
    /// four-byte chars on the wire.
    pub struct NodeGetInfoRet {
        pub model: [i8; 32],
        pub memory: u64,
        pub cpus: i32,
        pub mhz: i32,
        pub nodes: i32,
        pub sockets: i32,
        pub cores: i32,
        pub threads: i32,
    }

    /// CONNECT_GET_CAPABILITIES (7): args void.
    pub struct ConnectGetCapabilitiesRet {
        pub capabilities: String [STRING_MAX],
    }

    /// CONNECT_LIST_ALL_DOMAINS (273).
    pub struct ConnectListAllDomainsArgs {
        pub need_results: i32,
        pub flags: u32,
    }
    pub struct ConnectListAllDomainsRet {
        pub domains: Vec<NonnullDomain> [DOMAIN_LIST_MAX],
        pub ret: u32,
    }

    /// CONNECT_LIST_DOMAINS (37).
    pub struct ConnectListDomainsArgs {
        pub maxids: i32,
    }
    pub struct ConnectListDomainsRet {
        pub ids: Vec<i32> [DOMAIN_LIST_MAX],
    }

    /// CONNECT_NUM_OF_DOMAINS (51): args void.
    pub struct ConnectNumOfDomainsRet {
        pub num: i32,
    }

    /// CONNECT_LIST_DEFINED_DOMAINS (21).
    pub struct ConnectListDefinedDomainsArgs {
        pub maxnames: i32,
    }
    pub struct ConnectListDefinedDomainsRet {
        pub names: Vec<String> [DOMAIN_LIST_MAX],
    }

    /// CONNECT_NUM_OF_DEFINED_DOMAINS (25): args void.
    pub struct ConnectNumOfDefinedDomainsRet {
        pub num: i32,
    }

    /// CONNECT_IS_SECURE (149): args void.
    pub struct ConnectIsSecureRet {
        pub secure: i32,
    }

    /// CONNECT_GET_MAX_VCPUS (5).
    pub struct ConnectGetMaxVcpusArgs {
        pub type_: Option<String> [STRING_MAX],
    }
    pub struct ConnectGetMaxVcpusRet {
        pub max_vcpus: i32,
    }

    /// NODE_GET_SECURITY_MODEL (122): args void. Both fields are C strings
    /// sent as `char x<N>` including the NUL (see
    /// [`chars_to_string`](super::chars_to_string)); empty when there is no
    /// security driver.
    pub struct NodeGetSecurityModelRet {
        pub model: Vec<i8> [SECURITY_MODEL_MAX],
        pub doi: Vec<i8> [SECURITY_DOI_MAX],
    }
}

impl NodeGetInfoRet {
    /// `model` as text.
    pub fn model_str(&self) -> String {
        super::chars_to_string(&self.model)
    }

    /// Set `model` from text, truncated to 31 bytes plus NUL like `virStrcpyStatic`.
    pub fn set_model(&mut self, model: &str) {
        self.model = [0; 32];
        for (dst, b) in self.model.iter_mut().zip(model.bytes().take(31)) {
            *dst = b as i8;
        }
    }
}
