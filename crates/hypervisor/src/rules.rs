//! The rules every migration request meets before anything moves: the
//! flags and params a driver carries out (the rest are refused naming each
//! one, `VIR_ERR_ARGUMENT_UNSUPPORTED`), and the combinations libvirt
//! refuses (`qemuMigrationSrcBeginPhase`, `qemuMigrationParamsFromFlags`,
//! `qemuMigrationParamsSetCompression`), with QEMU's bounds on the values
//! and its words for them. Each driver states what it supports in one
//! [`MigrationSupport`]; the engine checks every phase against it.

use crate::request::Request;
use rvirt::migration::flags;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParams};

fn invalid(d: ErrorDomain, text: String) -> Error {
    Error::new(d, ErrorCode::INVALID_ARG, text)
}

fn unsupported(d: ErrorDomain, text: &str) -> Error {
    Error::new(d, ErrorCode::ARGUMENT_UNSUPPORTED, text)
}

/// What one driver carries out.
#[derive(Clone, Copy, Debug)]
pub struct MigrationSupport {
    /// The driver's name in refusals ("test", "QEMU").
    pub driver: &'static str,
    /// Its functions' prefix in flag refusals ("test", "qemu":
    /// "unsupported flags (0x4) in function qemuDomainAbortJob").
    pub prefix: &'static str,
    /// Its error domain.
    pub domain: ErrorDomain,
    /// The `VIR_MIGRATE_*` flags it honours.
    pub flags: u32,
    /// The `VIR_MIGRATE_PARAM_*` names it honours.
    pub params: &'static [&'static str],
    /// The `compression` methods it carries out ("xbzrle", "mt").
    pub compression: &'static [&'static str],
    /// How its cookies look on the wire.
    pub cookie: crate::cookie::CookieFormat,
}

impl MigrationSupport {
    /// Refuse, before anything moves, what the driver does not carry out
    /// and the combinations libvirt refuses; the request, read.
    pub fn check(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        rvirt::migration::check_supported(flags, params, self.flags, self.params)?;
        let req = Request::from_params(params, self.domain)?;
        self.check_combinations(flags, &req)?;
        Ok(req)
    }

    /// [`Self::check`] on the destination, where libvirt reads only the
    /// params of its party (`qemuMigrationParamsTPMap`): auto-converge
    /// tuning belongs to the source, which alone has AUTO_CONVERGE (it
    /// is masked out of the destination's flags).
    pub fn check_incoming(&self, flags: u32, params: &TypedParams) -> Result<Request> {
        rvirt::migration::check_supported(flags, params, self.flags, self.params)?;
        let req = Request::from_params(params, self.domain)?;
        let ours = Request {
            ac_initial: None,
            ac_increment: None,
            ..req.clone()
        };
        self.check_combinations(flags, &ours)?;
        Ok(req)
    }

    /// [`Self::check`] for a request read already (the positional phases).
    pub fn check_request(&self, flags: u32, req: &Request) -> Result<()> {
        self.check(flags, &req.to_params()).map(|_| ())
    }

    /// The rules on the flags and params together, in libvirt's order.
    fn check_combinations(&self, flags: u32, req: &Request) -> Result<()> {
        let d = self.domain;
        let has = |f: u32| flags & f != 0;
        if has(flags::POSTCOPY) && (!has(flags::LIVE) || has(flags::PAUSED)) {
            return Err(unsupported(
                d,
                "post-copy migration is not supported with non-live or paused migration",
            ));
        }
        if has(flags::POSTCOPY) && has(flags::TUNNELLED) {
            return Err(unsupported(
                d,
                "post-copy is not supported with tunnelled migration",
            ));
        }
        // Tunnelled memory is one virStream: there is nothing to spread over
        // several connections.
        if has(flags::PARALLEL) && has(flags::TUNNELLED) {
            return Err(unsupported(
                d,
                "parallel migration is not supported with tunnelled migration",
            ));
        }
        // QEMU's own refusal of multifd with post-copy.
        if has(flags::PARALLEL) && has(flags::POSTCOPY) {
            return Err(unsupported(
                d,
                "Postcopy is not yet compatible with multifd",
            ));
        }
        if (req.ac_initial.is_some() || req.ac_increment.is_some()) && !has(flags::AUTO_CONVERGE) {
            return Err(invalid(d, "Turn auto convergence on to tune it".into()));
        }
        if req.parallel_connections.is_some() && !has(flags::PARALLEL) {
            return Err(invalid(d, "Turn parallel migration on to tune it".into()));
        }
        let mut seen: Vec<&str> = Vec::new();
        for m in &req.compression {
            if !METHODS.contains(&m.as_str()) {
                return Err(invalid(d, format!("Unsupported compression method '{m}'")));
            }
            if seen.contains(&m.as_str()) {
                return Err(invalid(
                    d,
                    format!("Compression method '{m}' is specified twice"),
                ));
            }
            if has(flags::PARALLEL) {
                return Err(invalid(
                    d,
                    format!("Compression method '{m}' isn't supported with parallel migration"),
                ));
            }
            seen.push(m);
        }
        let mt_tuned =
            req.mt_level.is_some() || req.mt_threads.is_some() || req.mt_dthreads.is_some();
        if mt_tuned && !seen.contains(&"mt") {
            return Err(invalid(
                d,
                "Turn multithread compression on to tune it".into(),
            ));
        }
        if seen.is_empty() && has(flags::COMPRESSED) && has(flags::PARALLEL) {
            return Err(invalid(
                d,
                "No compression algorithm selected for parallel migration".into(),
            ));
        }
        if let Some(m) = seen.iter().find(|m| !self.compression.contains(m)) {
            return Err(unsupported(
                d,
                &format!(
                    "compression method '{m}' is not supported by the {} driver",
                    self.driver
                ),
            ));
        }
        mt_of(d, req)?;
        connections_of(d, flags, req)?;
        Ok(())
    }
}

/// QEMU's defaults: compress-level, compress-threads, decompress-threads,
/// multifd-channels.
pub const MT_LEVEL: u32 = 1;
pub const MT_THREADS: u32 = 8;
pub const MT_DTHREADS: u32 = 2;
pub const PARALLEL_CONNECTIONS: u32 = 2;

/// The compression methods libvirt knows (`qemuMigrationCompressMethod`).
const METHODS: &[&str] = &["xbzrle", "mt"];

/// Multithread compression: pages deflated (zlib format) at `level` by
/// `threads` workers, inflated by `dthreads` on the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MtCompression {
    pub level: u32,
    pub threads: u32,
    pub dthreads: u32,
}

/// QEMU's `migrate_params_check` bounds (QERR_INVALID_PARAMETER_VALUE).
fn bounded(
    d: ErrorDomain,
    v: Option<i32>,
    qemu_name: &str,
    (lo, hi): (i32, i32),
    default: u32,
) -> Result<u32> {
    match v {
        None => Ok(default),
        Some(v) if (lo..=hi).contains(&v) => Ok(v as u32),
        Some(_) => Err(invalid(
            d,
            format!("Parameter '{qemu_name}' expects a value between {lo} and {hi}"),
        )),
    }
}

/// The multithread compression asked for, if any.
pub fn mt_of(d: ErrorDomain, req: &Request) -> Result<Option<MtCompression>> {
    if !req.compression.iter().any(|m| m == "mt") {
        return Ok(None);
    }
    Ok(Some(MtCompression {
        level: bounded(d, req.mt_level, "compress_level", (0, 9), MT_LEVEL)?,
        threads: bounded(d, req.mt_threads, "compress_threads", (1, 255), MT_THREADS)?,
        dthreads: bounded(
            d,
            req.mt_dthreads,
            "decompress_threads",
            (1, 255),
            MT_DTHREADS,
        )?,
    }))
}

/// The number of page channels of a parallel migration (`None` without
/// VIR_MIGRATE_PARALLEL).
pub fn connections_of(d: ErrorDomain, flags: u32, req: &Request) -> Result<Option<u32>> {
    if flags & flags::PARALLEL == 0 {
        return Ok(None);
    }
    bounded(
        d,
        req.parallel_connections,
        "multifd_channels",
        (1, 255),
        PARALLEL_CONNECTIONS,
    )
    .map(Some)
}

/// A driver that honours every flag, for the engine's unit tests.
#[cfg(test)]
pub(crate) const TEST: MigrationSupport = MigrationSupport {
    driver: "test",
    prefix: "test",
    domain: ErrorDomain::TEST,
    flags: flags::ALL,
    params: &[],
    compression: &["mt"],
    cookie: crate::cookie::CookieFormat::Rvirt,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn check(flags: u32, req: &Request) -> Result<()> {
        TEST.check_combinations(flags, req)
    }

    fn mt_of(req: &Request) -> Result<Option<MtCompression>> {
        super::mt_of(ErrorDomain::TEST, req)
    }

    fn connections_of(flags: u32, req: &Request) -> Result<Option<u32>> {
        super::connections_of(ErrorDomain::TEST, flags, req)
    }

    fn req(methods: &[&str]) -> Request {
        Request {
            compression: methods.iter().map(|s| s.to_string()).collect(),
            ..Request::default()
        }
    }

    #[test]
    fn libvirts_rules() {
        let none = Request::default();
        let msg = |f: u32, r: &Request| check(f, r).unwrap_err().message;
        assert!(check(flags::LIVE | flags::POSTCOPY, &none).is_ok());
        assert!(msg(flags::POSTCOPY, &none).contains("non-live or paused"));
        assert!(msg(flags::LIVE | flags::POSTCOPY | flags::TUNNELLED, &none)
            .contains("post-copy is not supported with tunnelled migration"));
        assert!(msg(flags::PARALLEL | flags::TUNNELLED, &none).contains("tunnelled"));
        assert!(msg(flags::LIVE | flags::PARALLEL | flags::POSTCOPY, &none).contains("multifd"));
        let ac = Request {
            ac_initial: Some(10),
            ..Request::default()
        };
        assert!(msg(0, &ac).ends_with("Turn auto convergence on to tune it"));
        assert!(check(flags::AUTO_CONVERGE, &ac).is_ok());
        let pc = Request {
            parallel_connections: Some(4),
            ..Request::default()
        };
        assert!(msg(0, &pc).ends_with("Turn parallel migration on to tune it"));
        assert_eq!(connections_of(flags::PARALLEL, &pc).unwrap(), Some(4));
        assert_eq!(connections_of(flags::PARALLEL, &none).unwrap(), Some(2));
        let pc0 = Request {
            parallel_connections: Some(0),
            ..Request::default()
        };
        assert!(msg(flags::PARALLEL, &pc0)
            .ends_with("Parameter 'multifd_channels' expects a value between 1 and 255"));
    }

    #[test]
    fn compression_rules() {
        let msg = |f: u32, r: &Request| check(f, r).unwrap_err().message;
        assert!(msg(0, &req(&["lz4"])).ends_with("Unsupported compression method 'lz4'"));
        assert!(msg(0, &req(&["mt", "mt"])).ends_with("Compression method 'mt' is specified twice"));
        assert!(msg(flags::PARALLEL, &req(&["mt"]))
            .ends_with("Compression method 'mt' isn't supported with parallel migration"));
        assert!(msg(0, &req(&["xbzrle"])).contains("'xbzrle' is not supported"));
        let e = check(0, &req(&["xbzrle"])).unwrap_err();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        assert!(
            msg(flags::COMPRESSED | flags::PARALLEL, &Request::default())
                .ends_with("No compression algorithm selected for parallel migration")
        );
        let tuned = Request {
            mt_level: Some(5),
            ..Request::default()
        };
        assert!(msg(0, &tuned).ends_with("Turn multithread compression on to tune it"));
        let mut r = req(&["mt"]);
        assert!(check(flags::COMPRESSED, &r).is_ok());
        assert_eq!(
            mt_of(&r).unwrap(),
            Some(MtCompression {
                level: 1,
                threads: 8,
                dthreads: 2
            })
        );
        r.mt_level = Some(10);
        assert!(msg(0, &r).ends_with("Parameter 'compress_level' expects a value between 0 and 9"));
        r.mt_level = Some(9);
        r.mt_threads = Some(256);
        assert!(msg(0, &r).contains("'compress_threads'"));
        r.mt_threads = Some(1);
        r.mt_dthreads = Some(0);
        assert!(msg(0, &r).contains("'decompress_threads'"));
        r.mt_dthreads = Some(255);
        assert!(check(0, &r).is_ok());
    }
}
