//! Driver methods that are one REMOTE procedure each, written one line a
//! method with [`forward!`]: the parameters go on the wire through
//! [`ToWire`], the reply comes back through [`FromWire`].

use rvirt::driver::storage::{PoolRef, VolRef};
use rvirt::driver::{DomainRef, InterfaceRef, NWFilterRef, NetworkRef, NodeDeviceRef, SecretRef};
use rvirt_rpc::remote::{
    NonnullDomain, NonnullInterface, NonnullNetwork, NonnullNodeDevice, NonnullNwfilter,
    NonnullSecret, NonnullStoragePool, NonnullStorageVol,
};
use rvirt_util::TypedParams;

/// A driver method's parameter in its wire form.
pub(crate) trait ToWire {
    type Wire;
    fn to_wire(self) -> Self::Wire;
}

/// A reply (or one field of it) in the driver's form.
pub(crate) trait FromWire<W> {
    fn from_wire(wire: W) -> Self;
}

macro_rules! same_on_the_wire {
    ($($t:ty),*) => {$(
        impl ToWire for $t {
            type Wire = $t;
            fn to_wire(self) -> $t {
                self
            }
        }
        impl FromWire<$t> for $t {
            fn from_wire(wire: $t) -> $t {
                wire
            }
        }
    )*};
}

same_on_the_wire!((), i32, i64, u32, u64, String, Option<String>, TypedParams);

impl ToWire for &str {
    type Wire = String;
    fn to_wire(self) -> String {
        self.to_string()
    }
}

impl ToWire for Option<&str> {
    type Wire = Option<String>;
    fn to_wire(self) -> Option<String> {
        self.map(str::to_string)
    }
}

impl ToWire for &[u8] {
    type Wire = Vec<u8>;
    fn to_wire(self) -> Vec<u8> {
        self.to_vec()
    }
}

impl ToWire for &TypedParams {
    type Wire = TypedParams;
    fn to_wire(self) -> TypedParams {
        self.clone()
    }
}

impl ToWire for &[u8; 16] {
    type Wire = [u8; 16];
    fn to_wire(self) -> [u8; 16] {
        *self
    }
}

/// libvirt's booleans are ints.
impl ToWire for bool {
    type Wire = i32;
    fn to_wire(self) -> i32 {
        i32::from(self)
    }
}

impl FromWire<i32> for bool {
    fn from_wire(wire: i32) -> bool {
        wire != 0
    }
}

/// A list's maximum length (`maxnames`): an int, so "all of them" is
/// `i32::MAX`.
impl ToWire for usize {
    type Wire = i32;
    fn to_wire(self) -> i32 {
        i32::try_from(self).unwrap_or(i32::MAX)
    }
}

/// A count; a negative one (never sent by a sane server) is none.
impl FromWire<i32> for usize {
    fn from_wire(wire: i32) -> usize {
        usize::try_from(wire).unwrap_or(0)
    }
}

impl<W, T: FromWire<W>> FromWire<Vec<W>> for Vec<T> {
    fn from_wire(wire: Vec<W>) -> Vec<T> {
        wire.into_iter().map(T::from_wire).collect()
    }
}

/// An object reference both ways: `(rvirt type, wire type) { fields }`,
/// the two having the same fields.
macro_rules! object_ref {
    ($($ours:ty, $wire:ident { $($field:ident),* };)*) => {$(
        impl ToWire for &$ours {
            type Wire = $wire;
            fn to_wire(self) -> $wire {
                $wire { $($field: self.$field.clone()),* }
            }
        }
        impl FromWire<$wire> for $ours {
            fn from_wire(wire: $wire) -> $ours {
                Self { $($field: wire.$field),* }
            }
        }
    )*};
}

object_ref! {
    DomainRef, NonnullDomain { name, uuid, id };
    PoolRef, NonnullStoragePool { name, uuid };
    VolRef, NonnullStorageVol { pool, name, key };
    NetworkRef, NonnullNetwork { name, uuid };
    NWFilterRef, NonnullNwfilter { name, uuid };
    InterfaceRef, NonnullInterface { name, mac };
    SecretRef, NonnullSecret { uuid, usage_type, usage_id };
}

/// The wire names a node device by its name alone.
impl FromWire<NonnullNodeDevice> for NodeDeviceRef {
    fn from_wire(wire: NonnullNodeDevice) -> NodeDeviceRef {
        NodeDeviceRef::named(wire.name)
    }
}

/// Driver methods that are one procedure each, a line a method:
///
/// `fn NAME(FIELD: TYPE, ..) -> RET = ARGS { FIXED: VALUE, .. }.REPLY_FIELD;`
///
/// Each parameter is named after the field of the procedure's argument
/// struct `ARGS` it fills (through [`ToWire`]); `{ FIXED: VALUE }` fills
/// the fields that are no parameter (`need_results: 1`). The reply, or its
/// field `.REPLY_FIELD`, is the method's value through [`FromWire`].
macro_rules! forward {
    ($(
        fn $method:ident($($field:ident: $ty:ty),*) -> $ret:ty
            = $args:ident $({ $($fixed:ident: $value:expr),* })? $(.$reply:ident)?;
    )*) => {$(
        fn $method(&self, $($field: $ty),*) -> rvirt_util::Result<$ret> {
            let args = $args {
                $($field: $crate::forward::ToWire::to_wire($field),)*
                $($($fixed: $value,)*)?
            };
            let reply = rvirt_rpc::Call::request(self, &args)?;
            Ok($crate::forward::FromWire::from_wire(reply $(.$reply)?))
        }
    )*};
}
pub(crate) use forward;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_libvirts_wire_forms() {
        assert_eq!(usize::MAX.to_wire(), i32::MAX);
        assert_eq!(7usize.to_wire(), 7);
        assert_eq!(true.to_wire(), 1);
        assert!(bool::from_wire(2));
        assert_eq!(usize::from_wire(-1), 0);
        assert_eq!(Some("x").to_wire(), Some("x".to_string()));
        let names: Vec<String> = FromWire::from_wire(vec!["a".to_string()]);
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn object_references_survive_the_wire() {
        let pool = PoolRef {
            name: "default".into(),
            uuid: [7; 16],
        };
        assert_eq!(PoolRef::from_wire(pool.to_wire()), pool);
        let secret = SecretRef {
            uuid: [1; 16],
            usage_type: 2,
            usage_id: "vol".into(),
        };
        assert_eq!(SecretRef::from_wire((&secret).to_wire()), secret);
        let dev = NodeDeviceRef::from_wire(NonnullNodeDevice {
            name: "pci_0".into(),
        });
        assert_eq!(dev, NodeDeviceRef::named("pci_0"));
    }
}
