//! Packet framing: rvirt-rpc's `FrameReader` (client side) and the daemon's
//! `MessageReader` (rvirtd::framing) over the same bytes, fed in chunks
//! whose size the input's first byte picks. Both must agree on where the
//! messages are, and each packet read must survive decoding its error.

use super::{mix, Target};
use rvirt_rpc::remote::domain::DomainLookupByNameArgs;
use rvirt_rpc::remote::{self, Procedure};
use rvirt_rpc::{keepalive, FrameReader};
use rvirtd::framing::MessageReader;

pub struct Framer {
    rt: tokio::runtime::Runtime,
}

impl Framer {
    pub fn new() -> Framer {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        Framer { rt }
    }
}

/// Valid framed messages: a call, a keepalive ping, two calls back to back.
pub fn framed_seeds() -> Vec<Vec<u8>> {
    let lookup = DomainLookupByNameArgs {
        name: "test".into(),
    };
    let call = remote::call(Procedure::DomainLookupByName, 7, &lookup)
        .map(|p| p.to_bytes().expect("frame"))
        .expect("encode");
    let ping = keepalive::ping().to_bytes().expect("frame");
    let open = remote::call(Procedure::ConnectGetType, 1, &())
        .map(|p| p.to_bytes().expect("frame"))
        .expect("encode");
    vec![call.clone(), ping.clone(), [open, call, ping].concat()]
}

impl Target for Framer {
    fn name(&self) -> &'static str {
        "framer"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        framed_seeds()
            .into_iter()
            .map(|f| [vec![7u8], f].concat())
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        let Some((&chunk, bytes)) = input.split_first() else {
            return 0;
        };
        let chunk = usize::from(chunk).max(1);
        let mut sig = 1;
        let mut client_msgs = Vec::new();
        let mut r = FrameReader::new();
        'outer: for part in bytes.chunks(chunk) {
            r.push(part);
            loop {
                match r.next_packet() {
                    Ok(Some(p)) => {
                        sig = mix(sig, p.header.proc_ as u64);
                        let _ = p.error();
                        client_msgs.push(p.to_bytes().expect("a read packet re-encodes"));
                    }
                    Ok(None) => break,
                    Err(_) => {
                        sig = mix(sig, 0xbad);
                        break 'outer;
                    }
                }
            }
        }
        let daemon_msgs = self.rt.block_on(read_all(bytes));
        // The daemon reader may read on past a frame the client reader could
        // not decode as a packet; up to there they must agree.
        for (c, d) in client_msgs.iter().zip(&daemon_msgs) {
            assert_eq!(&c[4..], &d[..], "framers disagree");
        }
        mix(sig, daemon_msgs.len() as u64)
    }
}

/// Every message the daemon's reader finds, up to its first error.
async fn read_all(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = MessageReader::new(bytes);
    let mut out = Vec::new();
    while let Ok(Some(msg)) = reader.read_message().await {
        out.push(msg);
    }
    out
}
