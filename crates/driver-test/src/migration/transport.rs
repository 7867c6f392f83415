//! The byte pipes a memory stream runs over: a TCP connection (native and
//! direct migration) or an `rvirt::Stream` (tunnelled), and the `tcp://`
//! URIs the destination hands out.

use super::wire;
use rvirt_hypervisor::job::Interrupt;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::io::Write;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// Where the source writes the memory stream.
pub trait Sink: Send {
    fn send(&mut self, data: &[u8]) -> Result<()>;
    /// Everything is sent: wait for the destination's verdict.
    fn finish(&mut self) -> Result<()>;
    /// Tell the destination the migration failed.
    fn abort(&mut self, reason: &str);
    /// What makes a blocked `send` or `finish` return from another thread
    /// (for `virDomainAbortJob`); `None` when the transport cannot.
    fn interrupter(&self) -> Option<Interrupt> {
        None
    }
}

/// Shut a socket down from another thread: a write blocked on a destination
/// that stopped reading, or a read waiting for its verdict, fails at once.
pub fn shutdown_interrupt(conn: &TcpStream) -> Option<Interrupt> {
    let c = conn.try_clone().ok()?;
    Some(Arc::new(move || {
        let _ = c.shutdown(Shutdown::Both);
    }))
}

fn io_err(what: &str, e: &std::io::Error) -> Error {
    Error::system(ErrorDomain::TEST, what, e)
}

pub struct TcpSink {
    pub conn: TcpStream,
}

impl TcpSink {
    pub fn connect(uri: &str) -> Result<TcpSink> {
        let (host, port) = parse_tcp_uri(uri)?;
        let port = port.ok_or_else(|| {
            Error::invalid_arg(
                ErrorDomain::TEST,
                format!("missing port in migration URI '{uri}'"),
            )
        })?;
        let addrs: Vec<_> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| {
                io_err(
                    &format!("unable to resolve address '{host}' service '{port}'"),
                    &e,
                )
            })?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, Duration::from_secs(10)) {
                Ok(conn) => {
                    let _ = conn.set_nodelay(true);
                    return Ok(TcpSink { conn });
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| std::io::Error::other("no address"));
        Err(io_err(
            &format!("unable to connect to server at '{host}:{port}'"),
            &e,
        ))
    }
}

impl Sink for TcpSink {
    fn send(&mut self, data: &[u8]) -> Result<()> {
        let Err(e) = self.conn.write_all(data) else {
            return Ok(());
        };
        // The destination may have refused the stream and said why.
        let _ = self.conn.set_read_timeout(Some(Duration::from_secs(2)));
        match wire::read_verdict(&mut self.conn) {
            Err(v)
                if v.code != ErrorCode::SYSTEM_ERROR && !v.message.contains("did not answer") =>
            {
                Err(v)
            }
            _ => Err(io_err("unable to write to migration stream", &e)),
        }
    }
    fn finish(&mut self) -> Result<()> {
        self.conn
            .flush()
            .map_err(|e| io_err("unable to write to migration stream", &e))?;
        let _ = self.conn.set_read_timeout(Some(Duration::from_secs(120)));
        wire::read_verdict(&mut self.conn)
    }
    fn abort(&mut self, reason: &str) {
        let msg = wire::Message::Abort {
            reason: reason.to_string(),
        };
        let _ = self.conn.write_all(&msg.to_bytes());
        let _ = self.conn.shutdown(Shutdown::Both);
    }
    fn interrupter(&self) -> Option<Interrupt> {
        shutdown_interrupt(&self.conn)
    }
}

/// The memory stream over a `virStream` (tunnelled migration).
pub struct StreamSink {
    pub stream: rvirt::Stream,
}

impl Sink for StreamSink {
    fn send(&mut self, data: &[u8]) -> Result<()> {
        self.stream.send(data)
    }
    fn finish(&mut self) -> Result<()> {
        self.stream.finish()
    }
    fn abort(&mut self, reason: &str) {
        let msg = wire::Message::Abort {
            reason: reason.to_string(),
        };
        let _ = self.stream.send(&msg.to_bytes());
        let _ = self.stream.abort();
    }
}

/// `tcp://HOST[:PORT]` (also `tcp:HOST:PORT`, which libvirt accepts) →
/// host and optional port.
pub fn parse_tcp_uri(uri: &str) -> Result<(String, Option<u16>)> {
    let bad = || {
        Error::new(
            ErrorDomain::TEST,
            ErrorCode::INVALID_ARG,
            format!("unable to parse URI {uri}"),
        )
    };
    let rest = if let Some(r) = uri.strip_prefix("tcp://") {
        r
    } else if let Some(r) = uri.strip_prefix("tcp:") {
        r
    } else {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::ARGUMENT_UNSUPPORTED,
            format!("unsupported scheme in migration URI {uri}"),
        ));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, tail) = r.split_once(']').ok_or_else(bad)?;
        (h.to_string(), tail.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (rest.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
        None => None,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_uris() {
        assert_eq!(
            parse_tcp_uri("tcp://h:49152").unwrap(),
            ("h".to_string(), Some(49152))
        );
        assert_eq!(
            parse_tcp_uri("tcp:h:1").unwrap(),
            ("h".to_string(), Some(1))
        );
        assert_eq!(parse_tcp_uri("tcp://h").unwrap(), ("h".to_string(), None));
        assert_eq!(
            parse_tcp_uri("tcp://[::1]:5").unwrap(),
            ("::1".to_string(), Some(5))
        );
        assert!(parse_tcp_uri("tcp://h:x").is_err());
        assert!(parse_tcp_uri("tcp://").is_err());
        assert_eq!(
            parse_tcp_uri("rdma://h").unwrap_err().code,
            ErrorCode::ARGUMENT_UNSUPPORTED
        );
    }
}
