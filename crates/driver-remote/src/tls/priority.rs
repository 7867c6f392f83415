//! `tls_priority`: GnuTLS priority strings (libvirt passes them to
//! `gnutls_priority_set_direct`) mapped onto what rustls can do. rustls
//! offers TLS 1.3 and 1.2 with AEAD suites (AES-GCM, ChaCha20-Poly1305)
//! over ECDHE (X25519, P-256, P-384), so a string selects among those:
//! its protocol versions, bulk ciphers, key exchanges and groups. The
//! keywords GnuTLS knows that name things rustls lacks (CBC ciphers, RSA
//! key exchange, TLS 1.1, ...) are accepted and select nothing; a keyword
//! GnuTLS does not know is refused with GnuTLS's "The request is invalid.",
//! and a string that leaves no version or suite rustls can use is refused
//! too, where GnuTLS would only fail the handshake later.
//!
//! Written here: no crate parses GnuTLS priority strings.

use rustls::crypto::{ring, CryptoProvider, SupportedKxGroup};
use rustls::{CipherSuite, NamedGroup, ProtocolVersion, SupportedCipherSuite};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::BTreeSet;

/// libvirt's default (`TLS_PRIORITY`, Debian's build: "NORMAL").
pub const DEFAULT: &str = "NORMAL";

/// What rustls can offer, by GnuTLS's names.
const VERSIONS: &[&str] = &["VERS-TLS1.3", "VERS-TLS1.2"];
const CIPHERS: &[&str] = &["AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"];
const KX: &[&str] = &["ECDHE-ECDSA", "ECDHE-RSA"];
const GROUPS: &[&str] = &["GROUP-X25519", "GROUP-SECP256R1", "GROUP-SECP384R1"];

/// GnuTLS names that exist but have nothing rustls offers behind them.
const ELSEWHERE: &[&str] = &[
    "VERS-TLS1.1",
    "VERS-TLS1.0",
    "VERS-SSL3.0",
    "VERS-DTLS1.2",
    "VERS-DTLS1.0",
    "VERS-DTLS0.9",
    "AES-128-CBC",
    "AES-256-CBC",
    "AES-128-CCM",
    "AES-256-CCM",
    "AES-128-CCM-8",
    "AES-256-CCM-8",
    "CAMELLIA-128-GCM",
    "CAMELLIA-256-GCM",
    "CAMELLIA-128-CBC",
    "CAMELLIA-256-CBC",
    "3DES-CBC",
    "ARCFOUR-128",
    "GOST28147-TC26Z-CNT",
    "NULL",
    "RSA",
    "DHE-RSA",
    "DHE-DSS",
    "PSK",
    "DHE-PSK",
    "ECDHE-PSK",
    "RSA-PSK",
    "SRP",
    "SRP-RSA",
    "SRP-DSS",
    "ANON-DH",
    "ANON-ECDH",
    "VKO-GOST-12",
    "GROUP-SECP521R1",
    "GROUP-X448",
    "GROUP-FFDHE2048",
    "GROUP-FFDHE3072",
    "GROUP-FFDHE4096",
    "GROUP-FFDHE6144",
    "GROUP-FFDHE8192",
    "CURVE-SECP521R1",
    "CURVE-X448",
    "SHA1",
    "SHA256",
    "SHA384",
    "MD5",
    "GOST28147-TC26Z-IMIT",
    "UMAC-96",
    "UMAC-128",
    "COMP-NULL",
    "COMP-DEFLATE",
    "CTYPE-X509",
    "CTYPE-RAWPK",
    "CTYPE-ALL",
    "CTYPE-CLI-X509",
    "CTYPE-SRV-X509",
    "CTYPE-CLI-RAWPK",
    "CTYPE-SRV-RAWPK",
    "CTYPE-CLI-ALL",
    "CTYPE-SRV-ALL",
    "MAC-ALL",
    "AEAD",
    "COMP-ALL",
    "SIGN-ALL",
];

/// The selection a priority string makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Selection {
    on: BTreeSet<&'static str>,
}

impl Selection {
    fn set(&mut self, names: &[&'static str], on: bool) {
        for n in names {
            if on {
                self.on.insert(n);
            } else {
                self.on.remove(n);
            }
        }
    }

    fn has(&self, name: &str) -> bool {
        self.on.contains(name)
    }
}

fn invalid(priority: &str, why: &str) -> Error {
    Error::new(
        ErrorDomain::RPC,
        ErrorCode::SYSTEM_ERROR,
        format!("Failed to set TLS session priority to {priority}: {why}"),
    )
}

/// The initial keyword's selection (`NORMAL`, `SECURE256`, ...).
fn base(keyword: &str) -> Option<Selection> {
    let mut s = Selection::default();
    match keyword {
        "NORMAL" | "PFS" | "PERFORMANCE" | "LEGACY" | "SECURE128" | "SECURE" | "@SYSTEM" => {
            s.set(VERSIONS, true);
            s.set(CIPHERS, true);
            s.set(KX, true);
            s.set(GROUPS, true);
        }
        // 192 or 256 bits of security: 256-bit ciphers, P-384.
        "SECURE192" | "SECURE256" => {
            s.set(VERSIONS, true);
            s.set(&["AES-256-GCM", "CHACHA20-POLY1305"], true);
            s.set(KX, true);
            s.set(&["GROUP-SECP384R1"], true);
        }
        // RFC 6460: TLS 1.2, ECDHE-ECDSA, AES-GCM on P-256/P-384.
        "SUITEB128" => {
            s.set(
                &["VERS-TLS1.2", "ECDHE-ECDSA", "AES-128-GCM", "AES-256-GCM"],
                true,
            );
            s.set(&["GROUP-SECP256R1", "GROUP-SECP384R1"], true);
        }
        "SUITEB192" => {
            s.set(
                &[
                    "VERS-TLS1.2",
                    "ECDHE-ECDSA",
                    "AES-256-GCM",
                    "GROUP-SECP384R1",
                ],
                true,
            );
        }
        "NONE" => {}
        _ => return None,
    }
    Some(s)
}

/// The names an `+X`/`-X` item stands for; `None` for an unknown one.
fn item(name: &str) -> Option<Vec<&'static str>> {
    let all = |v: &[&'static str]| Some(v.to_vec());
    match name {
        "VERS-ALL" | "VERS-TLS-ALL" => all(VERSIONS),
        "VERS-DTLS-ALL" => Some(Vec::new()),
        "CIPHER-ALL" | "CIPHER-GOST-ALL" => all(CIPHERS),
        "KX-ALL" => all(KX),
        "GROUP-ALL" | "CURVE-ALL" | "GROUP-EC-ALL" => all(GROUPS),
        "GROUP-DH-ALL" | "GROUP-GOST-ALL" => Some(Vec::new()),
        "CURVE-X25519" => all(&["GROUP-X25519"]),
        "CURVE-SECP256R1" => all(&["GROUP-SECP256R1"]),
        "CURVE-SECP384R1" => all(&["GROUP-SECP384R1"]),
        _ => {
            let known = [VERSIONS, CIPHERS, KX, GROUPS].concat();
            if let Some(n) = known.iter().find(|k| **k == name) {
                return Some(vec![n]);
            }
            // Signature algorithms are rustls's to choose from the keys.
            if ELSEWHERE.contains(&name) || name.starts_with("SIGN-") {
                return Some(Vec::new());
            }
            None
        }
    }
}

/// The selection `priority` makes, or GnuTLS's refusal.
fn select(priority: &str) -> Result<Selection> {
    let bad = || invalid(priority, "The request is invalid.");
    let mut parts = priority.split(':');
    // "@KEYWORD1,KEYWORD2": the first the system defines; here, @SYSTEM.
    let first = parts.next().unwrap_or_default();
    let first = first.split(',').next().unwrap_or_default();
    let mut sel = base(if first.starts_with('@') {
        "@SYSTEM"
    } else {
        first
    })
    .ok_or_else(bad)?;
    for part in parts.filter(|p| !p.is_empty()) {
        // "%COMPAT", "%SERVER_PRECEDENCE", ...: session behaviour, not selection.
        if part.starts_with('%') {
            continue;
        }
        let (on, name) = match part.as_bytes()[0] {
            b'+' => (true, &part[1..]),
            b'-' | b'!' => (false, &part[1..]),
            _ => return Err(bad()),
        };
        let names = item(name).ok_or_else(bad)?;
        sel.set(&names, on);
    }
    Ok(sel)
}

fn suite_allowed(sel: &Selection, suite: &SupportedCipherSuite) -> bool {
    use CipherSuite as C;
    let cipher = match suite.suite() {
        C::TLS13_AES_256_GCM_SHA384
        | C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        | C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "AES-256-GCM",
        C::TLS13_AES_128_GCM_SHA256
        | C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        | C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "AES-128-GCM",
        _ => "CHACHA20-POLY1305",
    };
    let (version, kx_ok) = match suite {
        SupportedCipherSuite::Tls13(_) => ("VERS-TLS1.3", true),
        SupportedCipherSuite::Tls12(s) => {
            let kx = match s.sign.first() {
                Some(rustls::SignatureScheme::ECDSA_NISTP256_SHA256)
                | Some(rustls::SignatureScheme::ECDSA_NISTP384_SHA384)
                | Some(rustls::SignatureScheme::ED25519) => "ECDHE-ECDSA",
                _ => "ECDHE-RSA",
            };
            ("VERS-TLS1.2", sel.has(kx))
        }
    };
    sel.has(cipher) && sel.has(version) && kx_ok
}

fn group_allowed(sel: &Selection, group: &dyn SupportedKxGroup) -> bool {
    let name = match group.name() {
        NamedGroup::X25519 => "GROUP-X25519",
        NamedGroup::secp256r1 => "GROUP-SECP256R1",
        NamedGroup::secp384r1 => "GROUP-SECP384R1",
        _ => return false,
    };
    sel.has(name)
}

/// A parsed priority: the crypto provider and protocol versions a
/// session uses.
#[derive(Debug)]
pub struct Priority {
    pub provider: CryptoProvider,
    pub versions: Vec<&'static rustls::SupportedProtocolVersion>,
}

impl Priority {
    /// `priority` (libvirt's default when `None`), or libvirt's
    /// "Failed to set TLS session priority to ..." error.
    pub fn parse(priority: Option<&str>) -> Result<Priority> {
        let text = priority.unwrap_or(DEFAULT);
        let sel = select(text)?;
        let mut provider = ring::default_provider();
        provider.cipher_suites.retain(|s| suite_allowed(&sel, s));
        provider.kx_groups.retain(|g| group_allowed(&sel, *g));
        let versions: Vec<_> = [
            ("VERS-TLS1.3", &rustls::version::TLS13),
            ("VERS-TLS1.2", &rustls::version::TLS12),
        ]
        .into_iter()
        .filter(|(n, v)| sel.has(n) && provider.cipher_suites.iter().any(|s| s.version() == *v))
        .map(|(_, v)| v)
        .collect();
        if versions.is_empty() || provider.kx_groups.is_empty() {
            return Err(invalid(text, "No supported cipher suites have been found."));
        }
        Ok(Priority { provider, versions })
    }

    /// The negotiable versions, for logging and tests.
    pub fn version_names(&self) -> Vec<ProtocolVersion> {
        self.versions.iter().map(|v| v.version).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suites(p: &str) -> Vec<CipherSuite> {
        let p = Priority::parse(Some(p)).unwrap();
        p.provider.cipher_suites.iter().map(|s| s.suite()).collect()
    }

    #[test]
    fn normal_is_everything_rustls_has() {
        let p = Priority::parse(None).unwrap();
        assert_eq!(
            p.provider.cipher_suites.len(),
            ring::default_provider().cipher_suites.len()
        );
        assert_eq!(
            p.version_names(),
            [ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2]
        );
    }

    #[test]
    fn versions_and_ciphers_are_selected() {
        let p = Priority::parse(Some("NORMAL:-VERS-TLS1.3")).unwrap();
        assert_eq!(p.version_names(), [ProtocolVersion::TLSv1_2]);
        let p = Priority::parse(Some("NORMAL:-VERS-ALL:+VERS-TLS1.3:%SERVER_PRECEDENCE")).unwrap();
        assert_eq!(p.version_names(), [ProtocolVersion::TLSv1_3]);
        assert_eq!(
            suites("NONE:+VERS-TLS1.3:+AES-128-GCM:+GROUP-X25519:+SIGN-ALL"),
            [CipherSuite::TLS13_AES_128_GCM_SHA256]
        );
        let secure = suites("SECURE256");
        assert!(!secure.contains(&CipherSuite::TLS13_AES_128_GCM_SHA256));
        assert!(secure.contains(&CipherSuite::TLS13_AES_256_GCM_SHA384));
        // Names rustls has nothing for select nothing, and harm nothing.
        assert_eq!(
            suites("NORMAL:+VERS-TLS1.1:+AES-128-CBC:+RSA").len(),
            suites("NORMAL").len()
        );
    }

    #[test]
    fn unknown_and_empty_selections_are_refused_with_libvirts_text() {
        for bad in ["BOGUS", "NORMAL:+NOT-A-CIPHER", "NORMAL:VERS-TLS1.2", ""] {
            let e = Priority::parse(Some(bad)).unwrap_err();
            assert_eq!(
                e.message,
                format!("Failed to set TLS session priority to {bad}: The request is invalid.")
            );
            assert_eq!(e.code, ErrorCode::SYSTEM_ERROR);
        }
        let e = Priority::parse(Some("NORMAL:-VERS-ALL:+VERS-TLS1.1")).unwrap_err();
        assert!(
            e.message
                .ends_with("No supported cipher suites have been found."),
            "{}",
            e.message
        );
        assert!(Priority::parse(Some("NONE:+VERS-TLS1.2")).is_err());
    }
}
