//! The rustls side of [`TlsContext`]: configurations whose handshake
//! verifiers check only that the peer holds its certificate's key (libvirt
//! checks the certificate itself after the handshake, see
//! [`super::context`]), and the chain verification with webpki that stands
//! in for `gnutls_certificate_verify_peers2`.

use super::context::TlsContext;
use super::priority::Priority;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::Arc;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Any purpose: GnuTLS's chain verification does not look at the extended
/// key usage; libvirt checks it afterwards (and only refuses when critical).
struct AnyPurpose;

impl webpki::ExtendedKeyUsageValidator for AnyPurpose {
    fn validate(
        &self,
        _: webpki::KeyPurposeIdIter<'_, '_>,
    ) -> std::result::Result<(), webpki::Error> {
        Ok(())
    }
}

/// GnuTLS's status reasons as libvirt words them.
fn reason(e: &webpki::Error) -> &'static str {
    match e {
        webpki::Error::UnknownIssuer => "The certificate hasn't got a known issuer.",
        webpki::Error::CertRevoked => "The certificate has been revoked.",
        webpki::Error::UnsupportedSignatureAlgorithmContext(_) => {
            "The certificate uses an insecure algorithm"
        }
        _ => "The certificate is not trusted.",
    }
}

/// Verify `end` (with `intermediates`) up to one of `cas`, with the CRLs
/// (only for issuers that have one: GnuTLS ignores a missing CRL).
pub fn verify_against(
    cas: &[CertificateDer<'_>],
    crls: &[CertificateRevocationListDer<'_>],
    end: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> std::result::Result<(), &'static str> {
    let anchors: Vec<_> = cas
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    let parsed_crls: Vec<webpki::CertRevocationList> = crls
        .iter()
        .filter_map(|c| webpki::BorrowedCertRevocationList::from_der(c).ok())
        .map(webpki::CertRevocationList::from)
        .collect();
    let crl_refs: Vec<&webpki::CertRevocationList> = parsed_crls.iter().collect();
    let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|b| {
            b.with_depth(webpki::RevocationCheckDepth::Chain)
                .with_status_policy(webpki::UnknownStatusPolicy::Allow)
                .build()
        });
    let end_entity = webpki::EndEntityCert::try_from(end).map_err(|e| reason(&e))?;
    match end_entity.verify_for_usage(
        provider().signature_verification_algorithms.all,
        &anchors,
        intermediates,
        super::context::now(),
        AnyPurpose,
        revocation,
        None,
    ) {
        Ok(_) => Ok(()),
        Err(webpki::Error::CaUsedAsEndEntity) if intermediates.is_empty() => {
            verify_ca_flagged(cas, crls, end)
        }
        Err(e) => Err(reason(&e)),
    }
}

/// GnuTLS verifies the chain of a peer whose certificate says it is a CA,
/// and libvirt then refuses it with its own basic-constraints text; webpki
/// will not build such a chain. So a CA-flagged certificate issued
/// directly by one of `cas` is verified here as GnuTLS would: in date,
/// signed by that CA, not on a CRL that CA signed.
fn verify_ca_flagged(
    cas: &[CertificateDer<'_>],
    crls: &[CertificateRevocationListDer<'_>],
    end: &CertificateDer<'_>,
) -> std::result::Result<(), &'static str> {
    use x509_parser::prelude::{CertificateRevocationList, FromDer};
    let not_trusted = reason(&webpki::Error::CaUsedAsEndEntity);
    let cert = super::x509::parse(end).map_err(|_| not_trusted)?;
    if !cert.validity().is_valid() {
        return Err(not_trusted);
    }
    let issuer = cas
        .iter()
        .filter_map(|der| super::x509::parse(der).ok())
        .find(|ca| {
            ca.subject() == cert.issuer() && cert.verify_signature(Some(ca.public_key())).is_ok()
        })
        .ok_or(reason(&webpki::Error::UnknownIssuer))?;
    let revoked = crls
        .iter()
        .filter_map(|der| CertificateRevocationList::from_der(der).ok())
        .filter(|(_, crl)| {
            crl.issuer() == issuer.subject() && crl.verify_signature(issuer.public_key()).is_ok()
        })
        .any(|(_, crl)| {
            crl.iter_revoked_certificates()
                .any(|r| r.raw_serial() == cert.raw_serial())
        });
    if revoked {
        return Err(reason(&webpki::Error::CertRevoked));
    }
    Ok(())
}

/// The peer's chain against the context's CAs and CRLs.
pub fn verify_chain(
    ctx: &TlsContext,
    end: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> std::result::Result<(), &'static str> {
    verify_against(&ctx.cas, &ctx.crls, end, intermediates)
}

/// Handshake signatures checked with the provider's algorithms.
#[derive(Debug)]
struct SignaturesOnly {
    provider: Arc<CryptoProvider>,
    hints: Vec<DistinguishedName>,
}

/// The handshake-signature half of both verifier traits.
macro_rules! signatures_only {
    () => {
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(m, c, d, &self.provider.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(m, c, d, &self.provider.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

impl ClientCertVerifier for SignaturesOnly {
    /// A certificate is requested, not required (GnuTLS's
    /// `GNUTLS_CERT_REQUEST`): a client without one is refused afterwards.
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }
    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    signatures_only!();
}

impl ServerCertVerifier for SignaturesOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    signatures_only!();
}

fn config_err(e: rustls::Error) -> Error {
    Error::new(
        ErrorDomain::RPC,
        ErrorCode::SYSTEM_ERROR,
        format!("Unable to set x509 key and certificate: {e}"),
    )
}

/// The CA subjects, sent in the certificate request as GnuTLS does (a
/// GnuTLS client then offers only a certificate from one of those CAs).
fn ca_subjects(ctx: &TlsContext) -> Vec<DistinguishedName> {
    ctx.cas
        .iter()
        .filter_map(|der| {
            super::x509::parse(der)
                .ok()
                .map(|c| c.subject().as_raw().to_vec())
        })
        .map(DistinguishedName::from)
        .collect()
}

/// The daemon's rustls configuration, with the versions and suites of its
/// `tls_priority`.
pub fn server_config(ctx: &TlsContext, priority: Option<&str>) -> Result<Arc<ServerConfig>> {
    let priority = Priority::parse(priority)?;
    let verifier = SignaturesOnly {
        provider: provider(),
        hints: ca_subjects(ctx),
    };
    let Some((chain, key)) = ctx.identity.as_ref() else {
        return Err(config_err(rustls::Error::NoCertificatesPresented));
    };
    let mut cfg = ServerConfig::builder_with_provider(Arc::new(priority.provider))
        .with_protocol_versions(&priority.versions)
        .map_err(config_err)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(chain.clone(), key.clone_key())
        .map_err(config_err)?;
    // No TLS 1.3 session tickets: libvirt's client waits for the socket to
    // be readable and then reads exactly the '\1' confirmation; a ticket
    // arriving first makes that read fail with EAGAIN ("Unable to read TLS
    // confirmation"). libvirt does not resume sessions anyway.
    cfg.send_tls13_tickets = 0;
    Ok(Arc::new(cfg))
}

/// The remote driver's rustls configuration, with the versions and suites
/// of the URI's `tls_priority`.
pub fn client_config(ctx: &TlsContext, priority: Option<&str>) -> Result<Arc<ClientConfig>> {
    let priority = Priority::parse(priority)?;
    let verifier = SignaturesOnly {
        provider: provider(),
        hints: Vec::new(),
    };
    let provider = Arc::new(priority.provider);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&priority.versions)
        .map_err(config_err)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let cfg = match ctx.identity.as_ref() {
        Some((chain, key)) => {
            let resolver = IssuedByRequestedCa::new(chain, key, &provider)?;
            builder.with_client_cert_resolver(Arc::new(resolver))
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(cfg))
}

/// The client's certificate, offered as GnuTLS offers it: when the server
/// names the CAs it trusts (libvirtd and rvirtd name theirs), only if one
/// of them issued it; otherwise the client sends none, and the server
/// refuses it for having no certificate ("No certificate was found.").
#[derive(Debug)]
struct IssuedByRequestedCa {
    key: Arc<CertifiedKey>,
    /// The certificate's issuer DN, DER as the hints carry it.
    issuer: Vec<u8>,
}

impl IssuedByRequestedCa {
    fn new(
        chain: &[CertificateDer<'static>],
        key: &rustls::pki_types::PrivateKeyDer<'static>,
        provider: &CryptoProvider,
    ) -> Result<IssuedByRequestedCa> {
        let certified = CertifiedKey::from_der(chain.to_vec(), key.clone_key(), provider)
            .map_err(config_err)?;
        let issuer = chain
            .first()
            .and_then(|der| super::x509::parse(der).ok())
            .map(|c| c.issuer().as_raw().to_vec())
            .unwrap_or_default();
        Ok(IssuedByRequestedCa {
            key: Arc::new(certified),
            issuer,
        })
    }
}

impl ResolvesClientCert for IssuedByRequestedCa {
    fn resolve(&self, hints: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let offered = hints.is_empty() || hints.contains(&self.issuer.as_slice());
        offered.then(|| self.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
