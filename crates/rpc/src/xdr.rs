//! XDR (RFC 4506) as libvirt's rpcgen-generated code speaks it.
//!
//! Why not a crates.io XDR crate: libvirt's protocol puts a *per-field*
//! maximum on every string, opaque and array (`string name<REMOTE_STRING_MAX>`),
//! and its decoders refuse anything longer. `serde-xdr` maps Rust types through
//! serde's data model, which has no place for such bounds (nor for fixed-length
//! opaque vs. variable arrays of 4-byte `char`s, which libvirt uses for
//! `remote_node_get_info_ret.model` and security labels). `xdr-codec` expects
//! structs generated from `.x` files by `xdrgen` at build time, and we do not
//! ship libvirt's `.x` files. So this module is a small hand-written codec:
//! big-endian, 4-byte aligned, every length checked against both its declared
//! limit and the bytes that remain *before* anything is allocated, and no
//! decoding path that can panic.
//!
//! Structs are described declaratively with [`xdr_struct!`](crate::xdr_struct):
//! a field written `name: Type` uses [`XdrEncode`]/[`XdrDecode`]; a field
//! written `name: Type [MAX]` uses [`XdrBounded`] with that limit (strings,
//! optional strings, variable opaque `Vec<u8>`, arrays `Vec<T>`, typed
//! parameter lists).

use thiserror::Error;

/// Why an XDR stream could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum XdrError {
    #[error("XDR data truncated: needed {needed} more bytes, {remaining} left")]
    Truncated { needed: usize, remaining: usize },
    #[error("XDR length {len} exceeds the limit of {max}")]
    TooLong { len: usize, max: usize },
    #[error("XDR boolean has invalid value {0}")]
    InvalidBool(u32),
    #[error("XDR union discriminant {0} is not valid here")]
    InvalidDiscriminant(i32),
    #[error("XDR string is not valid UTF-8")]
    InvalidUtf8,
    #[error("{0} unexpected trailing bytes after XDR data")]
    TrailingBytes(usize),
}

pub type XdrResult<T> = Result<T, XdrError>;

/// `REMOTE_STRING_MAX` / `VIR_NET_MESSAGE_STRING_MAX` (libvirt 9.0): the
/// bound of `remote_nonnull_string`, used when a `String` is encoded without
/// an explicit bound.
pub const STRING_MAX: usize = 4_194_304;

/// Number of zero bytes that pad `len` to a multiple of four.
pub const fn pad_len(len: usize) -> usize {
    (4 - (len % 4)) % 4
}

/// Writes XDR into a growing byte buffer.
#[derive(Clone, Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Continue writing after existing bytes (e.g. a packet header).
    pub fn from_vec(buf: Vec<u8>) -> Encoder {
        Encoder { buf }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn put_u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    pub fn put_bool(&mut self, v: bool) {
        self.put_u32(v as u32);
    }

    /// Fixed-length opaque: the bytes, then zero padding; no length word.
    pub fn put_fixed_opaque(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.buf
            .extend(std::iter::repeat_n(0u8, pad_len(data.len())));
    }

    /// Variable-length opaque `opaque x<max>`: length word, bytes, padding.
    pub fn put_opaque(&mut self, data: &[u8], max: usize) -> XdrResult<()> {
        let len = check_len(data.len(), max)?;
        self.put_u32(len);
        self.put_fixed_opaque(data);
        Ok(())
    }

    /// `string x<max>`: like variable opaque.
    pub fn put_string(&mut self, s: &str, max: usize) -> XdrResult<()> {
        self.put_opaque(s.as_bytes(), max)
    }

    /// An array's element count, checked against its limit.
    pub fn put_count(&mut self, count: usize, max: usize) -> XdrResult<()> {
        let len = check_len(count, max)?;
        self.put_u32(len);
        Ok(())
    }
}

fn check_len(len: usize, max: usize) -> XdrResult<u32> {
    if len > max || len > u32::MAX as usize {
        return Err(XdrError::TooLong { len, max });
    }
    Ok(len as u32)
}

/// Reads XDR from a byte slice; never panics, never over-allocates.
#[derive(Clone, Debug)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Decoder<'a> {
        Decoder { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not consumed yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Fail unless every byte was consumed.
    pub fn finish(&self) -> XdrResult<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(XdrError::TrailingBytes(n)),
        }
    }

    fn take(&mut self, n: usize) -> XdrResult<&'a [u8]> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(XdrError::Truncated {
                needed: n,
                remaining,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn take4(&mut self) -> XdrResult<[u8; 4]> {
        let b = self.take(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    fn take8(&mut self) -> XdrResult<[u8; 8]> {
        let b = self.take(8)?;
        let mut out = [0u8; 8];
        out.copy_from_slice(b);
        Ok(out)
    }

    pub fn get_u32(&mut self) -> XdrResult<u32> {
        Ok(u32::from_be_bytes(self.take4()?))
    }

    pub fn get_i32(&mut self) -> XdrResult<i32> {
        Ok(i32::from_be_bytes(self.take4()?))
    }

    pub fn get_u64(&mut self) -> XdrResult<u64> {
        Ok(u64::from_be_bytes(self.take8()?))
    }

    pub fn get_i64(&mut self) -> XdrResult<i64> {
        Ok(i64::from_be_bytes(self.take8()?))
    }

    pub fn get_f64(&mut self) -> XdrResult<f64> {
        Ok(f64::from_bits(self.get_u64()?))
    }

    pub fn get_bool(&mut self) -> XdrResult<bool> {
        match self.get_u32()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(XdrError::InvalidBool(v)),
        }
    }

    /// Fixed-length opaque of `len` bytes plus padding (padding content is
    /// not checked, as glibc's `xdr_opaque` does not check it either).
    pub fn get_fixed_opaque(&mut self, len: usize) -> XdrResult<&'a [u8]> {
        let total = len
            .checked_add(pad_len(len))
            .ok_or(XdrError::TooLong { len, max: len })?;
        let data = self.take(total)?;
        Ok(&data[..len])
    }

    /// A length word checked against `max` and against the input left, with
    /// `unit` the smallest encoded size of one element.
    pub fn get_count(&mut self, max: usize, unit: usize) -> XdrResult<usize> {
        let len = self.get_u32()? as usize;
        if len > max {
            return Err(XdrError::TooLong { len, max });
        }
        let needed = len.saturating_mul(unit);
        if needed > self.remaining() {
            return Err(XdrError::Truncated {
                needed,
                remaining: self.remaining(),
            });
        }
        Ok(len)
    }

    pub fn get_opaque(&mut self, max: usize) -> XdrResult<&'a [u8]> {
        let len = self.get_count(max, 1)?;
        self.get_fixed_opaque(len)
    }

    pub fn get_string(&mut self, max: usize) -> XdrResult<String> {
        let bytes = self.get_opaque(max)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| XdrError::InvalidUtf8)
    }
}

/// A value with a fixed XDR shape.
pub trait XdrEncode {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()>;

    /// This value alone, as bytes.
    fn to_xdr(&self) -> XdrResult<Vec<u8>> {
        let mut enc = Encoder::new();
        self.encode(&mut enc)?;
        Ok(enc.into_bytes())
    }
}

pub trait XdrDecode: Sized {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self>;

    /// Decode from exactly `bytes`: trailing data is an error.
    fn from_xdr(bytes: &[u8]) -> XdrResult<Self> {
        let mut dec = Decoder::new(bytes);
        let v = Self::decode(&mut dec)?;
        dec.finish()?;
        Ok(v)
    }
}

/// A value whose XDR declaration carries a maximum (`<max>`): strings,
/// variable opaque, variable arrays.
pub trait XdrBounded: Sized {
    fn encode_bounded(&self, enc: &mut Encoder, max: usize) -> XdrResult<()>;
    fn decode_bounded(dec: &mut Decoder<'_>, max: usize) -> XdrResult<Self>;
}

macro_rules! prim {
    ($t:ty, $put:ident, $get:ident) => {
        impl XdrEncode for $t {
            fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
                enc.$put(*self);
                Ok(())
            }
        }
        impl XdrDecode for $t {
            fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
                dec.$get()
            }
        }
    };
}

prim!(u32, put_u32, get_u32);
prim!(i32, put_i32, get_i32);
prim!(u64, put_u64, get_u64);
prim!(i64, put_i64, get_i64);
prim!(f64, put_f64, get_f64);
prim!(bool, put_bool, get_bool);

/// XDR `char` (rpcgen's `xdr_char`): a full 4-byte int on the wire, truncated
/// on decode as glibc does. Used for libvirt's `char model[32]` and
/// `char label<...>` fields.
impl XdrEncode for i8 {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        enc.put_i32(*self as i32);
        Ok(())
    }
}

impl XdrDecode for i8 {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
        Ok(dec.get_i32()? as i8)
    }
}

/// The other types rpcgen widens to four bytes (`short`, `unsigned short`)
/// and `float`: truncated on decode as glibc does. (`unsigned char` has no
/// impl, as `Vec<u8>` is opaque; the generated code writes it inline.)
macro_rules! narrow {
    ($t:ty, $wide:ty, $put:ident, $get:ident) => {
        impl XdrEncode for $t {
            fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
                enc.$put(*self as $wide);
                Ok(())
            }
        }
        impl XdrDecode for $t {
            fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
                Ok(dec.$get()? as $t)
            }
        }
    };
}

narrow!(i16, i32, put_i32, get_i32);
narrow!(u16, u32, put_u32, get_u32);

impl XdrEncode for f32 {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        enc.put_u32(self.to_bits());
        Ok(())
    }
}

impl XdrDecode for f32 {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
        Ok(f32::from_bits(dec.get_u32()?))
    }
}

/// `void`.
impl XdrEncode for () {
    fn encode(&self, _enc: &mut Encoder) -> XdrResult<()> {
        Ok(())
    }
}

impl XdrDecode for () {
    fn decode(_dec: &mut Decoder<'_>) -> XdrResult<Self> {
        Ok(())
    }
}

/// Fixed-length opaque `opaque x[N]` (e.g. UUIDs).
impl<const N: usize> XdrEncode for [u8; N] {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        enc.put_fixed_opaque(self);
        Ok(())
    }
}

impl<const N: usize> XdrDecode for [u8; N] {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
        let mut out = [0u8; N];
        out.copy_from_slice(dec.get_fixed_opaque(N)?);
        Ok(out)
    }
}

/// Fixed-length array `T x[N]` of 4-byte `char`s.
impl<const N: usize> XdrEncode for [i8; N] {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        for c in self {
            c.encode(enc)?;
        }
        Ok(())
    }
}

impl<const N: usize> XdrDecode for [i8; N] {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
        let mut out = [0i8; N];
        for c in out.iter_mut() {
            *c = i8::decode(dec)?;
        }
        Ok(out)
    }
}

/// Optional data `T *x`: a boolean, then the value when true.
impl<T: XdrEncode> XdrEncode for Option<T> {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        match self {
            None => {
                enc.put_bool(false);
                Ok(())
            }
            Some(v) => {
                enc.put_bool(true);
                v.encode(enc)
            }
        }
    }
}

impl<T: XdrDecode> XdrDecode for Option<T> {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
        if dec.get_bool()? {
            Ok(Some(T::decode(dec)?))
        } else {
            Ok(None)
        }
    }
}

impl XdrBounded for String {
    fn encode_bounded(&self, enc: &mut Encoder, max: usize) -> XdrResult<()> {
        enc.put_string(self, max)
    }
    fn decode_bounded(dec: &mut Decoder<'_>, max: usize) -> XdrResult<Self> {
        dec.get_string(max)
    }
}

/// Variable-length opaque `opaque x<max>`.
impl XdrBounded for Vec<u8> {
    fn encode_bounded(&self, enc: &mut Encoder, max: usize) -> XdrResult<()> {
        enc.put_opaque(self, max)
    }
    fn decode_bounded(dec: &mut Decoder<'_>, max: usize) -> XdrResult<Self> {
        Ok(dec.get_opaque(max)?.to_vec())
    }
}

/// Variable-length array `T x<max>`.
impl<T: XdrEncode + XdrDecode> XdrBounded for Vec<T> {
    fn encode_bounded(&self, enc: &mut Encoder, max: usize) -> XdrResult<()> {
        enc.put_count(self.len(), max)?;
        for v in self {
            v.encode(enc)?;
        }
        Ok(())
    }
    fn decode_bounded(dec: &mut Decoder<'_>, max: usize) -> XdrResult<Self> {
        // Every XDR item takes at least 4 bytes, so the count is also bounded
        // by what is left: no allocation larger than the input itself.
        let n = dec.get_count(max, 4)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(dec)?);
        }
        Ok(out)
    }
}

/// Unbounded use of a string (an element of `remote_nonnull_string x<N>`,
/// `remote_nonnull_string *x`): libvirt's `remote_nonnull_string` limit,
/// [`STRING_MAX`], applies.
impl XdrEncode for String {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        enc.put_string(self, STRING_MAX)
    }
}

impl XdrDecode for String {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
        dec.get_string(STRING_MAX)
    }
}

/// Optional string with a bound: `string<max> *x`.
impl XdrBounded for Option<String> {
    fn encode_bounded(&self, enc: &mut Encoder, max: usize) -> XdrResult<()> {
        match self {
            None => {
                enc.put_bool(false);
                Ok(())
            }
            Some(s) => {
                enc.put_bool(true);
                enc.put_string(s, max)
            }
        }
    }
    fn decode_bounded(dec: &mut Decoder<'_>, max: usize) -> XdrResult<Self> {
        if dec.get_bool()? {
            Ok(Some(dec.get_string(max)?))
        } else {
            Ok(None)
        }
    }
}

/// Define a struct and its field-by-field XDR encoding.
///
/// ```
/// rvirt_rpc::xdr_struct! {
///     /// doc
///     pub struct Example {
///         pub id: i32,
///         pub name: String [64],
///         pub tags: Vec<u32> [8],
///     }
/// }
/// ```
#[macro_export]
macro_rules! xdr_struct {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty $([$max:expr])? ),* $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::xdr::XdrEncode for $name {
            #[allow(unused_variables)]
            fn encode(&self, enc: &mut $crate::xdr::Encoder) -> $crate::xdr::XdrResult<()> {
                $( $crate::xdr_struct!(@enc enc, &self.$field $(, $max)?); )*
                Ok(())
            }
        }

        impl $crate::xdr::XdrDecode for $name {
            #[allow(unused_variables)]
            fn decode(dec: &mut $crate::xdr::Decoder<'_>) -> $crate::xdr::XdrResult<Self> {
                Ok($name {
                    $( $field: $crate::xdr_struct!(@dec dec, $ty $(, $max)?), )*
                })
            }
        }
    )*};
    (@enc $enc:ident, $v:expr) => {
        $crate::xdr::XdrEncode::encode($v, $enc)?
    };
    (@enc $enc:ident, $v:expr, $max:expr) => {
        $crate::xdr::XdrBounded::encode_bounded($v, $enc, ($max) as usize)?
    };
    (@dec $dec:ident, $ty:ty) => {
        <$ty as $crate::xdr::XdrDecode>::decode($dec)?
    };
    (@dec $dec:ident, $ty:ty, $max:expr) => {
        <$ty as $crate::xdr::XdrBounded>::decode_bounded($dec, ($max) as usize)?
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc<T: XdrEncode>(v: &T) -> Vec<u8> {
        v.to_xdr().unwrap()
    }

    #[test]
    fn integers() {
        assert_eq!(enc(&1u32), [0, 0, 0, 1]);
        assert_eq!(enc(&-1i32), [0xff; 4]);
        assert_eq!(enc(&-2i32), [0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(enc(&0x0102030405060708u64), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(enc(&-1i64), [0xff; 8]);
        assert_eq!(
            u32::from_xdr(&[0xde, 0xad, 0xbe, 0xef]).unwrap(),
            0xdeadbeef
        );
        assert_eq!(i32::from_xdr(&[0x80, 0, 0, 0]).unwrap(), i32::MIN);
        assert_eq!(i64::from_xdr(&[0xff; 8]).unwrap(), -1);
        assert_eq!(u64::from_xdr(&[0, 0, 0, 1, 0, 0, 0, 0]).unwrap(), 1 << 32);
    }

    #[test]
    fn doubles() {
        assert_eq!(enc(&1.0f64), [0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(enc(&-2.5f64), [0xc0, 0x04, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f64::from_xdr(&[0x3f, 0xf0, 0, 0, 0, 0, 0, 0]).unwrap(), 1.0);
    }

    #[test]
    fn booleans() {
        assert_eq!(enc(&true), [0, 0, 0, 1]);
        assert_eq!(enc(&false), [0, 0, 0, 0]);
        assert!(bool::from_xdr(&[0, 0, 0, 1]).unwrap());
        assert_eq!(bool::from_xdr(&[0, 0, 0, 2]), Err(XdrError::InvalidBool(2)));
    }

    #[test]
    fn chars_are_four_bytes() {
        assert_eq!(enc(&(b'x' as i8)), [0, 0, 0, 0x78]);
        assert_eq!(enc(&-1i8), [0xff; 4]);
        let model: [i8; 2] = [b'a' as i8, 0];
        assert_eq!(enc(&model), [0, 0, 0, 0x61, 0, 0, 0, 0]);
        assert_eq!(
            <[i8; 2]>::from_xdr(&[0, 0, 0, 0x61, 0, 0, 0, 0]).unwrap(),
            model
        );
    }

    #[test]
    fn fixed_opaque() {
        assert_eq!(enc(&[1u8, 2, 3]), [1, 2, 3, 0]);
        assert_eq!(enc(&[7u8; 16]).len(), 16);
        assert_eq!(<[u8; 3]>::from_xdr(&[1, 2, 3, 0]).unwrap(), [1, 2, 3]);
        assert!(matches!(
            <[u8; 3]>::from_xdr(&[1, 2, 3]),
            Err(XdrError::Truncated { .. })
        ));
    }

    #[test]
    fn var_opaque_and_strings() {
        let mut e = Encoder::new();
        e.put_opaque(&[9, 8, 7, 6, 5], 10).unwrap();
        assert_eq!(e.as_bytes(), [0, 0, 0, 5, 9, 8, 7, 6, 5, 0, 0, 0]);
        let mut e = Encoder::new();
        e.put_string("abcd", 4).unwrap();
        assert_eq!(e.as_bytes(), [0, 0, 0, 4, b'a', b'b', b'c', b'd']);
        let mut e = Encoder::new();
        e.put_string("", 4).unwrap();
        assert_eq!(e.as_bytes(), [0, 0, 0, 0]);
        assert_eq!(
            Encoder::new().put_string("abcde", 4),
            Err(XdrError::TooLong { len: 5, max: 4 })
        );

        let mut d = Decoder::new(&[0, 0, 0, 3, b'a', b'b', b'c', 0]);
        assert_eq!(d.get_string(3).unwrap(), "abc");
        d.finish().unwrap();
        // Over the declared limit.
        let mut d = Decoder::new(&[0, 0, 0, 3, b'a', b'b', b'c', 0]);
        assert_eq!(d.get_string(2), Err(XdrError::TooLong { len: 3, max: 2 }));
        // Length word beyond the input.
        let mut d = Decoder::new(&[0x7f, 0xff, 0xff, 0xff, b'a']);
        assert!(matches!(
            d.get_string(usize::MAX),
            Err(XdrError::Truncated { .. })
        ));
        // "Negative" (>= 2^31) length.
        let mut d = Decoder::new(&[0xff, 0xff, 0xff, 0xfe]);
        assert!(matches!(
            d.get_opaque(1 << 20),
            Err(XdrError::TooLong { .. })
        ));
        // Missing padding.
        let mut d = Decoder::new(&[0, 0, 0, 1, b'a']);
        assert!(matches!(d.get_string(8), Err(XdrError::Truncated { .. })));
        // Bad UTF-8.
        let mut d = Decoder::new(&[0, 0, 0, 1, 0xff, 0, 0, 0]);
        assert_eq!(d.get_string(8), Err(XdrError::InvalidUtf8));
    }

    #[test]
    fn optional() {
        assert_eq!(enc(&None::<u32>), [0, 0, 0, 0]);
        assert_eq!(enc(&Some(5u32)), [0, 0, 0, 1, 0, 0, 0, 5]);
        let mut e = Encoder::new();
        Some("ab".to_string()).encode_bounded(&mut e, 8).unwrap();
        assert_eq!(e.as_bytes(), [0, 0, 0, 1, 0, 0, 0, 2, b'a', b'b', 0, 0]);
        let mut d = Decoder::new(&[0, 0, 0, 0]);
        assert_eq!(Option::<String>::decode_bounded(&mut d, 8).unwrap(), None);
        assert_eq!(
            Option::<u32>::from_xdr(&[0, 0, 0, 1, 0, 0, 0, 5]),
            Ok(Some(5))
        );
        assert_eq!(
            Option::<u32>::from_xdr(&[0, 0, 0, 3]),
            Err(XdrError::InvalidBool(3))
        );
    }

    #[test]
    fn arrays() {
        let mut e = Encoder::new();
        vec![1i32, -1].encode_bounded(&mut e, 2).unwrap();
        assert_eq!(
            e.as_bytes(),
            [0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]
        );
        assert!(vec![1i32, 2, 3]
            .encode_bounded(&mut Encoder::new(), 2)
            .is_err());
        let mut d = Decoder::new(&[0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(Vec::<i32>::decode_bounded(&mut d, 2).unwrap(), vec![1, -1]);
        let mut d = Decoder::new(&[0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
        assert!(Vec::<i32>::decode_bounded(&mut d, 1).is_err());
        // A huge count with little data fails before allocating.
        let mut d = Decoder::new(&[0, 0x10, 0, 0, 0, 0, 0, 1]);
        assert!(matches!(
            Vec::<u64>::decode_bounded(&mut d, usize::MAX),
            Err(XdrError::Truncated { .. })
        ));
        let mut e = Encoder::new();
        let names: Vec<String> = vec!["a".into(), "bc".into()];
        names.encode_bounded(&mut e, 4).unwrap();
        assert_eq!(
            e.as_bytes(),
            [0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 0, 0, 0, 2, b'b', b'c', 0, 0]
        );
        let mut d = Decoder::new(e.as_bytes());
        assert_eq!(Vec::<String>::decode_bounded(&mut d, 4).unwrap(), names);
    }

    crate::xdr_struct! {
        pub struct Sample {
            pub a: i32,
            pub s: String [8],
            pub o: Option<String> [8],
            pub v: Vec<u8> [8],
            pub h: u64,
        }
    }

    #[test]
    fn struct_macro() {
        let s = Sample {
            a: 7,
            s: "hi".into(),
            o: None,
            v: vec![1],
            h: 2,
        };
        let bytes = enc(&s);
        assert_eq!(
            bytes,
            [
                0, 0, 0, 7, 0, 0, 0, 2, b'h', b'i', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 2
            ]
        );
        assert_eq!(Sample::from_xdr(&bytes).unwrap(), s);
        let mut longer = bytes.clone();
        longer.extend([0, 0, 0, 0]);
        assert_eq!(Sample::from_xdr(&longer), Err(XdrError::TrailingBytes(4)));
        for cut in 0..bytes.len() {
            assert!(Sample::from_xdr(&bytes[..cut]).is_err());
        }
    }
}
