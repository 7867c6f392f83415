//! libvirt's own certificate checks (`virNetTLSContextCheckCert*` in
//! virnettlscontext.c), on top of the chain verification: validity dates,
//! basic constraints, key usage and key purpose, with libvirt's error
//! texts; the subject DN as GnuTLS's `gnutls_x509_crt_get_dn` prints it and
//! `tls_allowed_dn_list`'s glob; the host name of the URI against the
//! server's certificate.

use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::ToDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

/// Whose certificate: libvirt's `isServer` / `isCA` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
    Ca,
}

fn sys_err(text: String) -> Error {
    Error::new(ErrorDomain::RPC, ErrorCode::SYSTEM_ERROR, text)
}

/// Parse one DER certificate ("Unable to load certificate" as libvirt).
pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|_| sys_err("Unable to load certificate".into()))
}

/// `virNetTLSContextCheckCert`: dates, constraints, usage, and (not for a
/// CA) purpose. `file` names the certificate in messages ("[session]" for a
/// peer's).
pub fn check_cert(cert: &X509Certificate, file: &str, role: Role) -> Result<()> {
    check_times(cert, file, role)?;
    check_basic_constraints(cert, file, role)?;
    check_key_usage(cert, file, role == Role::Ca)?;
    if role != Role::Ca {
        check_key_purpose(cert, file, role == Role::Server)?;
    }
    Ok(())
}

/// `virNetTLSContextCheckCertTimes`.
pub fn check_times(cert: &X509Certificate, file: &str, role: Role) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let who = match role {
        Role::Ca => "CA",
        Role::Server => "server",
        Role::Client => "client",
    };
    if cert.validity().not_after.timestamp() < now {
        return Err(sys_err(format!("The {who} certificate {file} has expired")));
    }
    if cert.validity().not_before.timestamp() > now {
        return Err(sys_err(format!(
            "The {who} certificate {file} is not yet active"
        )));
    }
    Ok(())
}

fn need(role: Role) -> &'static str {
    if role == Role::Server {
        "server"
    } else {
        "client"
    }
}

/// `virNetTLSContextCheckCertBasicConstraints`.
pub fn check_basic_constraints(cert: &X509Certificate, file: &str, role: Role) -> Result<()> {
    let bc = cert.basic_constraints().map_err(|e| {
        sys_err(format!(
            "Unable to query certificate {file} basic constraints {e}"
        ))
    })?;
    match bc {
        Some(bc) if bc.value.ca && role != Role::Ca => Err(sys_err(format!(
            "The certificate {file} basic constraints show a CA, but we need one for a {}",
            need(role)
        ))),
        Some(bc) if !bc.value.ca && role == Role::Ca => Err(sys_err(format!(
            "The certificate {file} basic constraints do not show a CA"
        ))),
        None if role == Role::Ca => Err(sys_err(format!(
            "The certificate {file} is missing basic constraints for a CA"
        ))),
        _ => Ok(()),
    }
}

/// A failed usage or purpose check refuses only when its extension is
/// critical; otherwise libvirt warns and goes on.
fn refuse_if(critical: bool, text: String) -> Result<()> {
    if critical {
        return Err(sys_err(text));
    }
    tracing::warn!("{text}");
    Ok(())
}

/// `virNetTLSContextCheckCertKeyUsage`: a CA must sign certificates, a
/// server or client key sign and encipher. No extension means allowed.
pub fn check_key_usage(cert: &X509Certificate, file: &str, is_ca: bool) -> Result<()> {
    let ku = cert
        .key_usage()
        .map_err(|e| sys_err(format!("Unable to query certificate {file} key usage {e}")))?;
    let Some(ku) = ku else { return Ok(()) };
    if is_ca {
        if !ku.value.key_cert_sign() {
            let text = format!("Certificate {file} usage does not permit certificate signing");
            refuse_if(ku.critical, text)?;
        }
        return Ok(());
    }
    if !ku.value.digital_signature() {
        let text = format!("Certificate {file} usage does not permit digital signature");
        refuse_if(ku.critical, text)?;
    }
    if !ku.value.key_encipherment() {
        let text = format!("Certificate {file} usage does not permit key encipherment");
        refuse_if(ku.critical, text)?;
    }
    Ok(())
}

/// `virNetTLSContextCheckCertKeyPurpose`: the extended key usage must
/// allow a TLS server (or client); purposes other than those two and
/// "any" allow both, as libvirt's loop does.
pub fn check_key_purpose(cert: &X509Certificate, file: &str, is_server: bool) -> Result<()> {
    let eku = cert.extended_key_usage().map_err(|e| {
        sys_err(format!(
            "Unable to query certificate {file} key purpose {e}"
        ))
    })?;
    let Some(eku) = eku else { return Ok(()) };
    let v = eku.value;
    let others = !v.other.is_empty()
        || v.code_signing
        || v.email_protection
        || v.time_stamping
        || v.ocsp_signing;
    let (allow_server, allow_client) = (v.server_auth || others, v.client_auth || others);
    if is_server && !allow_server {
        let text = format!("Certificate {file} purpose does not allow use for with a TLS server");
        refuse_if(eku.critical, text)?;
    }
    if !is_server && !allow_client {
        let text = format!("Certificate {file} purpose does not allow use for with a TLS client");
        refuse_if(eku.critical, text)?;
    }
    Ok(())
}

/// GnuTLS's short names for the attributes of a DN; others print as their
/// dotted OID with the value's DER in hex.
fn attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "EMAIL",
        _ => return None,
    })
}

/// RFC 4514 escaping of one attribute value.
fn escape_value(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The subject DN as `gnutls_x509_crt_get_dn` prints it, which is what
/// `tls_allowed_dn_list` is matched against: the RDNs in certificate order
/// ("C=GB,O=Example,CN=client"), comma-separated, multi-valued RDNs joined
/// with '+'.
pub fn dn_string(name: &X509Name) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = atv.attr_type().to_id_string();
            match (attribute_name(&oid), atv.as_str()) {
                (Some(short), Ok(text)) => {
                    out.push_str(short);
                    out.push('=');
                    escape_value(text, &mut out);
                }
                _ => {
                    out.push_str(&oid);
                    out.push_str("=#");
                    for b in atv.attr_value().to_der_vec().unwrap_or_default() {
                        out.push_str(&format!("{b:02x}"));
                    }
                }
            }
        }
    }
    out
}

/// GLib's `g_pattern_match_simple`, which libvirt uses for
/// `tls_allowed_dn_list`: `*` matches any run of characters, `?` any one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `virNetTLSContextCheckCertDNACL`: the client's DN must match one of
/// the patterns; the DN is logged at debug level as libvirt does.
pub fn check_dn_acl(dn: &str, acl: &[String]) -> Result<()> {
    if acl.iter().any(|pattern| glob_match(pattern, dn)) {
        return Ok(());
    }
    tracing::debug!("Failed ACL check for client DN '{dn}'");
    Err(sys_err(
        "Client's Distinguished Name is not on the list of allowed clients (tls_allowed_dn_list).  \
         Use 'virt-pki-query-dn clientcert.pem' to view the Distinguished Name field in the client \
         certificate, or run this daemon with --verbose option."
            .into(),
    ))
}

/// `gnutls_x509_crt_check_hostname`: an IP address against the IP
/// subjectAltNames, a name against the DNS ones (with a leading `*.`
/// wildcard); the subject CN only when the certificate has no DNS name.
pub fn matches_host(cert: &X509Certificate, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    let mut dns_names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match (name, ip) {
                (GeneralName::IPAddress(bytes), Some(ip)) if ip_bytes(ip) == *bytes => return true,
                (GeneralName::DNSName(dns), _) => dns_names.push(dns.to_string()),
                _ => {}
            }
        }
    }
    if ip.is_some() {
        return false;
    }
    if dns_names.is_empty() {
        dns_names = cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok().map(str::to_string))
            .collect();
    }
    dns_names.iter().any(|name| host_matches(name, host))
}

fn ip_bytes(ip: std::net::IpAddr) -> Vec<u8> {
    match ip {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn host_matches(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail.eq_ignore_ascii_case(rest)),
        None => name.eq_ignore_ascii_case(host),
    }
}

/// `virNetTLSContextCheckCertDN`'s host name half.
pub fn check_host(cert: &X509Certificate, file: &str, host: &str) -> Result<()> {
    if matches_host(cert, host) {
        return Ok(());
    }
    Err(Error::new(
        ErrorDomain::RPC,
        ErrorCode::RPC,
        format!("Certificate {file} owner does not match the hostname {host}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_is_glibs_simple_pattern() {
        assert!(glob_match("C=GB,O=Test,CN=*", "C=GB,O=Test,CN=client"));
        assert!(glob_match("*", ""));
        assert!(glob_match("C=?B,*", "C=GB,CN=x"));
        assert!(!glob_match("C=GB,O=Test,CN=*", "C=GB,O=Other,CN=client"));
        assert!(!glob_match("CN=client", "CN=client2"));
        assert!(glob_match("*CN=c*t", "O=x,CN=client"));
    }

    #[test]
    fn dn_values_are_escaped() {
        let mut out = String::new();
        escape_value(" a,b+c ", &mut out);
        assert_eq!(out, "\\ a\\,b\\+c\\ ");
    }

    #[test]
    fn wildcard_host_names() {
        assert!(host_matches("*.example.org", "a.example.org"));
        assert!(!host_matches("*.example.org", "example.org"));
        assert!(host_matches("Host.Example", "host.example"));
    }
}
