//! A TCP proxy the fault tests cut mid-transfer.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A TCP proxy in front of 127.0.0.1:`target`; [`Proxy::cut`] drops every
/// connection through it and stops accepting, as a broken network would.
pub struct Proxy {
    pub port: u16,
    addr: std::net::SocketAddr,
    cut: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    bytes: Arc<AtomicU64>,
}

impl Proxy {
    pub fn start(target: u16) -> Proxy {
        Proxy::on("127.0.0.1:0", target)
    }

    /// A proxy listening on `listen` (e.g. "127.0.0.2:PORT": a second
    /// loopback address, so it can take the port a daemon listens on at
    /// 127.0.0.1).
    pub fn on(listen: &str, target: u16) -> Proxy {
        let listener = TcpListener::bind(listen).expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let port = addr.port();
        let cut = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let bytes = Arc::new(AtomicU64::new(0));
        let (c, st, b) = (cut.clone(), streams.clone(), bytes.clone());
        std::thread::spawn(move || {
            for incoming in listener.incoming() {
                if c.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = incoming else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut list = st.lock().expect("proxy lock");
                for s in [&client, &server] {
                    if let Ok(s) = s.try_clone() {
                        list.push(s);
                    }
                }
                drop(list);
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) else {
                        continue;
                    };
                    let b = b.clone();
                    std::thread::spawn(move || pump(from, to, b));
                }
            }
        });
        Proxy {
            port,
            addr,
            cut,
            streams,
            bytes,
        }
    }

    /// Bytes forwarded so far, both ways.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Wait until more than `n` bytes went through.
    pub fn wait_bytes(&self, n: u64, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.bytes() > n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.streams.lock().expect("proxy lock").drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wake the accept loop so it sees the cut and closes the listener.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, bytes: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
