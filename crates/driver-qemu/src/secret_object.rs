//! Secrets handed to a running QEMU, as libvirt hands them: the value is
//! read from the host's secret driver, encrypted with the guest's master
//! key (the `masterKey0` object QEMU read at start) under a fresh IV, and
//! added as a `secret` object whose `keyid` names that key
//! (`qemuDomainSecretInfoSetupFromSecret`, `qemuBuildSecretInfoProps`).
//! The plaintext never crosses the monitor, so it never reaches QMP logs.

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use rvirt::driver::shared;
use rvirt_util::uuid;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use serde_json::{json, Value};
use std::path::Path;

/// `virSecretUsageType`'s TLS value and its name.
const USAGE_TLS: i32 = 4;
const USAGE_NAMES: [&str; 6] = ["none", "volume", "ceph", "iscsi", "tls", "vtpm"];

/// `QEMU_DOMAIN_AES_IV_LEN`.
const IV_LEN: usize = 16;

/// The value of the TLS secret whose UUID is `text` (`qemuDomainSecretInfoTLSNew` and
/// `virSecretGetSecretString`, with libvirt's errors). The daemon reads it
/// for QEMU, so a private secret is readable here.
pub fn tls_secret_value(text: &str) -> Result<Vec<u8>> {
    let parsed = uuid::parse(text).ok_or_else(|| {
        Error::new(
            ErrorDomain::QEMU,
            ErrorCode::CONFIG_UNSUPPORTED,
            format!("malformed TLS secret uuid '{text}' provided"),
        )
    })?;
    let secrets = shared::secrets().ok_or_else(|| {
        Error::new(
            ErrorDomain::QEMU,
            ErrorCode::NO_SUPPORT,
            "this daemon has no secret driver to read the TLS key's secret from",
        )
    })?;
    let secret = secrets.lookup_by_uuid(parsed.as_bytes())?;
    if secret.usage_type != 0 && secret.usage_type != USAGE_TLS {
        let kind = usize::try_from(secret.usage_type)
            .ok()
            .and_then(|i| USAGE_NAMES.get(i))
            .unwrap_or(&"unknown");
        return Err(Error::invalid_arg(
            ErrorDomain::QEMU,
            format!("secret with uuid {text} is of type '{kind}' not expected 'tls' type"),
        ));
    }
    secrets.get_value(&secret, 0, true)
}

/// The `secret` object `alias` carrying `value` encrypted with the master
/// key in `master_key` (32 bytes, AES-256-CBC, PKCS#7 padding as
/// `virCryptoEncryptData` pads).
pub fn encrypted_props(alias: &str, master_key: &Path, value: &[u8]) -> Result<Value> {
    let io = |what: String, e: std::io::Error| {
        Error::new(
            ErrorDomain::QEMU,
            ErrorCode::SYSTEM_ERROR,
            format!("{what}: {e}"),
        )
    };
    let key = std::fs::read(master_key)
        .map_err(|e| io(format!("unable to read '{}'", master_key.display()), e))?;
    let mut iv = [0u8; IV_LEN];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut iv))
        .map_err(|e| io("failed to generate an initialization vector".into(), e))?;
    let ciphertext = encrypt(&key, &iv, value)?;
    Ok(json!({
        "qom-type": "secret", "id": alias,
        "data": B64.encode(ciphertext), "keyid": "masterKey0",
        "iv": B64.encode(iv), "format": "base64",
    }))
}

fn encrypt(key: &[u8], iv: &[u8; IV_LEN], value: &[u8]) -> Result<Vec<u8>> {
    let cipher = cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv).map_err(|_| {
        Error::new(
            ErrorDomain::QEMU,
            ErrorCode::INTERNAL_ERROR,
            format!("the master key is {} bytes, not 32", key.len()),
        )
    })?;
    Ok(cipher.encrypt_padded_vec_mut::<Pkcs7>(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt), first block; the
    /// second block of the output is the PKCS#7 padding of a whole block.
    #[test]
    fn encryption_is_aes256_cbc_with_pkcs7_padding() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
        let out = encrypt(&key, &iv, &hex("6bc1bee22e409f96e93d7e117393172a")).unwrap();
        assert_eq!(out.len(), 32);
        assert_eq!(out[..16], hex("f58c4c04d6e5f1ba779eabfb5f7bfbd6")[..]);
        assert_eq!(encrypt(&key, &iv, b"passphrase").unwrap().len(), 16);
        let e = encrypt(&key[..16], &iv, b"x").unwrap_err();
        assert!(e.message.contains("not 32"), "{}", e.message);
    }

    #[test]
    fn a_malformed_uuid_gets_libvirts_error() {
        let e = tls_secret_value("nope").unwrap_err();
        assert_eq!(e.code, ErrorCode::CONFIG_UNSUPPORTED);
        assert!(e
            .message
            .contains("malformed TLS secret uuid 'nope' provided"));
    }
}
