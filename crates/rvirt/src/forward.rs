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
/// API does (`virCheckReadOnlyGoto`), naming the API: the driver method's
/// name in libvirt's spelling (`domain_set_autostart`:
/// `virDomainSetAutostart`), or the one given (`write("virXxx") fn`, or
/// `write(by_flags("virXxx", flags)) fn` for a call that is libvirt's
/// `virXxx` without flags and `virXxxFlags` with them).
macro_rules! domain_calls {
    ($( $(#[$meta:meta])* $access:ident $(($api:expr))? fn $name:ident => $driver:ident(
        $($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        $(
            $(#[$meta])*
            pub fn $name(&self, $($arg: $ty),*) -> $ret {
                $crate::forward::domain_calls!(@check $access, self.connect(),
                    stringify!($driver) $(, $api)?);
                self.connect().driver().$driver(self.domain_ref(), $($arg),*)
            }
        )*
    };
    (@check write, $conn:expr, $driver:expr) => {
        $conn.check_writable(&$crate::forward::public_name($driver))?
    };
    (@check write, $conn:expr, $driver:expr, $api:expr) => {
        $conn.check_writable(&$api)?
    };
    (@check read, $conn:expr, $($rest:tt)*) => {};
}
pub(crate) use domain_calls;

/// The API a call answering both to `plain` and `plainFlags` is: the one
/// without flags when there are none, as virsh picks them.
pub(crate) fn by_flags(plain: &str, flags: u32) -> String {
    match flags {
        0 => plain.to_string(),
        _ => format!("{plain}Flags"),
    }
}

/// A driver method's name as libvirt spells the public API:
/// `domain_migrate_set_max_speed` is `virDomainMigrateSetMaxSpeed`.
pub(crate) fn public_name(driver_method: &str) -> String {
    let words = driver_method.split('_').map(|w| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    });
    std::iter::once("vir".to_string()).chain(words).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_names() {
        assert_eq!(super::public_name("domain_destroy"), "virDomainDestroy");
        assert_eq!(
            super::public_name("domain_qemu_monitor_command"),
            "virDomainQemuMonitorCommand"
        );
        assert_eq!(
            super::public_name("domain_migrate_begin3"),
            "virDomainMigrateBegin3"
        );
    }
}
