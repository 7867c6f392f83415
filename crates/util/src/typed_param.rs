//! libvirt's typed parameters (`virTypedParameter`): named, typed values used
//! by the migration API, job stats and many tunables. Type codes are
//! libvirt's `VIR_TYPED_PARAM_*` numbers because they travel on the wire.

use crate::error::{Error, ErrorCode, ErrorDomain, Result};

/// `VIR_TYPED_PARAM_FIELD_LENGTH`: the longest parameter name libvirt allows.
pub const FIELD_LENGTH: usize = 80;

crate::wire_enum! {
    /// `virTypedParameterType`.
    pub enum TypedParamType {
        Int = 1,
        UInt,
        LLong,
        ULLong,
        Double,
        Boolean,
        String,
    }
}

impl TypedParamType {
    pub fn name(self) -> &'static str {
        use TypedParamType::*;
        match self {
            Int => "int",
            UInt => "uint",
            LLong => "llong",
            ULLong => "ullong",
            Double => "double",
            Boolean => "boolean",
            String => "string",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypedParamValue {
    Int(i32),
    UInt(u32),
    LLong(i64),
    ULLong(u64),
    Double(f64),
    Boolean(bool),
    String(String),
}

impl TypedParamValue {
    pub fn kind(&self) -> TypedParamType {
        match self {
            TypedParamValue::Int(_) => TypedParamType::Int,
            TypedParamValue::UInt(_) => TypedParamType::UInt,
            TypedParamValue::LLong(_) => TypedParamType::LLong,
            TypedParamValue::ULLong(_) => TypedParamType::ULLong,
            TypedParamValue::Double(_) => TypedParamType::Double,
            TypedParamValue::Boolean(_) => TypedParamType::Boolean,
            TypedParamValue::String(_) => TypedParamType::String,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypedParam {
    pub field: String,
    pub value: TypedParamValue,
}

/// An ordered list of typed parameters, as libvirt passes them around.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TypedParams(pub Vec<TypedParam>);

impl TypedParams {
    pub fn new() -> TypedParams {
        TypedParams::default()
    }

    pub fn push(&mut self, field: impl Into<String>, value: TypedParamValue) {
        self.0.push(TypedParam {
            field: field.into(),
            value,
        });
    }

    pub fn with(mut self, field: impl Into<String>, value: TypedParamValue) -> TypedParams {
        self.push(field, value);
        self
    }

    /// `virTypedParamsReplaceString`: set `field` to a string, replacing an
    /// existing value of that name.
    pub fn replace_string(&mut self, field: &str, value: &str) {
        let value = TypedParamValue::String(value.to_string());
        match self.0.iter_mut().find(|p| p.field == field) {
            Some(p) => p.value = value,
            None => self.push(field, value),
        }
    }

    pub fn get(&self, field: &str) -> Option<&TypedParamValue> {
        self.0.iter().find(|p| p.field == field).map(|p| &p.value)
    }

    pub fn get_string(&self, field: &str) -> Option<&str> {
        match self.get(field) {
            Some(TypedParamValue::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Any integer-typed value widened to u64 (libvirt's getters accept the
    /// narrower types where it is lossless).
    pub fn get_u64(&self, field: &str) -> Option<u64> {
        match self.get(field)? {
            TypedParamValue::UInt(v) => Some(*v as u64),
            TypedParamValue::ULLong(v) => Some(*v),
            TypedParamValue::Int(v) if *v >= 0 => Some(*v as u64),
            TypedParamValue::LLong(v) if *v >= 0 => Some(*v as u64),
            _ => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &TypedParam> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `virTypedParamsValidate`: every field is known with the right type and
    /// appears once unless `multiple` allows it. As libvirt, both lists are
    /// walked sorted by name, so the error names the first offender in that
    /// order, with libvirt's text.
    pub fn validate(&self, allowed: &[(&str, TypedParamType, bool)]) -> Result<()> {
        if let Some(p) = self.0.iter().find(|p| p.field.len() >= FIELD_LENGTH) {
            return Err(Error::new(
                ErrorDomain::NONE,
                ErrorCode::INVALID_ARG,
                format!("parameter name '{}' too long", p.field),
            ));
        }
        let mut sorted: Vec<&TypedParam> = self.0.iter().collect();
        sorted.sort_by(|a, b| a.field.cmp(&b.field));
        let mut keys = allowed.to_vec();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        let (mut i, mut j, mut last) = (0, 0, None);
        while i < sorted.len() && j < keys.len() {
            let (name, kind, multiple) = keys[j];
            let param = sorted[i];
            if param.field != name {
                j += 1;
                continue;
            }
            if last == Some(name) && !multiple {
                return Err(Error::new(
                    ErrorDomain::NONE,
                    ErrorCode::INVALID_ARG,
                    format!("parameter '{name}' occurs multiple times"),
                ));
            }
            if param.value.kind() != kind {
                return Err(Error::new(
                    ErrorDomain::NONE,
                    ErrorCode::INVALID_ARG,
                    format!(
                        "invalid type '{}' for parameter '{name}', expected '{}'",
                        param.value.kind().name(),
                        kind.name()
                    ),
                ));
            }
            last = Some(name);
            i += 1;
        }
        match sorted.get(i) {
            Some(param) if j == keys.len() => Err(Error::new(
                ErrorDomain::NONE,
                ErrorCode::ARGUMENT_UNSUPPORTED,
                format!("parameter '{}' not supported", param.field),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_like_libvirt() {
        let allowed = [
            ("bandwidth", TypedParamType::ULLong, false),
            ("migrate_disks", TypedParamType::String, true),
        ];
        let ok = TypedParams::new()
            .with("bandwidth", TypedParamValue::ULLong(10))
            .with("migrate_disks", TypedParamValue::String("vda".into()))
            .with("migrate_disks", TypedParamValue::String("vdb".into()));
        ok.validate(&allowed).unwrap();
        assert_eq!(ok.get_u64("bandwidth"), Some(10));

        let unknown = TypedParams::new().with("nope", TypedParamValue::Int(1));
        let e = unknown.validate(&allowed).unwrap_err();
        assert_eq!(e.code, ErrorCode::ARGUMENT_UNSUPPORTED);
        assert_eq!(
            e.message,
            "argument unsupported: parameter 'nope' not supported"
        );

        let wrong = TypedParams::new().with("bandwidth", TypedParamValue::String("x".into()));
        let e = wrong.validate(&allowed).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);

        let twice = TypedParams::new()
            .with("bandwidth", TypedParamValue::ULLong(1))
            .with("bandwidth", TypedParamValue::ULLong(2));
        assert!(twice.validate(&allowed).is_err());

        // The first offender in name order, as libvirt sorts both lists.
        let pool = [("poll_grow", TypedParamType::UInt, false)];
        let two = TypedParams::new()
            .with("thread_pool_min", TypedParamValue::Int(1))
            .with("thread_pool_max", TypedParamValue::Int(4));
        let e = two.validate(&pool).unwrap_err();
        assert!(e
            .message
            .ends_with("parameter 'thread_pool_max' not supported"));
    }
}
