//! A secret driver (libvirt's src/secret/secret_driver.c with the object
//! list rules of src/conf/virsecretobj.c): define with
//! libvirt's checks (a UUID keeps its usage, a private secret stays
//! private, a usage belongs to one UUID), values that a client never reads
//! back from a private secret (only a daemon-side caller, libvirt's
//! "elevated" identity, may), lookups by UUID and usage, list filters and
//! lifecycle / value-changed events.
//!
//! A daemon's store keeps its persistent secrets in a directory as
//! libvirt keeps `/etc/libvirt/secrets` ([`persist`]: `UUID.xml` and
//! `UUID.base64`) and loads them again when it starts; ephemeral secrets
//! stay in memory. libvirt's test driver has no secret driver at all.

pub mod connect;
pub mod persist;

pub use connect::register;
use parking_lot::Mutex;
use persist::SecretFiles;
use rvirt::driver::{SecretDriver, SecretRef};
use rvirt::events_nodedev::{secret_event, ObjectEventRegistry, SecretEvent};
use rvirt::secret::{list_flags, ERROR_DOMAIN};
use rvirt_conf::secret::SecretDef;
use rvirt_util::{Error, ErrorCode, Result};

struct SecretObj {
    def: SecretDef,
    value: Option<Vec<u8>>,
}

impl SecretObj {
    fn reference(&self) -> SecretRef {
        SecretRef {
            uuid: self.def.uuid,
            usage_type: self.def.usage_type,
            usage_id: self.def.usage_id.clone().unwrap_or_default(),
        }
    }
}

#[derive(Default)]
pub struct SecretStore {
    secrets: Mutex<Vec<SecretObj>>,
    events: ObjectEventRegistry<SecretRef, SecretEvent>,
    /// Where persistent secrets live; none: memory only.
    files: Option<SecretFiles>,
}

fn check_flags(api: &str, given: u32, allowed: u32) -> Result<()> {
    rvirt::connect::check_flags_in(ERROR_DOMAIN, api, given, allowed)
}

fn internal(msg: String) -> Error {
    Error::internal(ERROR_DOMAIN, msg)
}

fn uuid_string(uuid: &[u8; 16]) -> String {
    rvirt_util::uuid::Uuid::from_bytes(*uuid).to_string()
}

fn no_uuid(uuid: &[u8; 16]) -> Error {
    Error::new(
        ERROR_DOMAIN,
        ErrorCode::NO_SECRET,
        format!("no secret with matching uuid '{}'", uuid_string(uuid)),
    )
}

/// `virSecretObjListAdd`: replace the definition of the same UUID, or add
/// a new secret whose usage no other secret has.
fn add(list: &mut Vec<SecretObj>, def: SecretDef) -> Result<()> {
    let uuid = def.uuid_string();
    if let Some(obj) = list.iter_mut().find(|o| o.def.uuid == def.uuid) {
        if obj.def.usage_id != def.usage_id {
            let old = obj.def.usage_id.as_deref().unwrap_or("(null)");
            return Err(internal(format!(
                "a secret with UUID {uuid} is already defined for use with {old}"
            )));
        }
        if obj.def.private && !def.private {
            return Err(internal(
                "cannot change private flag on existing secret".into(),
            ));
        }
        obj.def = def;
        return Ok(());
    }
    let same_usage =
        |o: &&SecretObj| o.def.usage_type == def.usage_type && o.def.usage_id == def.usage_id;
    if let Some(other) = list.iter().find(same_usage).filter(|_| def.usage_type != 0) {
        return Err(internal(format!(
            "a secret with UUID {} already defined for use with {}",
            other.def.uuid_string(),
            def.usage_id.as_deref().unwrap_or("(null)")
        )));
    }
    list.push(SecretObj { def, value: None });
    Ok(())
}

/// `virSecretObjMatch` with `VIR_CONNECT_LIST_SECRETS_*`.
fn matches(def: &SecretDef, flags: u32) -> bool {
    let pair = |yes: u32, no: u32, is: bool| {
        flags & (yes | no) == 0 || (is && flags & yes != 0) || (!is && flags & no != 0)
    };
    pair(
        list_flags::EPHEMERAL,
        list_flags::NO_EPHEMERAL,
        def.ephemeral,
    ) && pair(list_flags::PRIVATE, list_flags::NO_PRIVATE, def.private)
}

impl SecretStore {
    /// A store backed by `files`, holding the secrets found there.
    pub fn persistent(files: SecretFiles) -> SecretStore {
        let secrets = files
            .load_all()
            .into_iter()
            .map(|l| SecretObj {
                def: l.def,
                value: l.value,
            })
            .collect();
        SecretStore {
            secrets: Mutex::new(secrets),
            events: ObjectEventRegistry::default(),
            files: Some(files),
        }
    }

    /// `secretDefineXML`'s saving: a persistent secret's definition (and
    /// its value if it was ephemeral until now); a secret turned
    /// ephemeral loses its files.
    fn save_defined(&self, obj: &SecretObj, backup: Option<&SecretDef>) -> Result<()> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        if !obj.def.ephemeral {
            if backup.is_some_and(|b| b.ephemeral) {
                files.save_value(&obj.def, obj.value.as_deref())?;
            }
            files.save_config(&obj.def)
        } else if backup.is_some_and(|b| !b.ephemeral) {
            files.delete_config(&obj.def)?;
            files.delete_value(&obj.def);
            Ok(())
        } else {
            Ok(())
        }
    }

    fn with_secret<R>(
        &self,
        s: &SecretRef,
        f: impl FnOnce(&mut SecretObj) -> Result<R>,
    ) -> Result<R> {
        let mut list = self.secrets.lock();
        let obj = list
            .iter_mut()
            .find(|o| o.def.uuid == s.uuid)
            .ok_or_else(|| no_uuid(&s.uuid))?;
        f(obj)
    }

    fn emit(&self, r: &SecretRef, event: SecretEvent) {
        self.events.emit(r, &event);
    }
}

impl SecretDriver for SecretStore {
    fn num_of_secrets(&self) -> Result<i32> {
        Ok(self.secrets.lock().len() as i32)
    }
    fn list_secrets(&self, max: usize) -> Result<Vec<String>> {
        let list = self.secrets.lock();
        Ok(list.iter().take(max).map(|o| o.def.uuid_string()).collect())
    }
    fn list_all(&self, flags: u32) -> Result<Vec<SecretRef>> {
        check_flags("secretConnectListAllSecrets", flags, 0xf)?;
        let list = self.secrets.lock();
        Ok(list
            .iter()
            .filter(|o| matches(&o.def, flags))
            .map(SecretObj::reference)
            .collect())
    }
    fn lookup_by_uuid(&self, uuid: &[u8; 16]) -> Result<SecretRef> {
        let list = self.secrets.lock();
        list.iter()
            .find(|o| o.def.uuid == *uuid)
            .map(SecretObj::reference)
            .ok_or_else(|| no_uuid(uuid))
    }
    fn lookup_by_usage(&self, usage_type: i32, usage_id: &str) -> Result<SecretRef> {
        let list = self.secrets.lock();
        list.iter()
            .find(|o| o.def.usage_type == usage_type && o.def.usage_id.as_deref() == Some(usage_id))
            .map(SecretObj::reference)
            .ok_or_else(|| {
                Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::NO_SECRET,
                    format!("no secret with matching usage '{usage_id}'"),
                )
            })
    }
    fn define_xml(&self, xml: &str, flags: u32) -> Result<SecretRef> {
        check_flags("secretDefineXML", flags, 1)?;
        let def = SecretDef::parse(xml)?;
        let r = {
            let mut list = self.secrets.lock();
            let uuid = def.uuid;
            let backup = list
                .iter()
                .find(|o| o.def.uuid == uuid)
                .map(|o| o.def.clone());
            add(&mut list, def)?;
            let at = list
                .iter()
                .position(|o| o.def.uuid == uuid)
                .expect("just added");
            if let Err(e) = self.save_defined(&list[at], backup.as_ref()) {
                // restore_backup: the old definition, or no secret.
                match backup {
                    Some(old) => list[at].def = old,
                    None => {
                        list.remove(at);
                    }
                }
                return Err(e);
            }
            list[at].reference()
        };
        let event = SecretEvent::Lifecycle {
            event: secret_event::DEFINED,
            detail: 0,
        };
        self.emit(&r, event);
        Ok(r)
    }
    fn get_xml_desc(&self, s: &SecretRef, flags: u32) -> Result<String> {
        check_flags("secretGetXMLDesc", flags, 0)?;
        self.with_secret(s, |o| Ok(o.def.format()))
    }
    fn set_value(&self, s: &SecretRef, value: &[u8], flags: u32) -> Result<()> {
        check_flags("secretSetValue", flags, 0)?;
        let r = self.with_secret(s, |o| {
            // virSecretObjSetValue: saved unless ephemeral, the old
            // value kept when saving fails.
            if let (Some(files), false) = (&self.files, o.def.ephemeral) {
                files.save_value(&o.def, Some(value))?;
            }
            o.value = Some(value.to_vec());
            Ok(o.reference())
        })?;
        self.emit(&r, SecretEvent::ValueChanged);
        Ok(())
    }
    fn get_value(&self, s: &SecretRef, flags: u32, internal: bool) -> Result<Vec<u8>> {
        check_flags("secretGetValue", flags, 0)?;
        self.with_secret(s, |o| {
            if o.def.private && !internal {
                return Err(Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::INVALID_SECRET,
                    "secret is private",
                ));
            }
            o.value.clone().ok_or_else(|| {
                Error::new(
                    ERROR_DOMAIN,
                    ErrorCode::NO_SECRET,
                    format!("secret '{}' does not have a value", o.def.uuid_string()),
                )
            })
        })
    }
    fn undefine(&self, s: &SecretRef) -> Result<()> {
        let r = self.with_secret(s, |o| {
            if let (Some(files), false) = (&self.files, o.def.ephemeral) {
                files.delete_config(&o.def)?;
                files.delete_value(&o.def);
            }
            Ok(o.reference())
        })?;
        self.secrets.lock().retain(|o| o.def.uuid != s.uuid);
        let event = SecretEvent::Lifecycle {
            event: secret_event::UNDEFINED,
            detail: 0,
        };
        self.emit(&r, event);
        Ok(())
    }
    fn local_events(&self) -> Option<&ObjectEventRegistry<SecretRef, SecretEvent>> {
        Some(&self.events)
    }
}

#[cfg(test)]
mod tests;
