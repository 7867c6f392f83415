//! The migration request: libvirt's typed parameters (or the positional
//! arguments of the older phases) read once into one struct, which every
//! phase and the peer-to-peer driver pass along.

use crate::job::Tunables;
use rvirt::migration::params;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, TypedParamValue, TypedParams};

/// The typed migration parameters, read once.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub uri: Option<String>,
    pub dname: Option<String>,
    pub dxml: Option<String>,
    pub persist_xml: Option<String>,
    pub bandwidth: Option<u64>,
    pub bandwidth_postcopy: Option<u64>,
    pub listen_address: Option<String>,
    pub ac_initial: Option<u32>,
    pub ac_increment: Option<u32>,
    /// `compression` (may repeat), as given.
    pub compression: Vec<String>,
    pub mt_level: Option<i32>,
    pub mt_threads: Option<i32>,
    pub mt_dthreads: Option<i32>,
    pub parallel_connections: Option<i32>,
    /// Bytes.
    pub xbzrle_cache: Option<u64>,
    pub graphics_uri: Option<String>,
    /// `migrate_disks` (may repeat).
    pub migrate_disks: Vec<String>,
    pub disks_port: Option<i32>,
    pub disks_uri: Option<String>,
    pub tls_destination: Option<String>,
}

fn percent(p: &TypedParams, name: &str, domain: ErrorDomain) -> Result<Option<u32>> {
    match p.get(name) {
        None => Ok(None),
        Some(TypedParamValue::Int(v)) if (0..=100).contains(v) => Ok(Some(*v as u32)),
        Some(_) => Err(Error::new(
            domain,
            ErrorCode::INVALID_ARG,
            format!("invalid value for '{name}'"),
        )),
    }
}

/// Every string value of a param that may repeat.
fn strings(p: &TypedParams, name: &str) -> Vec<String> {
    p.iter()
        .filter(|x| x.field == name)
        .filter_map(|x| match &x.value {
            TypedParamValue::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn int(p: &TypedParams, name: &str) -> Option<i32> {
    match p.get(name) {
        Some(TypedParamValue::Int(v)) => Some(*v),
        _ => None,
    }
}

impl Request {
    /// Read `p`; a bad value is reported in the driver's error `domain`.
    pub fn from_params(p: &TypedParams, domain: ErrorDomain) -> Result<Request> {
        let s = |n: &str| p.get_string(n).map(str::to_string);
        Ok(Request {
            uri: s(params::URI),
            dname: s(params::DEST_NAME),
            dxml: s(params::DEST_XML),
            persist_xml: s(params::PERSIST_XML),
            bandwidth: p.get_u64(params::BANDWIDTH),
            bandwidth_postcopy: p.get_u64(params::BANDWIDTH_POSTCOPY),
            listen_address: s(params::LISTEN_ADDRESS),
            ac_initial: percent(p, params::AUTO_CONVERGE_INITIAL, domain)?,
            ac_increment: percent(p, params::AUTO_CONVERGE_INCREMENT, domain)?,
            compression: strings(p, params::COMPRESSION),
            mt_level: int(p, params::COMPRESSION_MT_LEVEL),
            mt_threads: int(p, params::COMPRESSION_MT_THREADS),
            mt_dthreads: int(p, params::COMPRESSION_MT_DTHREADS),
            parallel_connections: int(p, params::PARALLEL_CONNECTIONS),
            xbzrle_cache: p.get_u64(params::COMPRESSION_XBZRLE_CACHE),
            graphics_uri: s(params::GRAPHICS_URI),
            migrate_disks: strings(p, params::MIGRATE_DISKS),
            disks_port: int(p, params::DISKS_PORT),
            disks_uri: s(params::DISKS_URI),
            tls_destination: s(params::TLS_DESTINATION),
        })
    }

    pub fn to_params(&self) -> TypedParams {
        let mut p = TypedParams::new();
        let mut s = |n: &str, v: &Option<String>| {
            if let Some(v) = v {
                p.push(n, TypedParamValue::String(v.clone()));
            }
        };
        s(params::URI, &self.uri);
        s(params::DEST_NAME, &self.dname);
        s(params::DEST_XML, &self.dxml);
        s(params::PERSIST_XML, &self.persist_xml);
        s(params::LISTEN_ADDRESS, &self.listen_address);
        s(params::GRAPHICS_URI, &self.graphics_uri);
        s(params::DISKS_URI, &self.disks_uri);
        s(params::TLS_DESTINATION, &self.tls_destination);
        if let Some(b) = self.bandwidth {
            p.push(params::BANDWIDTH, TypedParamValue::ULLong(b));
        }
        if let Some(b) = self.bandwidth_postcopy {
            p.push(params::BANDWIDTH_POSTCOPY, TypedParamValue::ULLong(b));
        }
        if let Some(v) = self.ac_initial {
            p.push(
                params::AUTO_CONVERGE_INITIAL,
                TypedParamValue::Int(v as i32),
            );
        }
        if let Some(v) = self.ac_increment {
            p.push(
                params::AUTO_CONVERGE_INCREMENT,
                TypedParamValue::Int(v as i32),
            );
        }
        for m in &self.compression {
            p.push(params::COMPRESSION, TypedParamValue::String(m.clone()));
        }
        for d in &self.migrate_disks {
            p.push(params::MIGRATE_DISKS, TypedParamValue::String(d.clone()));
        }
        if let Some(c) = self.xbzrle_cache {
            p.push(params::COMPRESSION_XBZRLE_CACHE, TypedParamValue::ULLong(c));
        }
        for (n, v) in [
            (params::COMPRESSION_MT_LEVEL, self.mt_level),
            (params::COMPRESSION_MT_THREADS, self.mt_threads),
            (params::COMPRESSION_MT_DTHREADS, self.mt_dthreads),
            (params::PARALLEL_CONNECTIONS, self.parallel_connections),
            (params::DISKS_PORT, self.disks_port),
        ] {
            if let Some(v) = v {
                p.push(n, TypedParamValue::Int(v));
            }
        }
        p
    }

    /// Apply this request's one-migration settings to a job's copy of the
    /// domain's tunables (never to the domain's own).
    pub fn apply_one_off(&self, t: &mut Tunables) {
        // libvirt: a `bandwidth` of 0 means the domain's own max speed.
        if let Some(b) = self.bandwidth.filter(|b| *b > 0) {
            t.max_speed = b;
        }
        if let Some(b) = self.bandwidth_postcopy {
            t.max_speed_postcopy = b;
        }
        if let Some(c) = self.xbzrle_cache {
            t.xbzrle_cache = c;
        }
    }

    /// The legacy (non-params) phases' arguments.
    pub fn legacy(
        dname: Option<&str>,
        bandwidth: u64,
        dxml: Option<&str>,
        uri: Option<&str>,
    ) -> Request {
        Request {
            uri: uri.map(str::to_string),
            dname: dname.map(str::to_string),
            dxml: dxml.map(str::to_string),
            bandwidth: (bandwidth != 0).then_some(bandwidth),
            ..Request::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip() {
        let r = Request {
            uri: Some("tcp://h:1".into()),
            dname: Some("n".into()),
            bandwidth: Some(5),
            ac_initial: Some(30),
            ..Request::default()
        };
        let r = Request {
            compression: vec!["mt".into()],
            mt_level: Some(4),
            parallel_connections: Some(3),
            ..r
        };
        let back = Request::from_params(&r.to_params(), ErrorDomain::TEST).unwrap();
        assert_eq!(back.compression, vec!["mt".to_string()]);
        assert_eq!(back.mt_level, Some(4));
        assert_eq!(back.parallel_connections, Some(3));
        assert_eq!(back.uri, r.uri);
        assert_eq!(back.dname, r.dname);
        assert_eq!(back.bandwidth, Some(5));
        assert_eq!(back.ac_initial, Some(30));
        let bad = TypedParams::new().with(params::AUTO_CONVERGE_INITIAL, TypedParamValue::Int(400));
        assert!(Request::from_params(&bad, ErrorDomain::TEST).is_err());
    }
}
