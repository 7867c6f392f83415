//! The certificate checks of `driver-remote::tls::x509` (libvirt's
//! virNetTLSContextCheckCert*: times, basic constraints, key usage, key
//! purpose, host name, the DN string and `tls_allowed_dn_list` globs) on
//! mutated DER and patterns. Input: a glob pattern, NUL, a DN-like text,
//! NUL, a host name, NUL, then DER. Seeds: the host's CA bundle
//! (/etc/ssl/certs) when present. The rustls handshake itself is the
//! `tls-handshake` target's ([`super::handshake`]).
//!
//! Whatever the input: no panic, no hang (glob patterns are the risk).

use super::{mix, Target};
use rvirt_driver_remote::tls::x509::{self, Role};

/// An outcome for the signature: 0 ok, else the error's code and text.
fn outcome(r: rvirt_util::Result<()>) -> u64 {
    r.map_or_else(
        |e| {
            mix(
                e.code.0 as u64 + 1,
                super::super::rng::fnv(e.message.as_bytes()),
            )
        },
        |_| 0,
    )
}

pub struct Tls;

fn der_seeds() -> Vec<Vec<u8>> {
    let Ok(dir) = std::fs::read_dir("/etc/ssl/certs") else {
        return Vec::new();
    };
    let mut files: Vec<_> = dir.flatten().map(|e| e.path()).collect();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .take(8)
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|pem| pem_body(&pem))
        .collect()
}

/// The first certificate of a PEM file, decoded (base64 by hand).
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for v in b64.bytes().filter_map(val) {
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn fields(input: &[u8]) -> (String, String, String, &[u8]) {
    let mut parts = input.splitn(4, |b| *b == 0);
    let mut text = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (pat, dn, host) = (text(), text(), text());
    let rest = input.len().min(pat.len() + dn.len() + host.len() + 3);
    (pat, dn, host, &input[rest..])
}

impl Target for Tls {
    fn name(&self) -> &'static str {
        "tls"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut seeds = vec![b"C=GB,*\0C=GB,O=x,CN=y\0host.example\0".to_vec()];
        for der in der_seeds() {
            let mut s = b"*CN=*\0CN=a\0localhost\0".to_vec();
            s.extend(der);
            seeds.push(s);
        }
        seeds
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        let (pat, dn, host, der) = fields(input);
        let mut sig = u64::from(x509::glob_match(&pat, &dn));
        sig = mix(
            sig,
            outcome(x509::check_dn_acl(&dn, std::slice::from_ref(&pat))),
        );
        let Ok(cert) = x509::parse(der) else {
            return mix(sig, 1);
        };
        for (i, role) in [Role::Server, Role::Client, Role::Ca]
            .into_iter()
            .enumerate()
        {
            let r = outcome(x509::check_cert(&cert, "fuzz.pem", role));
            sig = mix(sig, (i as u64) << 60 ^ r);
        }
        sig = mix(sig, outcome(x509::check_host(&cert, "fuzz.pem", &host)));
        let subject = x509::dn_string(cert.subject());
        mix(sig, outcome(x509::check_dn_acl(&subject, &[pat])))
    }
}
