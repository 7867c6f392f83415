//! Declarative tables for libvirt's C enums and flag sets, so each value is
//! written once: its C numbering comes from its place in the list, as in C,
//! and the conversions from the wire's `int` are derived from the same list.

/// A C enum that travels as an `int` (on the wire, in the API) and that
/// rvirt models as a Rust enum: `#[repr(i32)]` with C's numbering (a
/// variant is the previous one plus one unless given a value), `ALL` in
/// number order and `from_i32`, `None` for numbers the enum lacks.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $( $(#[$vmeta:meta])* $variant:ident $(= $value:literal)? ),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(i32)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant $(= $value)? ),*
        }

        impl $name {
            /// Every value, in the order C declares them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn from_i32(v: i32) -> Option<$name> {
                Self::ALL.iter().copied().find(|x| *x as i32 == v)
            }
        }
    };
}

/// C enums that the API passes as a plain `int` (libvirt adds values over
/// time, so callers keep them as numbers): one `pub const NAME: i32` per
/// value, numbered as C numbers the enum named (a value is the previous
/// one plus one unless given). One invocation may list several enums, as
/// the detail enums of the lifecycle events share a module.
#[macro_export]
macro_rules! int_enum {
    ($( $(#[$meta:meta])* $c_name:ident {
        $( $(#[$vmeta:meta])* $value_name:ident $(= $value:literal)? ),* $(,)?
    } )*) => {
        $(
            $(#[$meta])*
            #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
            #[repr(i32)]
            enum $c_name {
                $( $value_name $(= $value)? ),*
            }
            $( $(#[$vmeta])* pub const $value_name: i32 = $c_name::$value_name as i32; )*
        )*
    };
}

/// A set of libvirt flags as `pub const NAME: u32` bits, numbered
/// `1 << 0` upwards in the order listed, as libvirt's headers number every
/// flags enum (so a new flag is only ever appended). The module also gets
/// `ALL`, every flag, and `NAMES`, each flag with its C name (`$prefix`
/// then the constant's name) for messages.
#[macro_export]
macro_rules! flag_bits {
    ($(#[$meta:meta])* $vis:vis mod $module:ident = $prefix:literal {
        $( $(#[$fmeta:meta])* $flag:ident ),* $(,)?
    }) => {
        $(#[$meta])*
        $vis mod $module {
            #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
            enum Bit {
                $( $flag ),*
            }
            $( $(#[$fmeta])* pub const $flag: u32 = 1 << Bit::$flag as u32; )*
            /// Every flag of the set.
            pub const ALL: u32 = 0 $( | $flag )*;
            /// Each flag with its C name.
            pub const NAMES: &[(u32, &str)] = &[$( ($flag, concat!($prefix, stringify!($flag))) ),*];
        }
    };
}

#[cfg(test)]
mod tests {
    crate::wire_enum! {
        enum Sample {
            Zero,
            One,
            Ten = 10,
            Eleven,
        }
    }

    mod sample_ints {
        crate::int_enum! {
            Kind {
                A,
                B,
                C = 7,
                D,
            }
            Other {
                E = 3,
            }
        }
    }

    crate::flag_bits! {
        mod sample_flags = "VIR_SAMPLE_" {
            FIRST,
            SECOND,
            THIRD,
        }
    }

    #[test]
    fn numbered_as_c_numbers_them() {
        assert_eq!(Sample::Eleven as i32, 11);
        assert_eq!(Sample::from_i32(10), Some(Sample::Ten));
        assert_eq!(Sample::from_i32(2), None);
        assert_eq!(Sample::ALL.len(), 4);
        assert_eq!(
            (
                sample_ints::A,
                sample_ints::B,
                sample_ints::C,
                sample_ints::D
            ),
            (0, 1, 7, 8)
        );
        assert_eq!(sample_ints::E, 3);
        assert_eq!(sample_flags::THIRD, 4);
        assert_eq!(sample_flags::ALL, 7);
        assert_eq!(sample_flags::NAMES[1], (2, "VIR_SAMPLE_SECOND"));
    }
}
