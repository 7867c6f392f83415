//! libvirt connection URIs: `driver[+transport]://[user@][host][:port]/path[?params]`.
//!
//! Parsed the way libvirt's `virURIParse` sees them (it wraps libxml2's RFC 3986
//! parser): query parameters keep their order, `%XX` escapes are decoded, an
//! IPv6 host is written in brackets.

use crate::error::{Error, ErrorCode, ErrorDomain, Result};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Uri {
    /// The scheme as written, e.g. `test+tcp`.
    pub scheme: String,
    pub user: Option<String>,
    pub server: Option<String>,
    pub port: Option<u16>,
    pub path: String,
    pub params: Vec<(String, String)>,
    pub fragment: Option<String>,
}

impl Uri {
    pub fn parse(text: &str) -> Result<Uri> {
        let bad = |why: &str| {
            Error::new(
                ErrorDomain::URI,
                ErrorCode::INTERNAL_ERROR,
                format!("Unable to parse URI {text}: {why}"),
            )
        };
        let (scheme, rest) = text.split_once(':').ok_or_else(|| bad("no scheme"))?;
        if scheme.is_empty()
            || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(bad("invalid scheme"));
        }
        let (rest, fragment) = match rest.split_once('#') {
            Some((r, f)) => (r, Some(percent_decode(f))),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut uri = Uri {
            scheme: scheme.to_string(),
            fragment,
            ..Uri::default()
        };
        if let Some(after) = rest.strip_prefix("//") {
            let (authority, path) = match after.find('/') {
                Some(pos) => (&after[..pos], &after[pos..]),
                None => (after, ""),
            };
            uri.path = percent_decode(path);
            uri.parse_authority(authority).map_err(|why| bad(&why))?;
        } else {
            uri.path = percent_decode(rest);
        }
        if let Some(query) = query {
            uri.params = query
                .split(['&', ';'])
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (percent_decode(k), percent_decode(v)),
                    None => (percent_decode(p), String::new()),
                })
                .collect();
        }
        Ok(uri)
    }

    fn parse_authority(&mut self, authority: &str) -> std::result::Result<(), String> {
        let hostport = match authority.rsplit_once('@') {
            Some((user, hp)) => {
                self.user = Some(percent_decode(user));
                hp
            }
            None => authority,
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, tail) = v6.split_once(']').ok_or("unterminated IPv6 address")?;
            (host, tail.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if !host.is_empty() {
            self.server = Some(percent_decode(host));
        }
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            self.port = Some(port.parse().map_err(|_| format!("invalid port '{port}'"))?);
        }
        Ok(())
    }

    /// The hypervisor driver part of the scheme (`test` in `test+tcp`).
    pub fn driver(&self) -> &str {
        self.scheme.split('+').next().unwrap_or("")
    }

    /// The transport part of the scheme (`tcp` in `test+tcp`), if any.
    pub fn transport(&self) -> Option<&str> {
        self.scheme.split_once('+').map(|(_, t)| t)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the URI names a remote host (and so needs the remote driver).
    pub fn is_remote(&self) -> bool {
        self.transport().is_some() || self.server.is_some()
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if self.server.is_some() || self.user.is_some() || self.path.starts_with('/') {
            f.write_str("//")?;
            if let Some(user) = &self.user {
                write!(f, "{}@", percent_encode(user))?;
            }
            if let Some(server) = &self.server {
                if server.contains(':') {
                    write!(f, "[{server}]")?;
                } else {
                    f.write_str(server)?;
                }
            }
            if let Some(port) = self.port {
                write!(f, ":{port}")?;
            }
        }
        f.write_str(&self.path)?;
        for (i, (k, v)) in self.params.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{}={}", percent_encode(k), percent_encode(v))?;
        }
        if let Some(fragment) = &self.fragment {
            write!(f, "#{fragment}")?;
        }
        Ok(())
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_test_uri() {
        let u = Uri::parse("test:///default").unwrap();
        assert_eq!(u.scheme, "test");
        assert_eq!(u.server, None);
        assert_eq!(u.path, "/default");
        assert!(!u.is_remote());
        assert_eq!(u.to_string(), "test:///default");
    }

    #[test]
    fn remote_uri_with_everything() {
        let u = Uri::parse("qemu+tcp://root@[::1]:16509/system?no_verify=1&socket=/a%20b").unwrap();
        assert_eq!(u.driver(), "qemu");
        assert_eq!(u.transport(), Some("tcp"));
        assert_eq!(u.user.as_deref(), Some("root"));
        assert_eq!(u.server.as_deref(), Some("::1"));
        assert_eq!(u.port, Some(16509));
        assert_eq!(u.path, "/system");
        assert_eq!(u.param("socket"), Some("/a b"));
        assert_eq!(
            u.to_string(),
            "qemu+tcp://root@[::1]:16509/system?no_verify=1&socket=/a%20b"
        );
    }

    #[test]
    fn bad_uris_are_errors() {
        for bad in [
            "",
            "://x",
            "1abc:///",
            "test://h:notaport/x",
            "test://[::1/x",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,60}") {
            let _ = Uri::parse(&s);
        }
    }
}
