//! The public API methods that only hand the call to the connection's
//! driver, declared as one table per handle instead of one body each.

/// `Connect` methods that call the driver method of the same name with
/// the same arguments.
macro_rules! connect_calls {
    ($( $(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        $(
            $(#[$meta])*
            pub fn $name(&self, $($arg: $ty),*) -> $ret {
                self.inner.driver.$name($($arg),*)
            }
        )*
    };
}
pub(crate) use connect_calls;

/// `Domain` methods that call a driver method with the handle's identity
/// first; `write` ones refuse a read-only connection before, as the public
/// API does (`virCheckReadOnlyGoto`).
macro_rules! domain_calls {
    ($( $(#[$meta:meta])* $access:ident fn $name:ident => $driver:ident($($arg:ident: $ty:ty),*)
        -> $ret:ty; )*) => {
        $(
            $(#[$meta])*
            pub fn $name(&self, $($arg: $ty),*) -> $ret {
                $crate::forward::domain_calls!(@check $access, self.connect());
                self.connect().driver().$driver(self.domain_ref(), $($arg),*)
            }
        )*
    };
    (@check write, $conn:expr) => {
        $conn.check_writable()?
    };
    (@check read, $conn:expr) => {};
}
pub(crate) use domain_calls;
