//! Free TCP ports on 127.0.0.1.

use std::net::TcpListener;

/// A port nothing listens on right now. Another process may take it before
/// the caller binds it, so callers that start daemons retry on failure.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_free_port_can_be_bound() {
        let port = super::free_port();
        assert_ne!(port, 0);
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind the free port");
    }
}
