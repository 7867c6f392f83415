//! The daemon's configuration file, in libvirtd.conf syntax (libvirt's
//! `virConf`): `key = value` lines where a value is an integer, a string in
//! double (or single) quotes, or a list `[ "a", "b" ]` that may span lines;
//! `#` starts a comment.
//!
//! [`Config::from_text`] applies libvirtd's defaults
//! (`daemonConfigNew` in src/remote/remote_daemon_config.c) and its type
//! checks (`virConfGetValue*` messages). Unknown keys are ignored as libvirtd
//! ignores them, with a warning so a typo does not go unnoticed.

use std::path::PathBuf;

/// One parsed value (`virConfValue`).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Str(String),
    List(Vec<Value>),
}

/// The settings rvirtd honours.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub listen_tcp: bool,
    pub tcp_port: String,
    pub listen_addr: Option<String>,
    pub auth_tcp: String,
    /// Whether `auth_tcp` came from the file (libvirtd's default is "sasl").
    pub auth_tcp_explicit: bool,
    pub auth_unix_rw: String,
    pub auth_unix_ro: String,
    /// `listen_tls`, `tls_port`, `auth_tls` and the x509 settings.
    pub tls: crate::tls::TlsConfig,
    pub unix_sock_dir: PathBuf,
    pub unix_sock_group: Option<String>,
    pub unix_sock_ro_perms: u32,
    pub unix_sock_rw_perms: u32,
    /// `sasl_allowed_username_list`: GLib patterns; None allows anyone.
    pub sasl_allowed_username_list: Option<Vec<String>>,
    pub host_uuid: Option<String>,
    pub max_clients: usize,
    /// The listen backlog of every socket (`listen(2)`'s, as libvirtd's).
    pub max_queued_clients: u32,
    /// Blocking threads are started on demand; kept for the check
    /// `min_workers <= max_workers` libvirtd makes.
    pub min_workers: usize,
    pub max_workers: usize,
    pub prio_workers: usize,
    pub max_client_requests: usize,
    /// rvirt's own: bytes of events and other unsolicited messages queued
    /// for a client that does not read them before it is disconnected
    /// (libvirtd has no bound). Default: one maximal message (32 MiB).
    pub max_client_queued_bytes: usize,
    /// rvirt's own: streams one client may have open at once.
    pub max_client_streams: usize,
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
    pub log_level: u32,
    /// libvirt's filter and output syntax (`1:rpc 3:remote`, `2:stderr`);
    /// changeable at run time through the admin program.
    pub log_filters: String,
    pub log_outputs: String,
    /// Clients not yet authenticated libvirtd admits; with auth "none"
    /// every client is authenticated on arrival, so only reported.
    pub max_anonymous_clients: usize,
    /// The admin server (`libvirt-admin-sock`, virt-admin's).
    pub admin: AdminConfig,
    /// rvirt's own: where the pid file lives, so daemons run side by side.
    pub state_dir: PathBuf,
    /// rvirt's own: the URI a client gets when it opens with no name.
    pub default_uri: String,
    /// Keys addressed to a driver (`test_*`, e.g. `test_relocation_listen`),
    /// handed to every driver at start-up; each reads the ones it knows.
    pub driver_settings: std::collections::BTreeMap<String, String>,
    /// Keys that were present but are not understood (warned about).
    pub unknown_keys: Vec<String>,
}

/// libvirtd's `admin_*` keys and `unix_sock_admin_perms`, with its
/// defaults (remote_daemon_config.c).
#[derive(Clone, Debug, PartialEq)]
pub struct AdminConfig {
    pub sock_perms: u32,
    pub min_workers: usize,
    pub max_workers: usize,
    pub max_clients: usize,
    pub max_queued_clients: u32,
    pub max_client_requests: usize,
    pub keepalive_interval: i32,
    pub keepalive_count: u32,
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            sock_perms: 0o700,
            min_workers: 5,
            max_workers: 20,
            max_clients: 5000,
            max_queued_clients: 20,
            max_client_requests: 5,
            keepalive_interval: 5,
            keepalive_count: 5,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen_tcp: false,
            tcp_port: "16509".into(),
            listen_addr: None,
            auth_tcp: "sasl".into(),
            auth_tcp_explicit: false,
            auth_unix_rw: "none".into(),
            auth_unix_ro: "none".into(),
            tls: Default::default(),
            unix_sock_dir: PathBuf::from("/var/run/libvirt"),
            unix_sock_group: None,
            unix_sock_ro_perms: 0o777,
            unix_sock_rw_perms: 0o700,
            sasl_allowed_username_list: None,
            host_uuid: None,
            max_clients: 5000,
            max_queued_clients: 1000,
            min_workers: 5,
            max_workers: 20,
            prio_workers: 5,
            max_client_requests: 5,
            max_client_queued_bytes: rvirt_rpc::packet::MESSAGE_MAX,
            max_client_streams: 64,
            keepalive_interval: 5,
            keepalive_count: 5,
            log_level: 3,
            log_filters: String::new(),
            log_outputs: String::new(),
            max_anonymous_clients: 20,
            admin: AdminConfig::default(),
            state_dir: PathBuf::from("/var/run/rvirt"),
            default_uri: "test:///default".into(),
            driver_settings: Default::default(),
            unknown_keys: Vec::new(),
        }
    }
}

/// Keys libvirtd knows but rvirtd does not act on: accepted silently.
/// Prefixes of keys that belong to a driver rather than to the daemon.
const DRIVER_PREFIXES: &[&str] = &[
    "test_",
    "qemu_",
    "network_",
    "storage_",
    "secret_",
    "nwfilter_",
    "migration_",
    "migrate_tls_",
    "default_tls_x509_",
];

const KNOWN_IGNORED: &[&str] = &[
    "tcp_min_ssf",
    "mdns_adv",
    "mdns_name",
    "access_drivers",
    "audit_level",
    "audit_logging",
    "host_uuid_source",
    "keepalive_required",
    "admin_keepalive_required",
    "ovs_timeout",
];

impl Config {
    /// Read and check `path`.
    pub fn from_file(path: &std::path::Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "Failed to open file '{}': {}",
                path.display(),
                rvirt_util::error::strerror(&e)
            )
        })?;
        Config::from_text(&path.display().to_string(), &text)
    }

    /// Parse `text` (named `filename` in messages) over libvirtd's defaults.
    pub fn from_text(filename: &str, text: &str) -> Result<Config, String> {
        let entries = parse(filename, text)?;
        let mut cfg = Config::default();
        for (key, value) in &entries {
            cfg.apply(filename, key, value)?;
        }
        Ok(cfg)
    }

    fn apply(&mut self, file: &str, key: &str, v: &Value) -> Result<(), String> {
        match key {
            "listen_tcp" => self.listen_tcp = get_bool(file, key, v)?,
            "tcp_port" => self.tcp_port = get_string(file, key, v)?,
            "listen_addr" => self.listen_addr = Some(get_string(file, key, v)?),
            "auth_tcp" => {
                self.auth_tcp = get_auth(file, key, v)?;
                self.auth_tcp_explicit = true;
            }
            "auth_unix_rw" => self.auth_unix_rw = get_auth(file, key, v)?,
            "auth_unix_ro" => self.auth_unix_ro = get_auth(file, key, v)?,
            "sasl_allowed_username_list" => {
                self.sasl_allowed_username_list = Some(crate::tls::string_list(file, key, v)?)
            }
            "unix_sock_dir" => self.unix_sock_dir = get_string(file, key, v)?.into(),
            "unix_sock_group" => self.unix_sock_group = Some(get_string(file, key, v)?),
            "unix_sock_ro_perms" => self.unix_sock_ro_perms = get_perms(file, key, v)?,
            "unix_sock_rw_perms" => self.unix_sock_rw_perms = get_perms(file, key, v)?,
            "host_uuid" => {
                let s = get_string(file, key, v)?;
                if rvirt_util::uuid::parse(&s).is_none() {
                    return Err(format!("invalid host UUID: {s}"));
                }
                self.host_uuid = Some(s);
            }
            "max_clients" => self.max_clients = get_uint(file, key, v)? as usize,
            "max_queued_clients" => self.max_queued_clients = get_u32(file, key, v)?,
            "min_workers" => self.min_workers = get_uint(file, key, v)? as usize,
            "max_workers" => {
                self.max_workers = get_uint(file, key, v)? as usize;
                // daemonConfigLoadOptions
                if self.max_workers < 1 {
                    return Err("'max_workers' must be greater than 0".into());
                }
            }
            "prio_workers" => self.prio_workers = get_uint(file, key, v)? as usize,
            "max_client_queued_bytes" => {
                self.max_client_queued_bytes = get_uint(file, key, v)?.max(4096) as usize
            }
            "max_client_streams" => self.max_client_streams = get_uint(file, key, v)? as usize,
            "max_client_requests" => {
                self.max_client_requests = get_uint(file, key, v)?.max(1) as usize
            }
            "keepalive_interval" => {
                self.keepalive_interval = get_int(file, key, v)? as i32;
                // Also the QEMU driver's, for its peer-to-peer connections
                // (libvirt's qemu.conf has keys of the same names).
                let value = self.keepalive_interval.to_string();
                self.driver_settings.insert(key.to_string(), value);
            }
            "keepalive_count" => {
                self.keepalive_count = get_uint(file, key, v)? as u32;
                let value = self.keepalive_count.to_string();
                self.driver_settings.insert(key.to_string(), value);
            }
            "log_level" => {
                let level = get_uint(file, key, v)? as u32;
                if !(1..=4).contains(&level) {
                    return Err(format!(
                        "{file}: log_level must be between 1 and 4, not {level}"
                    ));
                }
                self.log_level = level;
            }
            "log_filters" => self.log_filters = get_string(file, key, v)?,
            "log_outputs" => self.log_outputs = get_string(file, key, v)?,
            "max_anonymous_clients" => {
                self.max_anonymous_clients = get_uint(file, key, v)? as usize
            }
            "unix_sock_admin_perms" => self.admin.sock_perms = get_perms(file, key, v)?,
            "admin_min_workers" => self.admin.min_workers = get_uint(file, key, v)? as usize,
            "admin_max_workers" => self.admin.max_workers = get_uint(file, key, v)? as usize,
            "admin_max_clients" => self.admin.max_clients = get_uint(file, key, v)? as usize,
            "admin_max_queued_clients" => self.admin.max_queued_clients = get_u32(file, key, v)?,
            "admin_max_client_requests" => {
                self.admin.max_client_requests = get_uint(file, key, v)?.max(1) as usize
            }
            "admin_keepalive_interval" => {
                self.admin.keepalive_interval = get_int(file, key, v)? as i32
            }
            "admin_keepalive_count" => self.admin.keepalive_count = get_uint(file, key, v)? as u32,
            "state_dir" => self.state_dir = get_string(file, key, v)?.into(),
            "default_uri" => self.default_uri = get_string(file, key, v)?,
            k if DRIVER_PREFIXES.iter().any(|p| k.starts_with(p)) => {
                let text = match v {
                    Value::Int(n) => n.to_string(),
                    // A list (qemu.conf's `cgroup_controllers`) as one string.
                    Value::List(_) => crate::tls::string_list(file, key, v)?.join(","),
                    _ => get_string(file, key, v)?,
                };
                self.driver_settings.insert(key.to_string(), text);
            }
            k if KNOWN_IGNORED.contains(&k) => {}
            k if self.tls.apply(file, k, v)? => {}
            other => self.unknown_keys.push(other.to_string()),
        }
        Ok(())
    }

    /// What every driver is started with (`virStateInitialize`).
    pub fn state_config(&self) -> rvirt::StateConfig {
        rvirt::StateConfig {
            // Validated when the file was read.
            host_uuid: self
                .host_uuid
                .as_deref()
                .and_then(rvirt_util::uuid::parse)
                .map(|u| *u.as_bytes()),
            settings: self.driver_settings.clone(),
        }
    }

    /// libvirtd refuses what it cannot honour before it listens; so do we,
    /// for the features rvirtd does not have yet.
    pub fn check_supported(&self, listen: bool) -> Result<(), String> {
        let mut auths = vec![
            ("auth_unix_rw", &self.auth_unix_rw),
            ("auth_unix_ro", &self.auth_unix_ro),
        ];
        if listen && self.tls.listen_tls {
            self.tls.check_supported()?;
            auths.push(("auth_tls", &self.tls.auth_tls));
        }
        for (key, value) in auths {
            if value == "polkit" {
                return Err(polkit_refused(key));
            }
        }
        if listen && self.listen_tcp && self.auth_tcp != "none" {
            if self.auth_tcp == "polkit" {
                return Err(polkit_refused("auth_tcp"));
            }
            let origin = if self.auth_tcp_explicit {
                ""
            } else {
                " (libvirtd's default)"
            };
            // libvirt requires SSF >= tcp_min_ssf (56 at least) on plain
            // TCP: a mechanism with a security layer wrapping every packet.
            return Err(format!(
                "auth_tcp = \"sasl\"{origin} needs a SASL security layer (SSF >= 56, as \
                 GSSAPI or DIGEST-MD5 with auth-conf negotiate on plain TCP), which rvirtd \
                 does not build: use SASL over TLS (auth_tls = \"sasl\") or a UNIX socket, \
                 or set auth_tcp = \"none\""
            ));
        }
        if self.min_workers > self.max_workers {
            // virNetServerNew → virThreadPoolNew refuses it.
            return Err(format!(
                "min_workers ({}) must not exceed max_workers ({})",
                self.min_workers, self.max_workers
            ));
        }
        if self.tcp_port.parse::<u16>().is_err() {
            return Err(format!("invalid tcp_port '{}'", self.tcp_port));
        }
        Ok(())
    }

    /// The tracing level for `log_level` (1 debug, 2 info, 3 warning, 4 error).
    pub fn tracing_level(&self) -> tracing::Level {
        match self.log_level {
            1 => tracing::Level::DEBUG,
            2 => tracing::Level::INFO,
            3 => tracing::Level::WARN,
            _ => tracing::Level::ERROR,
        }
    }
}

/// `remoteConfigGetAuth`: "none", "sasl" or "polkit".
fn get_auth(file: &str, key: &str, v: &Value) -> Result<String, String> {
    let s = get_string(file, key, v)?;
    match s.as_str() {
        "none" | "sasl" | "polkit" => Ok(s),
        _ => Err(format!("{file}: {key}: unsupported auth {s}")),
    }
}

/// polkit asks the system's polkit daemon over D-Bus
/// (org.libvirt.unix.manage); rvirtd has no polkit client, so it refuses
/// the setting rather than let every client fail at connect time.
fn polkit_refused(key: &str) -> String {
    format!(
        "{key} = \"polkit\" is not available: rvirtd does not build polkit \
         authentication (no polkit daemon is consulted); use \"none\" with \
         unix_sock_group/unix_sock_*_perms, or \"sasl\""
    )
}

pub(crate) fn get_string(file: &str, key: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(format!("{file}: expected a string for '{key}' parameter")),
    }
}

fn get_int(file: &str, key: &str, v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(format!(
            "{file}: expected a signed integer for '{key}' parameter"
        )),
    }
}

fn get_uint(file: &str, key: &str, v: &Value) -> Result<u64, String> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as u64),
        Value::Int(_) => Err(format!(
            "{file}: value for '{key}' parameter must be in range 0:{}",
            u32::MAX
        )),
        _ => Err(format!(
            "{file}: expected an unsigned integer for '{key}' parameter"
        )),
    }
}

/// `virConfGetValueUInt`: an unsigned integer that fits 32 bits.
fn get_u32(file: &str, key: &str, v: &Value) -> Result<u32, String> {
    u32::try_from(get_uint(file, key, v)?).map_err(|_| {
        format!(
            "{file}: value for '{key}' parameter must be in range 0:{}",
            u32::MAX
        )
    })
}

pub(crate) fn get_bool(file: &str, key: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        Value::Int(_) => Err(format!(
            "{file}: value for '{key}' parameter must be 0 or 1"
        )),
        _ => Err(format!("{file}: expected a bool for '{key}' parameter")),
    }
}

fn get_perms(file: &str, key: &str, v: &Value) -> Result<u32, String> {
    let s = get_string(file, key, v)?;
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .ok()
        .filter(|p| *p <= 0o7777)
        .ok_or_else(|| format!("{file}: Failed to parse mode '{s}' for '{key}'"))
}

/// Parse the whole text into `(key, value)` pairs, in order.
pub fn parse(filename: &str, text: &str) -> Result<Vec<(String, Value)>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
        filename,
    };
    let mut out = Vec::new();
    loop {
        p.skip_blank_and_comments();
        if p.pos >= p.s.len() {
            return Ok(out);
        }
        let key = p.ident()?;
        p.skip_spaces();
        if p.peek() != Some(b'=') {
            return Err(p.error("expecting an assignment"));
        }
        p.pos += 1;
        p.skip_spaces();
        let value = p.value()?;
        p.skip_spaces();
        match p.peek() {
            None | Some(b'\n') | Some(b'#') | Some(b';') => {
                if p.peek() == Some(b';') {
                    p.pos += 1;
                }
            }
            _ => return Err(p.error("expecting a separator")),
        }
        out.push((key, value));
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
    filename: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn error(&self, what: &str) -> String {
        format!(
            "configuration file syntax error: {}:{}: {}",
            self.filename, self.line, what
        )
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) {
        while !matches!(self.peek(), None | Some(b'\n')) {
            self.pos += 1;
        }
    }

    /// Spaces, newlines and comments (inside lists, between entries).
    fn skip_blank_and_comments(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some(b'#') => self.skip_comment(),
                _ => return,
            }
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
            _ => return Err(self.error("expecting a name")),
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        {
            self.pos += 1;
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'"' | b'\'') => self.string().map(Value::Str),
            Some(b'[') => self.list(),
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' => self.int(),
            _ => Err(self.error("expecting a value")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == quote {
                let s = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                self.pos += 1;
                return Ok(s);
            }
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
        Err(self.error("unterminated string"))
    }

    fn int(&mut self) -> Result<Value, String> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos])
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .map(Value::Int)
            .ok_or_else(|| self.error("invalid number"))
    }

    fn list(&mut self) -> Result<Value, String> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_blank_and_comments();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::List(items));
                }
                None => return Err(self.error("list is not closed with ]")),
                _ => {}
            }
            items.push(self.value()?);
            self.skip_blank_and_comments();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                _ => return Err(self.error("expecting a separator in list")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libvirtd_conf_syntax() {
        let text = r#"
# comment
listen_tcp = 1
tcp_port = "16600"   # trailing comment
listen_addr = "127.0.0.1"
auth_tcp = "none"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
access_drivers = [ "polkit",
                   "nop", ]
max_clients = 20
keepalive_interval = -1
frobnicate = 3
log_level = 1
state_dir = '/tmp/x'
test_relocation_listen = "127.0.0.1:49300"
qemu_cgroup_controllers = [ "cpu", "memory" ]
"#;
        let c = Config::from_text("t.conf", text).unwrap();
        assert_eq!(
            c.driver_settings
                .get("qemu_cgroup_controllers")
                .map(String::as_str),
            Some("cpu,memory")
        );
        assert_eq!(
            c.driver_settings
                .get("test_relocation_listen")
                .map(String::as_str),
            Some("127.0.0.1:49300")
        );
        assert!(c.listen_tcp);
        assert_eq!(c.tcp_port, "16600");
        assert_eq!(c.listen_addr.as_deref(), Some("127.0.0.1"));
        assert_eq!(c.unix_sock_rw_perms, 0o770);
        assert_eq!(c.max_clients, 20);
        assert_eq!(c.keepalive_interval, -1);
        assert_eq!(c.unknown_keys, vec!["frobnicate".to_string()]);
        assert_eq!(c.tracing_level(), tracing::Level::DEBUG);
        assert_eq!(c.state_dir, PathBuf::from("/tmp/x"));
        assert!(c.check_supported(true).is_ok());
    }

    #[test]
    fn type_and_syntax_errors() {
        let e = Config::from_text("t.conf", "listen_tcp = \"yes\"\n").unwrap_err();
        assert_eq!(e, "t.conf: expected a bool for 'listen_tcp' parameter");
        let e = Config::from_text("t.conf", "tcp_port = 5\n").unwrap_err();
        assert_eq!(e, "t.conf: expected a string for 'tcp_port' parameter");
        let e = Config::from_text("t.conf", "\nmax_clients = \n").unwrap_err();
        assert!(e.contains("t.conf:2: expecting a value"), "{e}");
        assert!(Config::from_text("t.conf", "a = [1, 2").is_err());
        assert!(Config::from_text("t.conf", "a = \"x").is_err());
        assert!(Config::from_text("t.conf", "= 1").is_err());
        assert!(Config::from_text("t.conf", "a = 1 b").is_err());
    }

    #[test]
    fn processing_controls_have_libvirtds_names_and_defaults() {
        let c = Config::default();
        assert_eq!(
            (
                c.max_clients,
                c.max_queued_clients,
                c.min_workers,
                c.max_workers
            ),
            (5000, 1000, 5, 20)
        );
        assert_eq!((c.prio_workers, c.max_client_requests), (5, 5));
        assert_eq!((c.keepalive_interval, c.keepalive_count), (5, 5));
        let text = "max_queued_clients = 7\nprio_workers = 0\nmin_workers = 1\n\
                    max_workers = 2\nmax_client_queued_bytes = 65536\nmax_client_streams = 3\n";
        let c = Config::from_text("t", text).unwrap();
        assert!(c.unknown_keys.is_empty());
        assert_eq!((c.max_queued_clients, c.prio_workers), (7, 0));
        assert_eq!((c.min_workers, c.max_workers), (1, 2));
        assert_eq!(
            (c.max_client_queued_bytes, c.max_client_streams),
            (65536, 3)
        );
        let e = Config::from_text("t", "max_workers = 0").unwrap_err();
        assert_eq!(e, "'max_workers' must be greater than 0");
        let c = Config::from_text("t", "min_workers = 30").unwrap();
        assert!(c
            .check_supported(false)
            .unwrap_err()
            .contains("min_workers"));
    }

    #[test]
    fn refuses_unsupported_features() {
        let c = Config::from_text(
            "t",
            "auth_tls = \"sasl\"\nlisten_tcp = 1\nauth_tcp=\"none\"",
        )
        .unwrap();
        assert!(c.check_supported(false).is_ok());
        assert!(c.check_supported(true).is_ok());
        let c = Config::from_text(
            "t",
            "tls_allowed_dn_list = [\"C=GB,CN=*\", \"CN=x\"]\nkey_file = \"/k\"",
        )
        .unwrap();
        assert_eq!(
            c.tls.allowed_dn_list.as_deref(),
            Some(&["C=GB,CN=*".to_string(), "CN=x".into()][..])
        );
        assert_eq!(c.tls.key_file.as_deref(), Some(std::path::Path::new("/k")));
        assert!(c.tls.listen_tls);
        let e = Config::from_text("t", "tls_allowed_dn_list = \"CN=x\"").unwrap_err();
        assert_eq!(
            e,
            "t: expected a string list for 'tls_allowed_dn_list' parameter"
        );
        let c = Config::from_text("t", "listen_tcp = 1").unwrap();
        assert!(c.check_supported(true).unwrap_err().contains("sasl"));
        let c = Config::from_text("t", "auth_unix_rw = \"polkit\"").unwrap();
        assert!(c.check_supported(false).unwrap_err().contains("polkit"));
    }
}
