//! libvirt's typed attribute readers (`virXMLProp*` of `util/virxml.c`)
//! with their error text, and `vir_enum!`, the `VIR_ENUM_IMPL` tables as
//! Rust enums, so a closed value set is a type, not a string.

use super::internal_xml;
use crate::xml::Element;
use rvirt_util::Result;

/// A closed value set with libvirt's string table.
pub trait VirEnum: Sized + Copy + 'static {
    /// The strings in enum order (the `VIR_ENUM_IMPL` table).
    const NAMES: &'static [&'static str];
    fn from_index(i: usize) -> Self;
    fn index(self) -> usize;

    fn from_str_opt(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(Self::from_index)
    }

    fn as_str(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// `FromString` refused as libvirt's parsers refuse an unknown value:
    /// `unsupported configuration: unknown WHAT 'S'`.
    fn parse_named(s: &str, what: &str) -> Result<Self> {
        Self::from_str_opt(s).ok_or_else(|| super::unsupported(format!("unknown {what} '{s}'")))
    }
}

/// Declare enums and their `VIR_ENUM_IMPL` string tables together: one
/// invocation holds all the tables of a module.
macro_rules! vir_enum {
    ($($(#[$m:meta])* $vis:vis enum $name:ident { $($var:ident = $s:literal),+ $(,)? })+) => {
        $(
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $($var),+ }

        impl $crate::domain::props::VirEnum for $name {
            const NAMES: &'static [&'static str] = &[$($s),+];
            fn from_index(i: usize) -> Self {
                const ALL: &[$name] = &[$($name::$var),+];
                ALL[i]
            }
            fn index(self) -> usize {
                self as usize
            }
        }

        /// The value's string in libvirt's table.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::domain::props::VirEnum::as_str(*self))
            }
        }
        )+
    };
}
pub(crate) use vir_enum;

/// A value libvirt keeps in one attribute: how it is read (with libvirt's
/// typed reader and its error text) and written back.
pub trait AttrValue: Sized {
    fn read(e: &Element, name: &str) -> Result<Option<Self>>;
    fn text(&self) -> String;
}

impl AttrValue for String {
    fn read(e: &Element, name: &str) -> Result<Option<Self>> {
        Ok(e.attr_string(name))
    }
    fn text(&self) -> String {
        self.clone()
    }
}

/// `virXMLPropUInt` without flags.
impl AttrValue for u32 {
    fn read(e: &Element, name: &str) -> Result<Option<Self>> {
        uint(e, name, false, false)
    }
    fn text(&self) -> String {
        self.to_string()
    }
}

/// `virXMLPropUInt` where 0 is libvirt's "unset" (never formatted).
impl AttrValue for std::num::NonZeroU32 {
    fn read(e: &Element, name: &str) -> Result<Option<Self>> {
        Ok(uint(e, name, false, false)?.and_then(Self::new))
    }
    fn text(&self) -> String {
        self.to_string()
    }
}

/// `virXMLPropEnum` (see [`enumeration`]).
impl<T: VirEnum> AttrValue for T {
    fn read(e: &Element, name: &str) -> Result<Option<Self>> {
        enumeration(e, name, false)
    }
    fn text(&self) -> String {
        self.as_str().to_string()
    }
}

/// Declare a struct of one element's optional attributes with each XML
/// name written once (`= "name"` only where it is not the field's name):
/// `parse` reads them in declaration order with their [`AttrValue`]
/// readers, `attrs` writes the set ones in the same order (declare them in
/// libvirt's output order).
macro_rules! attr_struct {
    ($(#[$m:meta])* $vis:vis struct $name:ident {
        $($(#[$fm:meta])* $field:ident: $ty:ty $(= $xml:literal)?),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        $vis struct $name { $($(#[$fm])* pub $field: Option<$ty>),+ }

        impl $name {
            pub fn parse(e: &$crate::xml::Element) -> rvirt_util::Result<Self> {
                use $crate::domain::props::AttrValue;
                Ok($name { $($field: AttrValue::read(e, attr_struct!(@name $field $($xml)?))?),+ })
            }

            /// The set attributes, ` name='value'` each.
            pub fn attrs(&self) -> $crate::xml::Attrs {
                use $crate::domain::props::AttrValue;
                let mut a = $crate::xml::Attrs::new();
                $(a.opt(attr_struct!(@name $field $($xml)?), self.$field.as_ref().map(AttrValue::text));)+
                a
            }

            pub fn is_empty(&self) -> bool {
                *self == Self::default()
            }
        }
    };
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $xml:literal) => { $xml };
}
pub(crate) use attr_struct;

vir_enum! {
    /// `virTristateBool` without its `absent` (that is `None`).
    pub enum TriBool { Yes = "yes", No = "no" }

    /// `virTristateSwitch` without its `absent` (that is `None`).
    pub enum TriSwitch { On = "on", Off = "off" }
}

pub fn missing(e: &Element, name: &str) -> rvirt_util::Error {
    internal_xml(format!(
        "Missing required attribute '{name}' in element '{}'",
        e.name
    ))
}

/// `virXMLPropUInt` (base 10): `None` when absent and not `required`.
pub fn uint(e: &Element, name: &str, required: bool, nonzero: bool) -> Result<Option<u32>> {
    uint_in_base(e, name, required, nonzero, |v| v.parse().ok())
}

/// `virXMLPropUInt` with base 0: `0x` hexadecimal, leading-0 octal.
pub fn uint_base0(e: &Element, name: &str, required: bool, nonzero: bool) -> Result<Option<u32>> {
    uint_in_base(e, name, required, nonzero, base0_u32)
}

/// `strtoul` with base 0 of a whole string: `0x` hexadecimal, leading-0
/// octal, else decimal.
pub fn base0_u32(v: &str) -> Option<u32> {
    if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if v.len() > 1 && v.starts_with('0') {
        u32::from_str_radix(&v[1..], 8).ok()
    } else {
        v.parse().ok()
    }
}

fn uint_in_base(
    e: &Element,
    name: &str,
    required: bool,
    nonzero: bool,
    parse: impl Fn(&str) -> Option<u32>,
) -> Result<Option<u32>> {
    let Some(v) = e.attr(name) else {
        return if required {
            Err(missing(e, name))
        } else {
            Ok(None)
        };
    };
    // strtoul skips leading blanks and refuses a sign-less overflow.
    let n = parse(v.trim_start()).ok_or_else(|| invalid_uint(e, name, v))?;
    if nonzero && n == 0 {
        return Err(internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': Zero is not permitted",
            e.name
        )));
    }
    Ok(Some(n))
}

/// `virXMLPropUInt`'s message for a value that is no unsigned number.
pub fn invalid_uint(e: &Element, name: &str, v: &str) -> rvirt_util::Error {
    internal_xml(format!(
        "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected non-negative integer value",
        e.name
    ))
}

/// `virXMLPropInt` (base 10).
pub fn int(e: &Element, name: &str) -> Result<Option<i32>> {
    let Some(v) = e.attr(name) else {
        return Ok(None);
    };
    v.trim_start().parse().map(Some).map_err(|_| {
        internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected integer value",
            e.name
        ))
    })
}

/// `virXMLPropEnum` with `VIR_XML_PROP_NONZERO` (the enums here have no
/// zero "default" entry, so every listed string is a value).
pub fn enumeration<T: VirEnum>(e: &Element, name: &str, required: bool) -> Result<Option<T>> {
    let Some(v) = e.attr(name) else {
        return if required {
            Err(missing(e, name))
        } else {
            Ok(None)
        };
    };
    T::from_str_opt(v).map(Some).ok_or_else(|| {
        internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': '{v}'.",
            e.name
        ))
    })
}

/// A value libvirt reads with `virXMLPropString` and its enum's
/// `FromString`, with the device's own messages: `missing` when absent,
/// `"{unknown} 'V'"` (VIR_ERR_CONFIG_UNSUPPORTED) when not in the table.
pub fn named_value<T: VirEnum>(
    e: &Element,
    name: &str,
    missing: rvirt_util::Error,
    unknown: &str,
) -> Result<T> {
    let Some(v) = e.attr(name) else {
        return Err(missing);
    };
    T::from_str_opt(v).ok_or_else(|| super::unsupported(format!("{unknown} '{v}'")))
}

/// `virXMLPropTristateBool`.
pub fn tribool(e: &Element, name: &str) -> Result<Option<TriBool>> {
    enumeration(e, name, false)
}

/// `virXMLPropTristateSwitch`.
pub fn triswitch(e: &Element, name: &str) -> Result<Option<TriSwitch>> {
    enumeration(e, name, false)
}

/// `virXMLPropInt` with `VIR_XML_PROP_NONNEGATIVE` (base 10).
pub fn int_nonneg(e: &Element, name: &str) -> Result<Option<i32>> {
    let v = int(e, name)?;
    if let Some(n) = v.filter(|n| *n < 0) {
        return Err(internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': '{n}'. Expected non-negative value",
            e.name
        )));
    }
    Ok(v)
}

/// `virDomainParseMemory` (uncapped) of a value and its unit: `None` when
/// the value is absent and not `required`; the result is in KiB, rounded
/// up. `xpath` names the value in libvirt's messages.
pub fn memory_kib(
    value: Option<&str>,
    unit: Option<&str>,
    xpath: &str,
    required: bool,
) -> Result<Option<u64>> {
    use rvirt_util::{Error, ErrorCode, ErrorDomain};
    // virXPathString yields NULL for an empty string.
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return if required {
            Err(internal_xml(format!(
                "missing element or attribute '{xpath}'"
            )))
        } else {
            Ok(None)
        };
    };
    let bytes: u64 = text
        .trim_start()
        .strip_prefix('+')
        .unwrap_or(text.trim_start())
        .parse()
        .map_err(|_| {
            internal_xml(format!(
                "Invalid value '{text}' for element or attribute '{xpath}'"
            ))
        })?;
    const MAX: u64 = i64::MAX as u64;
    let kib = scale_integer(bytes, unit.unwrap_or(""), 1024, MAX)?.div_ceil(1024);
    if kib >= MAX.div_ceil(1024) {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::OVERFLOW,
            "size value too large",
        ));
    }
    Ok(Some(kib))
}

/// `virScaleInteger`: `value` times the scale `unit` names (`default_scale`
/// when empty), refused over `limit`.
pub fn scale_integer(value: u64, unit: &str, default_scale: u64, limit: u64) -> Result<u64> {
    use rvirt_util::{Error, ErrorCode, ErrorDomain};
    let scale = rvirt_util::units::scale_for(unit, default_scale).ok_or_else(|| {
        Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::INVALID_ARG,
            format!("unknown suffix '{unit}'"),
        )
    })?;
    if value > limit / scale {
        return Err(Error::new(
            ErrorDomain::DOMAIN,
            ErrorCode::OVERFLOW,
            format!("value too large: {value}{unit}"),
        ));
    }
    Ok(value * scale)
}

/// `virParseScaledValue` of an element: its number times the scale of its
/// `unit=` (`default_scale` without one), refused over `limit`; `None` when
/// the element is absent or empty. `xpath` names it in libvirt's message.
pub fn scaled_value(
    e: Option<&Element>,
    xpath: &str,
    default_scale: u64,
    limit: u64,
) -> Result<Option<u64>> {
    let Some(e) = e else {
        return Ok(None);
    };
    let text = e.text();
    if text.is_empty() {
        return Ok(None);
    }
    let n: u64 = text.trim().parse().map_err(|_| {
        internal_xml(format!(
            "Invalid value '{text}' for element or attribute '{xpath}'"
        ))
    })?;
    scale_integer(n, e.attr("unit").unwrap_or(""), default_scale, limit).map(Some)
}

/// `virParseScaledValue` of a required attribute `value` with its `unit`
/// (`default_scale` without one): `xpath` names the value in libvirt's
/// messages.
pub fn scaled_attr(
    value: Option<&str>,
    unit: Option<&str>,
    xpath: &str,
    default_scale: u64,
) -> Result<u64> {
    // virXPathString yields NULL for an empty string.
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Err(internal_xml(format!(
            "missing element or attribute '{xpath}'"
        )));
    };
    let digits = text.trim_start();
    let n: u64 = digits
        .strip_prefix('+')
        .unwrap_or(digits)
        .parse()
        .map_err(|_| {
            internal_xml(format!(
                "Invalid value '{text}' for element or attribute '{xpath}'"
            ))
        })?;
    scale_integer(n, unit.unwrap_or(""), default_scale, u64::MAX)
}

/// `virParseScaledValue` of a child in bytes (scale 1); 0 when absent.
pub fn scaled_bytes(e: &Element, child: &str) -> Result<u64> {
    let xpath = format!("./{child}[1]");
    Ok(scaled_value(e.child(child), &xpath, 1, u64::MAX)?.unwrap_or(0))
}

/// `virFormatIntPretty`: the largest binary unit up to PiB that divides
/// exactly.
pub fn pretty_bytes(bytes: u64) -> (u64, &'static str) {
    let mut n = bytes;
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if n == 0 || !n.is_multiple_of(1024) {
            return (n, unit);
        }
        n /= 1024;
    }
    (n, "PiB")
}

/// `VIR_DOMAIN_CPUMASK_LEN`: bitmaps of host CPUs and NUMA nodes.
pub const CPUMASK_LEN: u32 = 16384;

/// `virBitmapParse` with `VIR_DOMAIN_CPUMASK_LEN`: the set bits, sorted.
pub fn bitmap(s: &str) -> Result<Vec<u32>> {
    use rvirt_util::{Error, ErrorCode, ErrorDomain};
    super::parse_bitmap(s)
        .filter(|bits| bits.iter().all(|b| *b < CPUMASK_LEN))
        .ok_or_else(|| {
            Error::new(
                ErrorDomain::DOMAIN,
                ErrorCode::INVALID_ARG,
                format!("Failed to parse bitmap '{s}'"),
            )
        })
}

/// `Invalid value for attribute 'A' in element 'E': 'V'.`
pub fn invalid(e: &Element, name: &str, v: &str) -> rvirt_util::Error {
    internal_xml(format!(
        "Invalid value for attribute '{name}' in element '{}': '{v}'.",
        e.name
    ))
}

/// `virXMLPropInt` with base 0 (`0x` hex, leading-0 octal) and
/// `VIR_XML_PROP_NONNEGATIVE`.
pub fn int_base0_nonneg(e: &Element, name: &str) -> Result<Option<i32>> {
    let n = int_base0(e, name)?;
    if n.is_some_and(|n| n < 0) {
        let v = e.attr(name).unwrap_or_default();
        return Err(internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected non-negative value",
            e.name
        )));
    }
    Ok(n)
}

/// `strtoll` with base 0 of a whole string (after leading blanks): an
/// optional sign, then `0x` hexadecimal, leading-0 octal, else decimal.
pub fn base0_signed(v: &str) -> Option<i128> {
    let s = v.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let parsed = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(h, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<i128>()
    };
    parsed.ok().map(|n| if neg { -n } else { n })
}

/// `virXMLPropInt` with base 0 (`0x` hex, leading-0 octal).
pub fn int_base0(e: &Element, name: &str) -> Result<Option<i32>> {
    let Some(v) = e.attr(name) else {
        return Ok(None);
    };
    let n = base0_signed(v)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            internal_xml(format!(
                "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected integer value",
                e.name
            ))
        })?;
    Ok(Some(n))
}
