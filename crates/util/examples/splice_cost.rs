//! CPU per MiB of a tunnel pump's data path, copied versus spliced (issue
//! 15's profile: the kernel copies were 74% of the tunnel's CPU). Not a
//! test. Each case moves SIZE MiB (default 1024) through one pump thread,
//! with a writer and a drain thread on the other ends, and prints the
//! pump thread's own CPU time (user + system) per MiB:
//!
//! - source: QEMU's socket (UNIX) -> 256 KiB RPC packets on TCP: read into
//!   a buffer and writev(header, data), versus splice into a pipe, send
//!   the header with MSG_MORE, splice the pipe into the TCP socket.
//! - destination: TCP -> QEMU's socket: read each packet's data into a
//!   buffer and write it, versus splice it through a pipe.
//!
//!   cargo run --release -p rvirt-util --example splice_cost

use rvirt_util::splice::{self, Pipe};
use std::io::{IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

const PACKET: usize = 262_120;
const HEADER: usize = 28;

/// CPU seconds of this thread, and of the whole process (the writer and
/// the drain too: the cost moved to QEMU's side, if any).
fn cpu() -> (f64, f64) {
    let get = |who| {
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage fills the struct it is given.
        unsafe { libc::getrusage(who, &mut ru) };
        let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        t(ru.ru_utime) + t(ru.ru_stime)
    };
    (get(libc::RUSAGE_THREAD), get(libc::RUSAGE_SELF))
}

fn used(since: (f64, f64)) -> (f64, f64) {
    let now = cpu();
    (now.0 - since.0, now.1 - since.1)
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}

/// Feed `bytes` into `w` from a thread, in 32 KiB writes as QEMU does.
fn feeder(mut w: impl Write + Send + 'static, bytes: usize, framed: bool) {
    std::thread::spawn(move || {
        let buf = vec![0x5au8; if framed { PACKET } else { 32 * 1024 }];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(buf.len());
            if framed {
                w.write_all(&[0u8; HEADER]).unwrap();
            }
            w.write_all(&buf[..n]).unwrap();
            left -= n;
        }
    });
}

/// Read and drop everything `r` gets, from a thread.
fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0;
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n as u64,
            }
        }
    })
}

fn source(bytes: usize, spliced: bool) -> (f64, f64) {
    let (qemu, ours) = UnixStream::pair().unwrap();
    let (tcp, peer) = tcp_pair();
    feeder(qemu, bytes, false);
    let sink = drain(peer);
    let cpu = cpu();
    let mut buf = vec![0u8; PACKET];
    let mut pipe = Pipe::new().unwrap();
    let head = [0u8; HEADER];
    loop {
        if spliced {
            let n = pipe.fill(ours.as_fd(), PACKET).unwrap();
            if n == 0 {
                break;
            }
            splice::send_more(tcp.as_fd(), &head).unwrap();
            pipe.drain(tcp.as_fd()).unwrap();
        } else {
            let n = (&ours).read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            let mut parts = [IoSlice::new(&head), IoSlice::new(&buf[..n])];
            let mut parts = &mut parts[..];
            while !parts.is_empty() {
                let w = (&tcp).write_vectored(parts).unwrap();
                IoSlice::advance_slices(&mut parts, w);
            }
        }
    }
    drop(tcp);
    sink.join().unwrap();
    used(cpu)
}

fn destination(bytes: usize, spliced: bool) -> (f64, f64) {
    let (peer, tcp) = tcp_pair();
    let (ours, qemu) = UnixStream::pair().unwrap();
    feeder(peer, bytes, true);
    let sink = drain(qemu);
    let cpu = cpu();
    let mut buf = vec![0u8; PACKET];
    let mut pipe = Pipe::new().unwrap();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(PACKET);
        let mut head = [0u8; HEADER];
        (&tcp).read_exact(&mut head).unwrap();
        if spliced {
            splice::transfer(&mut pipe, tcp.as_fd(), ours.as_fd(), n, &|| false).unwrap();
        } else {
            (&tcp).read_exact(&mut buf[..n]).unwrap();
            (&ours).write_all(&buf[..n]).unwrap();
        }
        left -= n;
    }
    drop(ours);
    sink.join().unwrap();
    used(cpu)
}

fn main() {
    let mib: usize = std::env::var("SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let bytes = mib << 20;
    println!("CPU us per MiB (pump thread / whole process), {mib} MiB per case, medians of 5");
    type Case = fn(usize, bool) -> (f64, f64);
    for (name, f) in [("source", source as Case), ("destination", destination)] {
        let mut runs: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..5 {
            for (i, spliced) in [false, true].into_iter().enumerate() {
                let (t, p) = f(bytes, spliced);
                runs[i].push((t / mib as f64 * 1e6, p / mib as f64 * 1e6));
            }
        }
        let med = |v: &[(f64, f64)], k: fn(&(f64, f64)) -> f64| {
            let mut x: Vec<f64> = v.iter().map(k).collect();
            x.sort_by(f64::total_cmp);
            x[x.len() / 2]
        };
        let show = |v: &[(f64, f64)]| format!("{:5.0} / {:5.0}", med(v, |r| r.0), med(v, |r| r.1));
        println!(
            "{name:12} copied {}   spliced {}",
            show(&runs[0]),
            show(&runs[1])
        );
    }
}
