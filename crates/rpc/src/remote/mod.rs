//! The REMOTE program (`src/remote/remote_protocol.x`, libvirt 9.0): its
//! limits, the procedure table and the argument/return/message structs,
//! split by area ([`connect`], [`domain`], [`events`], [`migration`]).
//!
//! Naming: procedure `REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME` takes
//! [`domain::DomainLookupByNameArgs`] and returns
//! [`domain::DomainLookupByNameRet`]; a procedure without one of them uses
//! `()` (XDR `void`). Events are `...Msg`.

pub mod connect;
pub mod domain;
pub mod events;
pub mod migration;
pub mod procedure;

pub use crate::packet::{NonnullDomain, NonnullNetwork};
pub use procedure::{procedure_info, Access, Priority, Procedure, ProcedureInfo};

use crate::packet::{Header, Packet};
use crate::xdr::{Decoder, Encoder, XdrBounded, XdrDecode, XdrEncode, XdrError, XdrResult};
use rvirt_util::uuid::Uuid;
use rvirt_util::{TypedParam, TypedParamType, TypedParamValue, TypedParams};

/// `REMOTE_PROGRAM`.
pub const PROGRAM: u32 = 0x2000_8086;
/// `REMOTE_PROTOCOL_VERSION`.
pub const PROTOCOL_VERSION: u32 = 1;

/// `REMOTE_STRING_MAX`.
pub const STRING_MAX: usize = 4_194_304;
/// `REMOTE_DOMAIN_LIST_MAX`.
pub const DOMAIN_LIST_MAX: usize = 16_384;
/// `REMOTE_AUTH_TYPE_LIST_MAX`.
pub const AUTH_TYPE_LIST_MAX: usize = 20;
/// `REMOTE_MIGRATE_COOKIE_MAX`.
pub const MIGRATE_COOKIE_MAX: usize = 4_194_304;
/// `REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX`.
pub const DOMAIN_MIGRATE_PARAM_LIST_MAX: usize = 64;
/// `REMOTE_DOMAIN_JOB_STATS_MAX`.
pub const DOMAIN_JOB_STATS_MAX: usize = 64;
/// `REMOTE_SECURITY_MODEL_MAX` (`VIR_SECURITY_MODEL_BUFLEN`).
pub const SECURITY_MODEL_MAX: usize = 256 + 1;
/// `REMOTE_SECURITY_LABEL_MAX` (`VIR_SECURITY_LABEL_BUFLEN`).
pub const SECURITY_LABEL_MAX: usize = 4096 + 1;
/// `REMOTE_SECURITY_DOI_MAX` (`VIR_SECURITY_DOI_BUFLEN`).
pub const SECURITY_DOI_MAX: usize = 256 + 1;

/// `remote_auth_type`.
pub const AUTH_NONE: i32 = 0;
pub const AUTH_SASL: i32 = 1;
pub const AUTH_POLKIT: i32 = 2;

/// A REMOTE call packet.
pub fn call<T: XdrEncode + ?Sized>(proc_: Procedure, serial: u32, args: &T) -> XdrResult<Packet> {
    Packet::call(PROGRAM, PROTOCOL_VERSION, proc_ as i32, serial, args)
}

/// A REMOTE event message packet. Its serial is 1, as libvirtd 9.0 sends
/// events (`remoteDispatchObjectEventSend`); clients ignore it.
pub fn event<T: XdrEncode + ?Sized>(proc_: Procedure, msg: &T) -> XdrResult<Packet> {
    let mut p = Packet::event(PROGRAM, PROTOCOL_VERSION, proc_ as i32, msg)?;
    p.header.serial = 1;
    Ok(p)
}

/// Is this header addressed to the REMOTE program?
pub fn is_remote(header: &Header) -> bool {
    header.prog == PROGRAM && header.vers == PROTOCOL_VERSION
}

impl NonnullDomain {
    pub fn new(name: impl Into<String>, uuid: Uuid, id: i32) -> NonnullDomain {
        NonnullDomain {
            name: name.into(),
            uuid: *uuid.as_bytes(),
            id,
        }
    }

    pub fn uuid(&self) -> Uuid {
        Uuid::from_bytes(self.uuid)
    }
}

/// A C string carried as `char x<N>` (4-byte chars, libvirt counts the NUL):
/// text up to the first NUL.
pub fn chars_to_string(chars: &[i8]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .map(|c| *c as u8)
        .take_while(|b| *b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The inverse of [`chars_to_string`]: the text and its NUL terminator, as
/// libvirt sends `seclabel.label` (`strlen + 1` chars).
pub fn string_to_chars(s: &str) -> Vec<i8> {
    s.bytes()
        .map(|b| b as i8)
        .chain(std::iter::once(0))
        .collect()
}

/// `remote_typed_param`: `field` then the union `remote_typed_param_value`
/// discriminated by `VIR_TYPED_PARAM_*`. Booleans travel as `int`.
impl XdrEncode for TypedParam {
    fn encode(&self, enc: &mut Encoder) -> XdrResult<()> {
        enc.put_string(&self.field, STRING_MAX)?;
        enc.put_i32(self.value.kind() as i32);
        match &self.value {
            TypedParamValue::Int(v) => enc.put_i32(*v),
            TypedParamValue::UInt(v) => enc.put_u32(*v),
            TypedParamValue::LLong(v) => enc.put_i64(*v),
            TypedParamValue::ULLong(v) => enc.put_u64(*v),
            TypedParamValue::Double(v) => enc.put_f64(*v),
            TypedParamValue::Boolean(v) => enc.put_i32(*v as i32),
            TypedParamValue::String(v) => enc.put_string(v, STRING_MAX)?,
        }
        Ok(())
    }
}

impl XdrDecode for TypedParam {
    fn decode(dec: &mut Decoder<'_>) -> XdrResult<Self> {
        let field = dec.get_string(STRING_MAX)?;
        let code = dec.get_i32()?;
        let kind = TypedParamType::from_code(code).ok_or(XdrError::InvalidDiscriminant(code))?;
        let value = match kind {
            TypedParamType::Int => TypedParamValue::Int(dec.get_i32()?),
            TypedParamType::UInt => TypedParamValue::UInt(dec.get_u32()?),
            TypedParamType::LLong => TypedParamValue::LLong(dec.get_i64()?),
            TypedParamType::ULLong => TypedParamValue::ULLong(dec.get_u64()?),
            TypedParamType::Double => TypedParamValue::Double(dec.get_f64()?),
            TypedParamType::Boolean => TypedParamValue::Boolean(dec.get_i32()? != 0),
            TypedParamType::String => TypedParamValue::String(dec.get_string(STRING_MAX)?),
        };
        Ok(TypedParam { field, value })
    }
}

/// `remote_typed_param params<MAX>`.
impl XdrBounded for TypedParams {
    fn encode_bounded(&self, enc: &mut Encoder, max: usize) -> XdrResult<()> {
        self.0.encode_bounded(enc, max)
    }
    fn decode_bounded(dec: &mut Decoder<'_>, max: usize) -> XdrResult<Self> {
        Ok(TypedParams(Vec::decode_bounded(dec, max)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_param_bytes() {
        let params = TypedParams::new()
            .with("a", TypedParamValue::Int(-1))
            .with("b", TypedParamValue::Boolean(true))
            .with("c", TypedParamValue::String("x".into()))
            .with("d", TypedParamValue::ULLong(1 << 32))
            .with("e", TypedParamValue::Double(1.0));
        let mut e = Encoder::new();
        params.encode_bounded(&mut e, 8).unwrap();
        #[rustfmt::skip]
        let want: Vec<u8> = [
            &[0, 0, 0, 5][..],
            &[0, 0, 0, 1, b'a', 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff],
            &[0, 0, 0, 1, b'b', 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1],
            &[0, 0, 0, 1, b'c', 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, b'x', 0, 0, 0],
            &[0, 0, 0, 1, b'd', 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0],
            &[0, 0, 0, 1, b'e', 0, 0, 0, 0, 0, 0, 5, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
        ]
        .concat();
        assert_eq!(e.as_bytes(), &want[..]);
        let mut d = Decoder::new(&want);
        assert_eq!(TypedParams::decode_bounded(&mut d, 8).unwrap(), params);
        let mut d = Decoder::new(&want);
        assert!(TypedParams::decode_bounded(&mut d, 4).is_err());
        // Unknown union discriminant.
        let bad = [0, 0, 0, 1, b'a', 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0];
        assert_eq!(
            TypedParam::from_xdr(&bad),
            Err(XdrError::InvalidDiscriminant(9))
        );
    }

    #[test]
    fn domain_uuid_and_chars() {
        let u = rvirt_util::uuid::parse("6695eb01-f6a4-8304-79aa-97f2502e193f").unwrap();
        let d = NonnullDomain::new("test", u, 1);
        assert_eq!(d.uuid(), u);
        let bytes = d.to_xdr().unwrap();
        assert_eq!(&bytes[..8], [0, 0, 0, 4, b't', b'e', b's', b't']);
        assert_eq!(&bytes[8..24], u.as_bytes());
        assert_eq!(&bytes[24..], [0, 0, 0, 1]);
        assert_eq!(string_to_chars("ab"), [97, 98, 0]);
        assert_eq!(chars_to_string(&[97, 98, 0, 99]), "ab");
    }
}
