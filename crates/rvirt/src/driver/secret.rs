//! The secret entry points (libvirt's `virSecretDriver`,
//! src/driver-secret.h), handed out through
//! [`super::HypervisorConnection::secrets`]. A secret is named by its UUID
//! and carries its usage, as `remote_nonnull_secret` does.

use crate::events_nodedev::{ObjectEventRegistry, SecretEvent, SecretEventCallback};
use rvirt_util::{Error, ErrorDomain, Result};

/// libvirt's "not supported" for a missing entry, raised in its public
/// API file (`VIR_FROM_SECRET`).
fn unsupported(api: &str) -> Error {
    super::unsupported_in(ErrorDomain(30), api)
}

/// A secret as libvirt's `virSecretPtr` identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    pub uuid: [u8; 16],
    /// `virSecretUsageType` (0: none, 1: volume, 2: ceph, 3: iscsi,
    /// 4: tls, 5: vtpm).
    pub usage_type: i32,
    pub usage_id: String,
}

impl SecretRef {
    pub fn uuid_string(&self) -> String {
        rvirt_util::uuid::Uuid::from_bytes(self.uuid).to_string()
    }
}

#[allow(unused_variables)]
pub trait SecretDriver: Send + Sync {
    /// `virConnectNumOfSecrets`.
    fn num_of_secrets(&self) -> Result<i32> {
        Err(unsupported("virConnectNumOfSecrets"))
    }
    /// `virConnectListSecrets`: at most `max` UUID strings.
    fn list_secrets(&self, max: usize) -> Result<Vec<String>> {
        Err(unsupported("virConnectListSecrets"))
    }
    /// `virConnectListAllSecrets` (`VIR_CONNECT_LIST_SECRETS_*`).
    fn list_all(&self, flags: u32) -> Result<Vec<SecretRef>> {
        Err(unsupported("virConnectListAllSecrets"))
    }
    /// `virSecretLookupByUUID`.
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<SecretRef> {
        Err(unsupported("virSecretLookupByUUID"))
    }
    /// `virSecretLookupByUsage`.
    fn lookup_by_usage(&self, usage_type: i32, usage_id: &str) -> Result<SecretRef> {
        Err(unsupported("virSecretLookupByUsage"))
    }
    /// `virSecretDefineXML`.
    fn define_xml(&self, xml: &str, flags: u32) -> Result<SecretRef> {
        Err(unsupported("virSecretDefineXML"))
    }
    /// `virSecretGetXMLDesc`.
    fn get_xml_desc(&self, secret: &SecretRef, flags: u32) -> Result<String> {
        Err(unsupported("virSecretGetXMLDesc"))
    }
    /// `virSecretSetValue`.
    fn set_value(&self, secret: &SecretRef, value: &[u8], flags: u32) -> Result<()> {
        Err(unsupported("virSecretSetValue"))
    }
    /// `virSecretGetValue`. `internal` is libvirt's
    /// `VIR_SECRET_GET_VALUE_INTERNAL_CALL`: a daemon-side caller (not a
    /// client) may read a private secret.
    fn get_value(&self, secret: &SecretRef, flags: u32, internal: bool) -> Result<Vec<u8>> {
        Err(unsupported("virSecretGetValue"))
    }
    /// `virSecretUndefine`.
    fn undefine(&self, secret: &SecretRef) -> Result<()> {
        Err(unsupported("virSecretUndefine"))
    }
    /// The registry of a driver that raises its own secret events (the
    /// remote driver relays the server's instead): the two calls below
    /// register and deregister there.
    fn local_events(&self) -> Option<&ObjectEventRegistry<SecretRef, SecretEvent>> {
        None
    }
    /// `virConnectSecretEventRegisterAny`: the callback id.
    fn event_register_any(
        &self,
        secret: Option<&SecretRef>,
        event_id: i32,
        callback: SecretEventCallback,
    ) -> Result<i32> {
        let events = self
            .local_events()
            .ok_or_else(|| unsupported("virConnectSecretEventRegisterAny"))?;
        Ok(events.register(secret, event_id, callback))
    }
    /// `virConnectSecretEventDeregisterAny`.
    fn event_deregister_any(&self, callback_id: i32) -> Result<()> {
        let events = self
            .local_events()
            .ok_or_else(|| unsupported("virConnectSecretEventDeregisterAny"))?;
        crate::events::deregistered(events.deregister(callback_id), callback_id)
    }
}
