//! `Secret`: a handle on one secret, as `virSecretPtr`, and the secret
//! calls of `Connect` (libvirt's src/libvirt-secret.c). Values are never
//! handed to a read-only connection: `virSecretGetValue` is refused there
//! before the driver is asked.

use crate::connect::check_max;
use crate::driver::shared;
use crate::driver::{SecretDriver, SecretRef};
use crate::events_nodedev::{secret_event, SecretEventCallback};
use crate::Connect;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_FROM_SECRET`.
pub const ERROR_DOMAIN: ErrorDomain = ErrorDomain(30);

/// `virConnectListAllSecretsFlags`.
pub mod list_flags {
    pub const EPHEMERAL: u32 = 1 << 0;
    pub const NO_EPHEMERAL: u32 = 1 << 1;
    pub const PRIVATE: u32 = 1 << 2;
    pub const NO_PRIVATE: u32 = 1 << 3;
}

/// `virSecretUsageType` names, as the XML and virsh spell them.
pub const USAGE_NAMES: [&str; 6] = ["none", "volume", "ceph", "iscsi", "tls", "vtpm"];

#[derive(Clone)]
pub struct Secret {
    conn: Connect,
    r: SecretRef,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret").field("r", &self.r).finish()
    }
}

fn invalid_arg(msg: String) -> Error {
    Error::raw(ERROR_DOMAIN, ErrorCode::INVALID_ARG, msg)
}

/// `virReportUnsupportedError` from this API's file.
fn unsupported(api: &str) -> Error {
    crate::driver::unsupported_in(ERROR_DOMAIN, api)
}

impl Connect {
    fn secret_driver(&self, api: &str) -> Result<&dyn SecretDriver> {
        shared::or_shared(
            self.driver().as_ref(),
            self.driver().secrets(),
            shared::secrets(),
        )
        .ok_or_else(|| unsupported(api))
    }

    fn secret(&self, r: SecretRef) -> Secret {
        Secret {
            conn: self.clone(),
            r,
        }
    }

    /// `virConnectNumOfSecrets`.
    pub fn num_of_secrets(&self) -> Result<i32> {
        self.secret_driver("virConnectNumOfSecrets")?
            .num_of_secrets()
    }

    /// `virConnectListSecrets`.
    pub fn list_secrets(&self, max: i32) -> Result<Vec<String>> {
        let max = check_max(ERROR_DOMAIN, max, "maxuuids", "virConnectListSecrets")?;
        self.secret_driver("virConnectListSecrets")?
            .list_secrets(max)
    }

    /// `virConnectListAllSecrets`.
    pub fn list_all_secrets(&self, flags: u32) -> Result<Vec<Secret>> {
        let refs = self
            .secret_driver("virConnectListAllSecrets")?
            .list_all(flags)?;
        Ok(refs.into_iter().map(|r| self.secret(r)).collect())
    }

    /// `virSecretLookupByUUID`.
    pub fn secret_lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<Secret> {
        let r = self
            .secret_driver("virSecretLookupByUUID")?
            .lookup_by_uuid(uuid)?;
        Ok(self.secret(r))
    }

    /// `virSecretLookupByUUIDString`.
    pub fn secret_lookup_by_uuid_string(&self, uuid: &str) -> Result<Secret> {
        let parsed = rvirt_util::uuid::parse(uuid).ok_or_else(|| {
            invalid_arg("uuidstr in virSecretLookupByUUIDString must be a valid UUID".into())
        })?;
        self.secret_lookup_by_uuid(parsed.as_bytes())
    }

    /// `virSecretLookupByUsage`.
    pub fn secret_lookup_by_usage(&self, usage_type: i32, usage_id: &str) -> Result<Secret> {
        let r = self
            .secret_driver("virSecretLookupByUsage")?
            .lookup_by_usage(usage_type, usage_id)?;
        Ok(self.secret(r))
    }

    /// `virSecretDefineXML`.
    pub fn secret_define_xml(&self, xml: &str, flags: u32) -> Result<Secret> {
        self.check_writable("virSecretDefineXML")?;
        let r = self
            .secret_driver("virSecretDefineXML")?
            .define_xml(xml, flags)?;
        Ok(self.secret(r))
    }

    /// `virConnectSecretEventRegisterAny`.
    pub fn secret_event_register_any(
        &self,
        secret: Option<&Secret>,
        event_id: i32,
        callback: SecretEventCallback,
    ) -> Result<i32> {
        if !(0..secret_event::ID_LAST).contains(&event_id) {
            return Err(invalid_arg(format!(
                "eventID in virConnectSecretEventRegisterAny must be less than {}",
                secret_event::ID_LAST
            )));
        }
        self.secret_driver("virConnectSecretEventRegisterAny")?
            .event_register_any(secret.map(|s| &s.r), event_id, callback)
    }

    /// `virConnectSecretEventDeregisterAny`.
    pub fn secret_event_deregister_any(&self, callback_id: i32) -> Result<()> {
        self.secret_driver("virConnectSecretEventDeregisterAny")?
            .event_deregister_any(callback_id)
    }
}

impl Secret {
    /// A handle from what `remote_nonnull_secret` carries.
    pub fn from_ref(conn: &Connect, r: SecretRef) -> Secret {
        conn.secret(r)
    }

    pub fn secret_ref(&self) -> &SecretRef {
        &self.r
    }

    pub fn connect(&self) -> &Connect {
        &self.conn
    }

    /// `virSecretGetUUID`.
    pub fn uuid(&self) -> [u8; 16] {
        self.r.uuid
    }

    /// `virSecretGetUUIDString`.
    pub fn uuid_string(&self) -> String {
        self.r.uuid_string()
    }

    /// `virSecretGetUsageType`.
    pub fn usage_type(&self) -> i32 {
        self.r.usage_type
    }

    /// `virSecretGetUsageID`.
    pub fn usage_id(&self) -> &str {
        &self.r.usage_id
    }

    fn driver(&self, api: &str) -> Result<&dyn SecretDriver> {
        self.conn.secret_driver(api)
    }

    /// `virSecretGetXMLDesc`.
    pub fn get_xml_desc(&self, flags: u32) -> Result<String> {
        self.driver("virSecretGetXMLDesc")?
            .get_xml_desc(&self.r, flags)
    }

    /// `virSecretSetValue`.
    pub fn set_value(&self, value: &[u8], flags: u32) -> Result<()> {
        self.conn.check_writable("virSecretSetValue")?;
        self.driver("virSecretSetValue")?
            .set_value(&self.r, value, flags)
    }

    /// `virSecretGetValue`, as a client asks it: private secrets stay
    /// unreadable.
    pub fn get_value(&self, flags: u32) -> Result<Vec<u8>> {
        self.conn.check_writable("virSecretGetValue")?;
        self.driver("virSecretGetValue")?
            .get_value(&self.r, flags, false)
    }

    /// `virSecretUndefine`.
    pub fn undefine(&self) -> Result<()> {
        self.conn.check_writable("virSecretUndefine")?;
        self.driver("virSecretUndefine")?.undefine(&self.r)
    }
}
