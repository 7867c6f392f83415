//! Mutations of one input, chosen by the generator: the byte-level ones of
//! AFL and libFuzzer (bit flips, interesting integers, insert, delete,
//! duplicate, splice with another corpus entry) plus XDR-aware ones, since
//! every RPC input is a sequence of big-endian 4-byte words where a length
//! or count precedes its data: rewriting a plausible length to a boundary,
//! or growing and shrinking the data behind a length while keeping it
//! consistent, reaches the decoder paths that random bytes rarely do.

use crate::rng::Rng;

/// Inputs never grow past this, so one run's memory stays bounded.
pub const MAX_INPUT: usize = 64 * 1024;

/// Boundaries for 32-bit fields: libvirt's string and array limits
/// (`VIR_NET_MESSAGE_STRING_MAX`, the 16 MiB message limit) and the usual
/// sign and overflow edges.
const INTERESTING_32: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x1_0000,
    4_194_304,
    4_194_305,
    16 * 1024 * 1024,
    16 * 1024 * 1024 + 1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// Apply 1 to 4 mutations to `input`; `other` is another corpus entry to
/// splice with.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..1 + rng.below(4) {
        mutate_once(rng, input, other);
    }
    input.truncate(MAX_INPUT);
}

fn mutate_once(rng: &mut Rng, b: &mut Vec<u8>, other: &[u8]) {
    match rng.below(12) {
        0 | 1 if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
        }
        2 if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] = *rng.pick(&[
                0u8, 1, 0x7f, 0x80, 0xff, b'<', b'>', b'&', b'\'', b'"', b'/',
            ]);
        }
        3 => {
            let i = rng.below(b.len() + 1);
            let n = 1 + rng.below(8);
            for _ in 0..n {
                b.insert(i, rng.next_u64() as u8);
            }
        }
        4 if !b.is_empty() => {
            let i = rng.below(b.len());
            let n = (1 + rng.below(16)).min(b.len() - i);
            b.drain(i..i + n);
        }
        5 if !b.is_empty() => {
            // Duplicate a chunk: repeated elements, attributes, array items.
            let i = rng.below(b.len());
            let n = (1 + rng.below(64)).min(b.len() - i);
            let chunk = b[i..i + n].to_vec();
            let at = rng.below(b.len() + 1);
            b.splice(at..at, chunk);
        }
        6 if !other.is_empty() => {
            let keep = rng.below(b.len() + 1);
            let from = rng.below(other.len());
            b.truncate(keep);
            b.extend_from_slice(&other[from..]);
        }
        7 if b.len() >= 4 => {
            let i = rng.below(b.len() - 3);
            let v = *rng.pick(INTERESTING_32);
            b[i..i + 4].copy_from_slice(&v.to_be_bytes());
        }
        8 | 9 => xdr_length(rng, b),
        10 if b.len() >= 4 => {
            // Small arithmetic on an aligned word (counts, ids, flags).
            let i = aligned(rng, b.len());
            let w = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            let d = 1 + rng.below(16) as u32;
            let w = if rng.chance(2) {
                w.wrapping_add(d)
            } else {
                w.wrapping_sub(d)
            };
            b[i..i + 4].copy_from_slice(&w.to_be_bytes());
        }
        _ if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] = rng.next_u64() as u8;
        }
        _ => b.push(rng.next_u64() as u8),
    }
}

/// An aligned word offset in a buffer of `len >= 4` bytes.
fn aligned(rng: &mut Rng, len: usize) -> usize {
    rng.below(len / 4) * 4
}

/// Find an aligned word that could be a length (no larger than what
/// follows it) and either set it to a boundary or resize its data to match
/// a new value.
fn xdr_length(rng: &mut Rng, b: &mut Vec<u8>) {
    if b.len() < 8 {
        return;
    }
    let candidates: Vec<usize> = (0..b.len() / 4 - 1)
        .map(|w| w * 4)
        .filter(|&i| {
            let v = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
            v > 0 && v <= b.len() - i - 4
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let i = *rng.pick(&candidates);
    let v = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
    let rest = b.len() - i - 4;
    let new = match rng.below(4) {
        // Boundaries around the data actually present.
        0 => *rng.pick(&[0, v - 1, v + 1, rest, rest + 1]) as u32,
        1 => *rng.pick(INTERESTING_32),
        // Grow the data by whole words, keeping the length right.
        2 => {
            let words = 1 + rng.below(4);
            let at = i + 4 + v.div_ceil(4) * 4;
            let at = at.min(b.len());
            let fill = vec![rng.next_u64() as u8; words * 4];
            b.splice(at..at, fill);
            (v + words * 4) as u32
        }
        // Shrink it the same way.
        _ => {
            let words = v / 4;
            if words == 0 {
                return;
            }
            let drop = 4 * (1 + rng.below(words));
            // The padded end of the data, which may lie past a cut input.
            let end = (i + 4 + v.div_ceil(4) * 4).min(b.len());
            let start = end - drop;
            b.drain(start..start + drop);
            (v - drop) as u32
        }
    };
    b[i..i + 4].copy_from_slice(&new.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_deterministic_and_bounded() {
        let seed: Vec<u8> = (0..200u8).collect();
        let run = |s| {
            let mut rng = Rng::new(s);
            let mut b = seed.clone();
            for _ in 0..10_000 {
                mutate(&mut rng, &mut b, &seed);
            }
            b
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).len() <= MAX_INPUT);
    }

    #[test]
    fn length_mutation_keeps_a_string_consistent() {
        // XDR string "abcd" then a trailing word.
        let base = vec![0, 0, 0, 4, b'a', b'b', b'c', b'd', 0, 0, 0, 9];
        let mut rng = Rng::new(1);
        let mut grew = false;
        for _ in 0..200 {
            let mut b = base.clone();
            xdr_length(&mut rng, &mut b);
            let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            if b.len() > base.len() {
                grew = true;
                assert_eq!(v, b.len() - 8, "length follows the data");
            }
        }
        assert!(grew);
    }

    /// A length whose padded data runs past the end (a cut input): the
    /// shrink used to drain past the end and panic the fuzzer itself.
    #[test]
    fn length_mutation_of_unpadded_tail_is_safe() {
        for seed in 0..2000 {
            let mut rng = Rng::new(seed);
            let mut b = vec![0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7];
            xdr_length(&mut rng, &mut b);
            assert!(b.len() >= 4);
        }
    }
}
