//! The KEEPALIVE program (`src/rpc/virkeepaliveprotocol.x`): PING and PONG
//! messages (type `MESSAGE`, serial 0, empty payload) that either side may
//! send; the peer answers a PING with a PONG.

use crate::packet::{Header, MessageStatus, MessageType, Packet};

/// `KEEPALIVE_PROGRAM` ("keep" in ASCII).
pub const PROGRAM: u32 = 0x6b65_6570;
/// `KEEPALIVE_PROTOCOL_VERSION`.
pub const PROTOCOL_VERSION: u32 = 1;

rvirt_util::wire_enum! {
    /// `keepalive_procedure`.
    pub enum Procedure {
        Ping = 1,
        Pong,
    }
}

fn message(proc_: Procedure) -> Packet {
    Packet::new(
        Header::message(PROGRAM, PROTOCOL_VERSION, proc_ as i32),
        Vec::new(),
    )
}

pub fn ping() -> Packet {
    message(Procedure::Ping)
}

pub fn pong() -> Packet {
    message(Procedure::Pong)
}

/// If `packet` is a keepalive message, which one.
pub fn classify(packet: &Packet) -> Option<Procedure> {
    let h = &packet.header;
    if h.prog != PROGRAM || h.vers != PROTOCOL_VERSION || h.type_ != MessageType::Message {
        return None;
    }
    if h.status != MessageStatus::Ok {
        return None;
    }
    Procedure::from_i32(h.proc_)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_bytes() {
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 28,
            0x6b, 0x65, 0x65, 0x70,
            0, 0, 0, 1,
            0, 0, 0, 1,
            0, 0, 0, 2,
            0, 0, 0, 0,
            0, 0, 0, 0,
        ];
        assert_eq!(ping().to_bytes().unwrap(), want);
        let pong = Packet::from_bytes(&pong().to_bytes().unwrap()).unwrap();
        assert_eq!(classify(&pong), Some(Procedure::Pong));
        assert_eq!(
            classify(&Packet::call(PROGRAM, 1, 1, 1, &()).unwrap()),
            None
        );
    }
}
