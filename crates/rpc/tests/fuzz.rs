//! Property tests: arbitrary bytes never make the frame reader or any
//! procedure's decoder panic, and encoded values decode to themselves.

use proptest::prelude::*;
use rvirt_rpc::remote::NonnullDomain;
use rvirt_rpc::remote::*;
use rvirt_rpc::{FrameReader, Packet, RemoteError, XdrDecode, XdrEncode};
use rvirt_util::{TypedParamValue, TypedParams};

macro_rules! decode_all {
    ($bytes:expr; $($t:ty),* $(,)?) => {
        $( let _ = <$t>::from_xdr($bytes); )*
    };
}

/// Every type of the REMOTE, QEMU and ADMIN programs (generated lists),
/// and the framing's own.
fn decode_everything(bytes: &[u8]) {
    decode_all!(bytes; RemoteError, rvirt_rpc::packet::StreamHole);
    rvirt_rpc::remote_each_type!(decode_all, bytes);
    rvirt_rpc::qemu_each_type!(decode_all, bytes);
    rvirt_rpc::admin_each_type!(decode_all, bytes);
}

/// Bytes that look like XDR more often than uniform noise does: small
/// big-endian words (plausible lengths, counts, booleans) mixed with noise.
fn xdrish() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            (0u32..80).prop_map(|w| w.to_be_bytes().to_vec()),
            any::<u32>().prop_map(|w| w.to_be_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 0..9),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoders_never_panic(bytes in xdrish()) {
        decode_everything(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_noise(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes);
    }

    #[test]
    fn frame_reader_never_panics(bytes in xdrish(), chunk in 1usize..64) {
        let mut r = FrameReader::new();
        for part in bytes.chunks(chunk) {
            r.push(part);
            while let Ok(Some(p)) = r.next_packet() {
                let _ = p.error();
                decode_everything(&p.payload);
            }
        }
        let _ = Packet::from_bytes(&bytes);
        let _ = Packet::from_message(&bytes);
    }

    #[test]
    fn frames_round_trip(proc_ in any::<i32>(), serial in any::<u32>(), payload in prop::collection::vec(any::<u8>(), 0..200)) {
        let p = Packet::new(rvirt_rpc::Header::call(0x2000_8086, 1, proc_, serial), payload);
        let bytes = p.to_bytes().unwrap();
        let mut r = FrameReader::new();
        r.push(&bytes);
        prop_assert_eq!(r.next_packet().unwrap(), Some(p));
    }

    #[test]
    fn migration_args_round_trip(
        name in "[a-z]{0,12}",
        cookie in prop::collection::vec(any::<u8>(), 0..40),
        uri in prop::option::of("[a-z:/0-9]{0,20}"),
        bw in any::<u64>(),
        i in any::<i32>(),
        d in any::<f64>().prop_filter("NaN compares unequal", |d| !d.is_nan()),
        flags in any::<u32>(),
    ) {
        let params = TypedParams::new()
            .with("bandwidth", TypedParamValue::ULLong(bw))
            .with("dname", TypedParamValue::String(name.clone()))
            .with("i", TypedParamValue::Int(i))
            .with("d", TypedParamValue::Double(d))
            .with("b", TypedParamValue::Boolean(i % 2 == 0));
        let args = DomainMigratePerform3ParamsArgs {
            dom: NonnullDomain { name, uuid: [7; 16], id: i },
            dconnuri: uri,
            params,
            cookie_in: cookie,
            flags,
        };
        let bytes = args.to_xdr().unwrap();
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(DomainMigratePerform3ParamsArgs::from_xdr(&bytes).unwrap(), args);
    }
}
