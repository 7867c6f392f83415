use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Default)]
struct Recorder {
    data: Mutex<Vec<u8>>,
    sends: AtomicUsize,
    finished: AtomicBool,
    aborted: AtomicBool,
    fail_after: Option<usize>,
}

impl StreamOut for Recorder {
    fn send(&self, data: &[u8]) -> Result<()> {
        let n = self.sends.fetch_add(1, Ordering::SeqCst);
        if self.fail_after.is_some_and(|max| n >= max) {
            return Err(Error::new(
                ErrorDomain::STREAMS,
                ErrorCode::SYSTEM_ERROR,
                "peer went away",
            ));
        }
        self.data.lock().extend_from_slice(data);
        Ok(())
    }
    fn finish(&self) -> Result<()> {
        self.finished.store(true, Ordering::SeqCst);
        Ok(())
    }
    fn abort(&self) -> Result<()> {
        self.aborted.store(true, Ordering::SeqCst);
        Ok(())
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn pump_out_moves_everything_in_large_sends_then_finishes() {
    let src = pattern(5 * BUFFER + 123);
    let out = Recorder::default();
    let n = pump_out(&mut &src[..], &out).unwrap();
    assert_eq!(n, src.len() as u64);
    assert_eq!(*out.data.lock(), src);
    assert_eq!(
        out.sends.load(Ordering::SeqCst),
        6,
        "one send per full buffer"
    );
    assert!(out.finished.load(Ordering::SeqCst));
}

#[test]
fn pump_out_aborts_the_stream_when_a_send_fails() {
    let src = pattern(3 * BUFFER);
    let out = Recorder {
        fail_after: Some(1),
        ..Recorder::default()
    };
    let e = pump_out(&mut &src[..], &out).unwrap_err();
    assert_eq!(e.message, "peer went away");
    assert!(out.aborted.load(Ordering::SeqCst));
    assert!(!out.finished.load(Ordering::SeqCst));
}

#[derive(Default)]
struct End {
    finished: AtomicBool,
    aborted: AtomicBool,
}

impl TunnelEnd for End {
    fn finished(&self) -> Result<()> {
        self.finished.store(true, Ordering::SeqCst);
        Ok(())
    }
    fn aborted(&self) {
        self.aborted.store(true, Ordering::SeqCst);
    }
    fn refusal(&self) -> Error {
        Error::new(ErrorDomain::STREAMS, ErrorCode::OPERATION_FAILED, "refused")
    }
}

#[test]
fn pipe_delivers_in_order_with_a_slow_reader() {
    let end = Arc::new(End::default());
    let (tunnel, mut reader) = TunnelIn::pipe(end.clone());
    let src = pattern(40 * 256 * 1024 + 17);
    let got = std::thread::scope(|s| {
        let r = s.spawn(move || {
            let mut got = Vec::new();
            let mut chunk = vec![0u8; 100_000];
            loop {
                let n = reader.read(&mut chunk).unwrap();
                if n == 0 {
                    break got;
                }
                got.extend_from_slice(&chunk[..n]);
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        });
        for packet in src.chunks(256 * 1024) {
            tunnel.send(packet).unwrap();
            // Back-pressure: never more than the ring in flight.
            let ring = match &tunnel.sink {
                Sink::Ring(s) => s.ring.lock().full.len(),
                Sink::Writer(_) => unreachable!(),
            };
            assert!(ring <= RING, "{ring} buffers queued");
        }
        tunnel.finish().unwrap();
        r.join().unwrap()
    });
    assert_eq!(got, src);
    assert!(end.finished.load(Ordering::SeqCst));
}

#[test]
fn a_gone_reader_refuses_data_and_abort_ends_the_reader() {
    let end = Arc::new(End::default());
    let (tunnel, reader) = TunnelIn::pipe(end.clone());
    drop(reader);
    assert_eq!(
        tunnel.send(b"x").unwrap_err().message,
        "operation failed: refused"
    );

    let (tunnel, mut reader) = TunnelIn::pipe(end.clone());
    tunnel.send(b"abc").unwrap();
    tunnel.abort().unwrap();
    assert!(end.aborted.load(Ordering::SeqCst));
    let mut buf = [0u8; 8];
    assert_eq!(
        reader.read(&mut buf).unwrap(),
        3,
        "what came before the abort"
    );
    assert_eq!(reader.read(&mut buf).unwrap(), 0);
    assert!(tunnel.send(b"late").is_err());
}

#[test]
fn to_writer_writes_each_packet_through() {
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let end = Arc::new(End::default());
    let tunnel = TunnelIn::to_writer(Box::new(Shared(seen.clone())), end.clone());
    tunnel.send(b"hello ").unwrap();
    tunnel.send(b"qemu").unwrap();
    tunnel.finish().unwrap();
    assert_eq!(&*seen.lock(), b"hello qemu");
    assert!(end.finished.load(Ordering::SeqCst));
    assert!(tunnel.send(b"more").is_err());
}

#[test]
fn a_socket_sink_takes_data_spliced_and_sent() {
    let end = Arc::new(End::default());
    let (ours, mut qemu) = UnixStream::pair().unwrap();
    let tunnel = TunnelIn::to_socket(ours, end.clone());
    let (mut client, from) = UnixStream::pair().unwrap();
    from.set_nonblocking(true).unwrap();
    let data = pattern(300 * 1024);
    let feed = data.clone();
    let feeder = std::thread::spawn(move || {
        client.write_all(&feed).unwrap();
        client.write_all(b"next").unwrap();
        client
    });
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        qemu.read_to_end(&mut got).unwrap();
        got
    });
    tunnel.send(b"head").unwrap();
    let res = tunnel.send_exact_from_fd(from.as_fd(), data.len(), &|| false);
    assert!(matches!(res, Some(Ok(()))), "{res:?}");
    let _client = feeder.join().unwrap();
    tunnel.finish().unwrap();
    assert_eq!(reader.join().unwrap(), [&b"head"[..], &data].concat());
    // What followed the data stays in the client's socket.
    from.set_nonblocking(false).unwrap();
    let mut next = [0u8; 4];
    (&from).read_exact(&mut next).unwrap();
    assert_eq!(&next, b"next");
    // Closed, the sink leaves the bytes to the caller (whose send fails).
    assert!(tunnel
        .send_exact_from_fd(from.as_fd(), 1, &|| false)
        .is_none());
}
