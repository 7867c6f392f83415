//! The migration cookie between the phases (`rvirt_conf::MigrationCookie`,
//! libvirt's `qemuMigrationCookie`): what the source says about the guest
//! and itself, what the destination answers, and the checks both ends
//! make on the other's (same host, same guest).

use rvirt_conf::{DomainDef, MigrationCookie};
use rvirt_util::uuid::Uuid;
use rvirt_util::{Error, ErrorDomain, Result};

/// This host's name, as the cookie carries it.
pub fn host_name() -> String {
    rvirt_util::host::hostname().unwrap_or_else(|_| "localhost".into())
}

/// Parse a cookie from the other end; `None` when it sent none.
pub fn parse(cookie_in: &[u8]) -> Result<Option<MigrationCookie>> {
    if cookie_in.is_empty() {
        return Ok(None);
    }
    MigrationCookie::from_bytes(cookie_in).map(Some)
}

/// libvirt's `qemuMigrationCookieXMLParse` check: the other end must be
/// another host. The cookie, parsed.
pub fn check_not_same_host(
    cookie_in: &[u8],
    ours: [u8; 16],
    domain: ErrorDomain,
) -> Result<Option<MigrationCookie>> {
    let cookie = parse(cookie_in)?;
    if let Some(c) = &cookie {
        if *c.host_uuid.as_bytes() == ours {
            return Err(Error::internal(
                domain,
                format!("Attempt to migrate guest to the same host {}", c.host_uuid),
            ));
        }
    }
    Ok(cookie)
}

/// The destination's check that the cookie and the XML name one guest.
pub fn check_same_guest(
    cookie: Option<&MigrationCookie>,
    def: Option<&DomainDef>,
    domain: ErrorDomain,
) -> Result<()> {
    if let (Some(c), Some(d)) = (cookie, def) {
        if c.uuid != d.uuid {
            return Err(Error::internal(
                domain,
                format!(
                    "Incoming cookie data had unexpected UUID {} vs {}",
                    c.uuid, d.uuid
                ),
            ));
        }
    }
    Ok(())
}

/// A cookie from this host about guest `name`/`uuid` with `memory_bytes`
/// of memory in pages of `page_size`.
pub fn ours(
    name: &str,
    uuid: Uuid,
    host_uuid: [u8; 16],
    memory_bytes: u64,
    page_size: u64,
) -> MigrationCookie {
    MigrationCookie {
        name: name.to_string(),
        uuid,
        hostname: host_name(),
        host_uuid: Uuid::from_bytes(host_uuid),
        memory_bytes,
        page_size,
        digest: None,
        persistent: None,
        stats: Vec::new(),
        nbd: None,
    }
}

/// The source's cookie for `def`: with PERSIST_DEST it carries the
/// persistent definition the destination should keep.
pub fn source_cookie(
    def: &DomainDef,
    persistent_xml: Option<String>,
    host_uuid: [u8; 16],
    page_size: u64,
) -> MigrationCookie {
    MigrationCookie {
        persistent: persistent_xml,
        ..ours(
            &def.name,
            def.uuid,
            host_uuid,
            def.memory_kib * 1024,
            page_size,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_is_refused() {
        let c = ours("g", Uuid::nil(), [3; 16], 4096, 4096);
        let bytes = c.format().into_bytes();
        let e = check_not_same_host(&bytes, [3; 16], ErrorDomain::TEST).unwrap_err();
        assert!(e
            .message
            .contains("Attempt to migrate guest to the same host"));
        let back = check_not_same_host(&bytes, [4; 16], ErrorDomain::TEST).unwrap();
        assert_eq!(back.unwrap().name, "g");
        assert!(check_not_same_host(&[], [3; 16], ErrorDomain::TEST)
            .unwrap()
            .is_none());
    }
}
