//! The migration vocabulary of libvirt's public API: every
//! `virDomainMigrateFlags` value and every `VIR_MIGRATE_PARAM_*` name with its
//! type (libvirt 9.0's numbers and names). The rules `virDomainMigrate*`
//! enforce before any driver is involved are in [`client`], each in the
//! entry point libvirt checks it in.
//!
//! Drivers say which flags and params they honour; [`check_supported`]
//! refuses the rest with `VIR_ERR_ARGUMENT_UNSUPPORTED` naming each one, so
//! nothing moves when a request cannot be carried out as asked.

pub mod client;
mod phases;
pub mod v3;

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamType, TypedParams};

rvirt_util::flag_bits! {
    /// `virDomainMigrateFlags`.
    pub mod flags = "VIR_MIGRATE_" {
        LIVE,
        PEER2PEER,
        TUNNELLED,
        PERSIST_DEST,
        UNDEFINE_SOURCE,
        PAUSED,
        NON_SHARED_DISK,
        NON_SHARED_INC,
        CHANGE_PROTECTION,
        UNSAFE,
        OFFLINE,
        COMPRESSED,
        ABORT_ON_ERROR,
        AUTO_CONVERGE,
        RDMA_PIN_ALL,
        POSTCOPY,
        TLS,
        PARALLEL,
        NON_SHARED_SYNCHRONOUS_WRITES,
        POSTCOPY_RESUME,
        ZEROCOPY,
    }
}

/// `VIR_MIGRATE_PARAM_*` names.
pub mod params {
    pub const URI: &str = "migrate_uri";
    pub const DEST_NAME: &str = "destination_name";
    pub const DEST_XML: &str = "destination_xml";
    pub const PERSIST_XML: &str = "persistent_xml";
    pub const BANDWIDTH: &str = "bandwidth";
    pub const BANDWIDTH_POSTCOPY: &str = "bandwidth.postcopy";
    pub const GRAPHICS_URI: &str = "graphics_uri";
    pub const LISTEN_ADDRESS: &str = "listen_address";
    pub const MIGRATE_DISKS: &str = "migrate_disks";
    pub const DISKS_PORT: &str = "disks_port";
    pub const DISKS_URI: &str = "disks_uri";
    pub const COMPRESSION: &str = "compression";
    pub const COMPRESSION_MT_LEVEL: &str = "compression.mt.level";
    pub const COMPRESSION_MT_THREADS: &str = "compression.mt.threads";
    pub const COMPRESSION_MT_DTHREADS: &str = "compression.mt.dthreads";
    pub const COMPRESSION_XBZRLE_CACHE: &str = "compression.xbzrle.cache";
    pub const AUTO_CONVERGE_INITIAL: &str = "auto_converge.initial";
    pub const AUTO_CONVERGE_INCREMENT: &str = "auto_converge.increment";
    pub const PARALLEL_CONNECTIONS: &str = "parallel.connections";
    pub const TLS_DESTINATION: &str = "tls.destination";
}

/// Every migration parameter with libvirt's type and whether it may repeat.
pub const PARAM_TYPES: &[(&str, TypedParamType, bool)] = &[
    (params::URI, TypedParamType::String, false),
    (params::DEST_NAME, TypedParamType::String, false),
    (params::DEST_XML, TypedParamType::String, false),
    (params::PERSIST_XML, TypedParamType::String, false),
    (params::BANDWIDTH, TypedParamType::ULLong, false),
    (params::BANDWIDTH_POSTCOPY, TypedParamType::ULLong, false),
    (params::GRAPHICS_URI, TypedParamType::String, false),
    (params::LISTEN_ADDRESS, TypedParamType::String, false),
    (params::MIGRATE_DISKS, TypedParamType::String, true),
    (params::DISKS_PORT, TypedParamType::Int, false),
    (params::DISKS_URI, TypedParamType::String, false),
    (params::COMPRESSION, TypedParamType::String, true),
    (params::COMPRESSION_MT_LEVEL, TypedParamType::Int, false),
    (params::COMPRESSION_MT_THREADS, TypedParamType::Int, false),
    (params::COMPRESSION_MT_DTHREADS, TypedParamType::Int, false),
    (
        params::COMPRESSION_XBZRLE_CACHE,
        TypedParamType::ULLong,
        false,
    ),
    (params::AUTO_CONVERGE_INITIAL, TypedParamType::Int, false),
    (params::AUTO_CONVERGE_INCREMENT, TypedParamType::Int, false),
    (params::PARALLEL_CONNECTIONS, TypedParamType::Int, false),
    (params::TLS_DESTINATION, TypedParamType::String, false),
];

/// Refuse, naming each one, the flags and params a driver does not honour.
pub fn check_supported(
    flags: u32,
    params: &TypedParams,
    honoured_flags: u32,
    honoured_params: &[&str],
) -> Result<()> {
    let refused: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| flags & f != 0 && honoured_flags & f == 0)
        .map(|(_, n)| *n)
        .collect();
    if !refused.is_empty() {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            format!("migration flags not supported: {}", refused.join(", ")),
        ));
    }
    if let Some(p) = params
        .iter()
        .find(|p| !honoured_params.contains(&p.field.as_str()))
    {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            format!("migration parameter '{}' is not supported", p.field),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvirt_util::TypedParamValue;

    #[test]
    fn flag_values_are_libvirts() {
        // Spot checks against libvirt 9.0's python bindings.
        assert_eq!(flags::PEER2PEER, 2);
        assert_eq!(flags::PERSIST_DEST, 8);
        assert_eq!(flags::OFFLINE, 1024);
        assert_eq!(flags::POSTCOPY, 32768);
        assert_eq!(flags::ZEROCOPY, 1_048_576);
        // libvirt 9.0 defines 21 flags.
        assert_eq!(flags::ALL, (1 << 21) - 1);
    }

    #[test]
    fn unsupported_names_each_refusal() {
        let p = TypedParams::new().with(
            params::COMPRESSION,
            TypedParamValue::String("xbzrle".into()),
        );
        let e = check_supported(
            flags::LIVE | flags::RDMA_PIN_ALL,
            &TypedParams::new(),
            flags::LIVE,
            &[],
        )
        .unwrap_err();
        assert!(
            e.message.contains("VIR_MIGRATE_RDMA_PIN_ALL"),
            "{}",
            e.message
        );
        let e = check_supported(0, &p, 0, &[params::BANDWIDTH]).unwrap_err();
        assert!(e.message.contains("'compression'"), "{}", e.message);
    }
}
