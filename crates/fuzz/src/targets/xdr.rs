//! The XDR decoders: every type of the REMOTE, QEMU and ADMIN programs
//! decodes the input without panicking, and whatever decodes must encode again and
//! decode to the same value (decoders and encoders agree).

use super::{mix, Target};
use rvirt_rpc::{RemoteError, XdrDecode, XdrEncode};

pub struct Xdr;

/// Decode as `T`; on success check the round trip. Returns whether it
/// decoded.
fn check<T: XdrDecode + XdrEncode + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> bool {
    let Ok(value) = T::from_xdr(bytes) else {
        return false;
    };
    let again = value.to_xdr().expect("a decoded value encodes");
    let back = T::from_xdr(&again).expect("an encoded value decodes");
    // Compared as bytes, not values: a NaN double in typed parameters is
    // unequal to itself yet round-trips exactly.
    let twice = back.to_xdr().expect("a decoded value encodes");
    assert_eq!(twice, again, "{} round trip", std::any::type_name::<T>());
    true
}

macro_rules! decode_all {
    ($bytes:expr; $($t:ty),* $(,)?) => {{
        let mut sig = 0u64;
        $( sig = mix(sig, u64::from(check::<$t>($bytes))); )*
        sig
    }};
}

/// Every type of the REMOTE, QEMU and ADMIN programs (the lists rvirt-rpc
/// generates with them), and the framing's own.
fn decode_everything(bytes: &[u8]) -> u64 {
    let framing = decode_all!(bytes; RemoteError, rvirt_rpc::packet::StreamHole);
    let remote = rvirt_rpc::remote_each_type!(decode_all, bytes);
    let qemu = rvirt_rpc::qemu_each_type!(decode_all, bytes);
    let admin = rvirt_rpc::admin_each_type!(decode_all, bytes);
    mix(mix(mix(framing, remote), qemu), admin)
}

impl Target for Xdr {
    fn name(&self) -> &'static str {
        "xdr"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = super::framer::framed_seeds()
            .iter()
            .filter_map(|f| f.get(28..).map(<[u8]>::to_vec))
            .collect();
        seeds.extend(super::dispatch::call_payloads());
        seeds
    }

    fn run(&mut self, input: &[u8]) -> u64 {
        mix(decode_everything(input), input.len().min(64) as u64)
    }
}
