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
}

/// Declare an enum and its `VIR_ENUM_IMPL` string table together.
macro_rules! vir_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($var:ident = $s:literal),+ $(,)? }) => {
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
    };
}
pub(crate) use vir_enum;

vir_enum! {
    /// `virTristateBool` without its `absent` (that is `None`).
    pub enum TriBool { Yes = "yes", No = "no" }
}

vir_enum! {
    /// `virTristateSwitch` without its `absent` (that is `None`).
    pub enum TriSwitch { On = "on", Off = "off" }
}

fn missing(e: &Element, name: &str) -> rvirt_util::Error {
    internal_xml(format!(
        "Missing required attribute '{name}' in element '{}'",
        e.name
    ))
}

/// `virXMLPropUInt` (base 10): `None` when absent and not `required`.
pub fn uint(e: &Element, name: &str, required: bool, nonzero: bool) -> Result<Option<u32>> {
    let Some(v) = e.attr(name) else {
        return if required {
            Err(missing(e, name))
        } else {
            Ok(None)
        };
    };
    // strtoul skips leading blanks and refuses a sign-less overflow.
    let n: u32 = v.trim_start().parse().map_err(|_| {
        internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': '{v}'. Expected non-negative integer value",
            e.name
        ))
    })?;
    if nonzero && n == 0 {
        return Err(internal_xml(format!(
            "Invalid value for attribute '{name}' in element '{}': Zero is not permitted",
            e.name
        )));
    }
    Ok(Some(n))
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

/// `virXMLPropTristateBool`.
pub fn tribool(e: &Element, name: &str) -> Result<Option<TriBool>> {
    enumeration(e, name, false)
}

/// `virXMLPropTristateSwitch`.
pub fn triswitch(e: &Element, name: &str) -> Result<Option<TriSwitch>> {
    enumeration(e, name, false)
}
