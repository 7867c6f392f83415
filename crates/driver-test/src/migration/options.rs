//! The test driver's own rule on top of the shared ones
//! (`rvirt_hypervisor::rules`): VIR_MIGRATE_COMPRESSED without a
//! `compression` param selects xbzrle in libvirt, which the simulated
//! memory stream does not have.

use rvirt::migration::flags;
use rvirt_hypervisor::Request;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// Refuse COMPRESSED when it would mean xbzrle.
pub fn check_compressed(flags: u32, req: &Request) -> Result<()> {
    if req.compression.is_empty() && flags & flags::COMPRESSED != 0 {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            "VIR_MIGRATE_COMPRESSED without a 'compression' parameter selects xbzrle, \
             which the test driver does not support; use compression 'mt'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_alone_would_mean_xbzrle() {
        let e = check_compressed(flags::COMPRESSED, &Request::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        assert!(e.message.contains("xbzrle"), "{}", e.message);
        let mt = Request {
            compression: vec!["mt".into()],
            ..Request::default()
        };
        assert!(check_compressed(flags::COMPRESSED, &mt).is_ok());
    }
}
