//! The stream's splicing send, against a fake daemon on a socketpair.

use super::*;
use crate::client::{Client, Sock};
use rvirt_rpc::remote::Procedure;
use rvirt_rpc::{FrameReader, MessageStatus, Packet};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

fn recv(sock: &mut UnixStream, frames: &mut FrameReader) -> Option<Packet> {
    loop {
        if let Some(p) = frames.next_packet().unwrap() {
            return Some(p);
        }
        let mut buf = [0u8; 65536];
        let n = sock.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        frames.push(&buf[..n]);
    }
}

#[test]
fn send_from_fd_splices_packets_no_larger_than_libvirts() {
    let (a, mut daemon) = UnixStream::pair().unwrap();
    let client = Client::new(Sock::Unix(a), Box::new(|_| {})).unwrap();
    let server = std::thread::spawn(move || {
        let mut frames = FrameReader::new();
        let call = recv(&mut daemon, &mut frames).unwrap();
        daemon
            .write_all(
                &Packet::reply(&call.header, &())
                    .unwrap()
                    .to_bytes()
                    .unwrap(),
            )
            .unwrap();
        // Data until the finish, which is confirmed.
        let (mut data, mut sizes) = (Vec::new(), Vec::new());
        loop {
            let p = recv(&mut daemon, &mut frames).unwrap();
            assert!(StreamId::of(&call.header).matches(&p.header));
            if p.header.status == MessageStatus::Ok {
                let ok = StreamId::of(&call.header).finish();
                daemon.write_all(&ok.to_bytes().unwrap()).unwrap();
                return (data, sizes);
            }
            sizes.push(p.payload.len());
            data.extend_from_slice(&p.payload);
        }
    });
    let ((), st) = client
        .call_with_stream::<_, ()>(Procedure::DomainMigratePrepareTunnel3Params, &())
        .unwrap();
    let (mut qemu, ours) = UnixStream::pair().unwrap();
    let src: Vec<u8> = (0..(3 << 20) + 17).map(|i| (i % 241) as u8).collect();
    let feed = src.clone();
    let writer = std::thread::spawn(move || qemu.write_all(&feed).unwrap());
    let mut total = 0;
    loop {
        match st.send_from_fd(ours.as_fd(), 1 << 20) {
            Some(Ok(0)) => break,
            Some(Ok(n)) => total += n,
            other => panic!("{:?}", other.map(|r| r.map_err(|e| e.to_string()))),
        }
    }
    writer.join().unwrap();
    st.finish().unwrap();
    let (data, sizes) = server.join().unwrap();
    assert_eq!(total, src.len());
    assert_eq!(data, src);
    assert!(
        sizes.iter().all(|&n| n > 0 && n <= STREAM_DATA_MAX),
        "{sizes:?}"
    );
}
