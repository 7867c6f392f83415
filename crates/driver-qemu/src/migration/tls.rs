//! Migration over TLS (`VIR_MIGRATE_TLS`, libvirt's
//! `qemuMigrationParamsEnableTLS`/`DisableTLS`): each end's QEMU gets a
//! `tls-creds-x509` object from the qemu.conf certificate directory (the
//! destination `endpoint=server`, the source `endpoint=client`) and the
//! `tls-creds` migration parameter names it; the NBD server and mirrors of
//! a storage migration use it too. With `migrate_tls_x509_secret_uuid`
//! the private keys are encrypted and a `secret` object holds their
//! passphrase, named by the credentials' `passwordid`. The objects go when
//! the migration ends.

use super::qmp::SetParameters;
use super::storage::{ObjectAdd, ObjectDel};
use crate::monitor::Monitor;
use crate::secret_object;
use rvirt::driver::StateConfig;
use rvirt::migration::flags;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use serde_json::json;
use std::path::Path;

/// The object's id on both ends (`QEMU_MIGRATION_TLS_ALIAS_BASE` → alias).
pub const ALIAS: &str = "objlibvirt_migrate_tls0";
/// The key passphrase's object (`qemuAliasForSecret` of the same base).
pub const SECRET_ALIAS: &str = "libvirt_migrate-secret0";

/// qemu.conf keys, with libvirt's fallbacks to the `default_tls_*` ones.
pub const CERT_DIR_KEY: &str = "migrate_tls_x509_cert_dir";
pub const VERIFY_KEY: &str = "migrate_tls_x509_verify";
pub const FORCE_KEY: &str = "migrate_tls_force";
pub const SECRET_KEY: &str = "migrate_tls_x509_secret_uuid";
const DEFAULT_CERT_DIR_KEY: &str = "default_tls_x509_cert_dir";
const DEFAULT_VERIFY_KEY: &str = "default_tls_x509_verify";
const DEFAULT_SECRET_KEY: &str = "default_tls_x509_secret_uuid";
/// `SYSCONFDIR "/pki/qemu"`.
const DEFAULT_CERT_DIR: &str = "/etc/pki/qemu";

/// Which end of the TLS session this host's QEMU is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Server,
    Client,
}

/// The migration TLS settings of qemu.conf.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    pub dir: String,
    /// Whether the destination asks the source for its certificate.
    pub verify: bool,
    /// Migrations without `VIR_MIGRATE_TLS` are refused.
    pub force: bool,
    /// The UUID of the secret holding the private keys' passphrase.
    secret: Option<String>,
}

/// The objects one end's QEMU gets for a TLS migration.
#[derive(Debug)]
pub struct TlsObjects {
    creds: serde_json::Value,
    /// The key's passphrase, encrypted with the guest's master key.
    secret: Option<serde_json::Value>,
}

fn flag(config: &StateConfig, key: &str, fallback: &str, default: bool) -> Result<bool> {
    let value = config.setting(key).or_else(|| config.setting(fallback));
    match value {
        None => Ok(default),
        Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(Error::invalid_arg(
            ErrorDomain::QEMU,
            format!("{key} must be 0 or 1, not '{other}'"),
        )),
    }
}

impl TlsConfig {
    /// The settings, checked as `virQEMUDriverConfigValidate` does: an
    /// explicitly set directory must exist.
    pub fn new(config: &StateConfig) -> Result<TlsConfig> {
        let explicit = config.setting(CERT_DIR_KEY);
        if let Some(dir) = explicit.filter(|d| !std::path::Path::new(d).exists()) {
            return Err(Error::new(
                ErrorDomain::QEMU,
                ErrorCode::CONF_SYNTAX,
                format!("{CERT_DIR_KEY} directory '{dir}' does not exist"),
            ));
        }
        let dir = explicit
            .or_else(|| config.setting(DEFAULT_CERT_DIR_KEY))
            .unwrap_or(DEFAULT_CERT_DIR);
        Ok(TlsConfig {
            dir: dir.to_string(),
            verify: flag(config, VERIFY_KEY, DEFAULT_VERIFY_KEY, true)?,
            force: flag(config, FORCE_KEY, FORCE_KEY, false)?,
            secret: config
                .setting(SECRET_KEY)
                .or_else(|| config.setting(DEFAULT_SECRET_KEY))
                .map(str::to_string),
        })
    }

    /// What either end checks before anything moves: `migrate_tls_force`
    /// (libvirt's words; tunnelled migration is exempt), and TLS where
    /// rvirt cannot carry it out.
    pub fn check(&self, flags: u32) -> Result<()> {
        let tls = flags & flags::TLS != 0;
        let tunnelled = flags & flags::TUNNELLED != 0;
        if self.force && !tunnelled && !tls {
            return Err(Error::operation_invalid(
                ErrorDomain::QEMU,
                "this libvirtd instance allows migration only with VIR_MIGRATE_TLS flag",
            ));
        }
        if !tls {
            return Ok(());
        }
        // The stream already rides the daemons' connection; libvirt 9.0
        // has no check here and hands QEMU an uninitialised host name.
        if tunnelled {
            return Err(unsupported(
                "TLS migration is not supported with tunnelled migration",
            ));
        }
        Ok(())
    }

    /// The `tls-creds-x509` object's properties (`qemuBuildTLSx509BackendProps`:
    /// a client always verifies the server).
    fn props(&self, end: Endpoint) -> serde_json::Value {
        let (endpoint, verify) = match end {
            Endpoint::Server => ("server", self.verify),
            Endpoint::Client => ("client", true),
        };
        let mut props = json!({
            "qom-type": "tls-creds-x509", "id": ALIAS,
            "dir": self.dir, "endpoint": endpoint, "verify-peer": verify,
        });
        if self.secret.is_some() {
            props["passwordid"] = SECRET_ALIAS.into();
        }
        props
    }

    /// What `end`'s QEMU is given, the passphrase (if any) read from the
    /// secret driver now and encrypted with the guest's key in
    /// `master_key`, as libvirt reads it when the migration starts.
    pub fn objects(&self, end: Endpoint, master_key: &Path) -> Result<TlsObjects> {
        let secret = match &self.secret {
            None => None,
            Some(uuid) => {
                let value = secret_object::tls_secret_value(uuid)?;
                Some(secret_object::encrypted_props(
                    SECRET_ALIAS,
                    master_key,
                    &value,
                )?)
            }
        };
        Ok(TlsObjects {
            creds: self.props(end),
            secret,
        })
    }
}

impl TlsObjects {
    /// Add the objects (those left by an earlier migration go first, as
    /// libvirt does); QEMU's own error when the certificates are missing
    /// or the passphrase does not open the key.
    pub async fn enable(&self, mon: &Monitor) -> Result<()> {
        disable(mon).await;
        if let Some(args) = self.secret.clone() {
            mon.execute(ObjectAdd { args }).await?;
        }
        let args = self.creds.clone();
        mon.execute(ObjectAdd { args }).await.map(|_| ())
    }
}

fn unsupported(text: &str) -> Error {
    Error::new(ErrorDomain::QEMU, ErrorCode::ARGUMENT_UNSUPPORTED, text)
}

/// The migration ended: the object goes and the parameters name none
/// (`qemuMigrationParamsResetTLS`); absent, there is nothing to do.
pub async fn disable(mon: &Monitor) {
    let off = SetParameters {
        tls_creds: Some(String::new()),
        tls_hostname: Some(String::new()),
        ..SetParameters::default()
    };
    let _ = mon.execute(off).await;
    for id in [ALIAS, SECRET_ALIAS] {
        let _ = mon
            .execute(ObjectDel {
                args: json!({ "id": id }),
            })
            .await;
    }
}

/// The `tls-creds` parameter: the object, or `""` (TLS off: QEMU keeps
/// parameters between migrations, so each migration sets it).
pub fn creds(flags: u32) -> String {
    match flags & flags::TLS != 0 {
        true => ALIAS.to_string(),
        false => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::tests::config;

    #[test]
    fn the_settings_follow_libvirts_defaults_and_checks() {
        let c = TlsConfig::new(&config(&[])).unwrap();
        assert_eq!(
            (c.dir.as_str(), c.verify, c.force),
            (DEFAULT_CERT_DIR, true, false)
        );
        let c = TlsConfig::new(&config(&[
            (DEFAULT_CERT_DIR_KEY, "/nowhere"),
            (DEFAULT_VERIFY_KEY, "0"),
        ]))
        .unwrap();
        assert_eq!((c.dir.as_str(), c.verify), ("/nowhere", false));
        assert_eq!(c.props(Endpoint::Client)["verify-peer"], true);
        let e = TlsConfig::new(&config(&[(CERT_DIR_KEY, "/nowhere")])).unwrap_err();
        assert_eq!(
            e.message,
            "configuration file syntax error: \
             migrate_tls_x509_cert_dir directory '/nowhere' does not exist"
        );
        let forced = TlsConfig::new(&config(&[(FORCE_KEY, "1")])).unwrap();
        let e = forced.check(flags::LIVE).unwrap_err();
        assert_eq!(e.code, ErrorCode::OPERATION_INVALID);
        assert!(e.message.contains("only with VIR_MIGRATE_TLS flag"));
        assert!(forced.check(flags::LIVE | flags::TLS).is_ok());
        assert!(forced.check(flags::PEER2PEER | flags::TUNNELLED).is_ok());
        let e = c.check(flags::PEER2PEER | flags::TUNNELLED | flags::TLS);
        assert_eq!(e.unwrap_err().code, ErrorCode::ARGUMENT_UNSUPPORTED);
        let secret = TlsConfig::new(&config(&[(SECRET_KEY, "u")])).unwrap();
        assert!(secret.check(flags::TLS).is_ok());
        assert_eq!(secret.props(Endpoint::Server)["passwordid"], SECRET_ALIAS);
        assert!(c.props(Endpoint::Server).get("passwordid").is_none());
        let e = secret.objects(Endpoint::Client, Path::new("/nowhere"));
        assert!(e
            .unwrap_err()
            .message
            .contains("malformed TLS secret uuid 'u'"));
        assert_eq!((creds(flags::TLS).as_str(), creds(0).as_str()), (ALIAS, ""));
    }
}
