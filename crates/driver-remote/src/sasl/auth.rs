//! Where a client's SASL credentials come from, as libvirt's remote
//! driver gets them (`remoteAuthInteract`): first the auth file
//! (`LIBVIRT_AUTH_FILE`, the URI's `authfile`, `$XDG_CONFIG_HOME/libvirt/
//! auth.conf`, `/etc/libvirt/auth.conf`: `virAuthGetConfigFilePathURI`),
//! then the application's callback (`virConnectOpenAuth`'s; rvirsh sets
//! one that prompts on the terminal as virsh's default does).

use parking_lot::RwLock;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// `virConnectCredentialType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredType {
    Username = 1,
    Authname = 2,
    Language = 3,
    Cnonce = 4,
    Passphrase = 5,
    EchoPrompt = 6,
    NoEchoPrompt = 7,
    Realm = 8,
    External = 9,
}

/// `virConnectCredential`: what is asked, and the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub kind: CredType,
    pub prompt: String,
    pub challenge: Option<String>,
    pub defresult: Option<String>,
    pub result: Option<String>,
}

/// A `virConnectAuthCallbackPtr`: fill in each credential's result.
pub type AuthCallback = dyn Fn(&mut [Credential]) -> std::result::Result<(), ()> + Send + Sync;

/// The credential types offered and the callback (`virConnectAuth`).
#[derive(Clone)]
pub struct Auth {
    pub types: Vec<CredType>,
    pub callback: Arc<AuthCallback>,
}

static AUTH: RwLock<Option<Auth>> = RwLock::new(None);

/// Set the process's authentication callback, used by every remote
/// connection opened afterwards (rvirt's stand-in for passing
/// `virConnectAuthPtr` to `virConnectOpenAuth`).
pub fn set_auth(auth: Option<Auth>) {
    *AUTH.write() = auth;
}

pub(crate) fn current() -> Option<Auth> {
    AUTH.read().clone()
}

/// `virAuthGetConfigFilePathURI`.
pub fn config_file_path(uri_authfile: Option<&str>) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LIBVIRT_AUTH_FILE") {
        return Some(p.into());
    }
    if let Some(p) = uri_authfile {
        return Some(p.into());
    }
    let user_dir = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("libvirt/auth.conf"));
    [user_dir, Some(PathBuf::from("/etc/libvirt/auth.conf"))]
        .into_iter()
        .flatten()
        .find(|p| std::fs::File::open(p).is_ok())
}

/// A parsed auth file (GLib key-file syntax: `[group]`, `key=value`,
/// `#` comments).
#[derive(Debug, Default)]
pub struct AuthConfig {
    path: String,
    groups: HashMap<String, HashMap<String, String>>,
}

fn conf_syntax(msg: String) -> Error {
    Error::raw(ErrorDomain::CONF, ErrorCode::CONF_SYNTAX, msg)
}

impl AuthConfig {
    pub fn load(path: &std::path::Path) -> Result<AuthConfig> {
        // virAuthConfigNew fails without reporting why: the client then
        // says libvirt's generic failure.
        let text = std::fs::read_to_string(path).map_err(|e| {
            tracing::debug!("cannot read auth file '{}': {e}", path.display());
            Error::raw(
                ErrorDomain::NONE,
                ErrorCode::INTERNAL_ERROR,
                "An error occurred, but the cause is unknown",
            )
        })?;
        AuthConfig::parse(&path.display().to_string(), &text)
    }

    pub fn parse(path: &str, text: &str) -> Result<AuthConfig> {
        let mut cfg = AuthConfig {
            path: path.to_string(),
            ..Default::default()
        };
        let mut group: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line
                .strip_prefix('[')
                .and_then(|l| l.trim_end().strip_suffix(']'))
            {
                cfg.groups.entry(name.to_string()).or_default();
                group = Some(name.to_string());
                continue;
            }
            let (Some(g), Some((k, v))) = (&group, line.split_once('=')) else {
                return Err(conf_syntax(format!(
                    "Key file '{path}' contains line {} which is not a key-value pair, group, or comment",
                    n + 1
                )));
            };
            let groups = cfg.groups.get_mut(g).expect("group exists");
            groups.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(cfg)
    }

    /// `virAuthConfigLookup`: `[auth-SERVICE-HOST]` (or `-default`) names
    /// a `[credentials-NAME]` group holding the value.
    pub fn lookup(&self, service: &str, host: &str, cred: &str) -> Result<Option<String>> {
        let mut group = format!("auth-{service}-{host}");
        if !self.groups.contains_key(&group) {
            group = format!("auth-{service}-default");
        }
        let Some(auth) = self.groups.get(&group) else {
            return Ok(None);
        };
        let Some(name) = auth.get("credentials") else {
            return Err(conf_syntax(format!(
                "Missing item 'credentials' in group '{group}' in '{}'",
                self.path
            )));
        };
        let Some(creds) = self.groups.get(&format!("credentials-{name}")) else {
            return Err(conf_syntax(format!(
                "Missing group 'credentials-{name}' referenced from group '{group}' in '{}'",
                self.path
            )));
        };
        Ok(creds.get(cred).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_file_lookup_as_libvirt() {
        let text = "# c\n[credentials-test]\nauthname=fred\npassword=123456\n\
                    [auth-libvirt-example.com]\ncredentials=test\n\
                    [auth-libvirt-default]\ncredentials=test\n[auth-libvirt-bad]\nx=1\n";
        let c = AuthConfig::parse("a.conf", text).unwrap();
        let get = |h, k| c.lookup("libvirt", h, k).unwrap();
        assert_eq!(get("example.com", "authname").as_deref(), Some("fred"));
        assert_eq!(get("other", "password").as_deref(), Some("123456"));
        assert_eq!(get("other", "realm"), None);
        let e = c.lookup("libvirt", "bad", "authname").unwrap_err();
        assert_eq!(
            e.message,
            "Missing item 'credentials' in group 'auth-libvirt-bad' in 'a.conf'"
        );
        assert!(AuthConfig::parse("a", "[g]\nnot a pair\n").is_err());
        let none = AuthConfig::parse("a", "[credentials-x]\na=b\n").unwrap();
        assert_eq!(none.lookup("libvirt", "h", "a").unwrap(), None);
    }
}
