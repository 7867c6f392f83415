//! The `MigrationDriver` entries every driver writes the same way, as
//! macros to use inside `impl MigrationDriver for X`: each entry forwards
//! to the shared function of the engine, so a driver implements the parts
//! that differ ([`crate::phases::V3Phases`], [`crate::calls::JobCalls`])
//! and never the forwarding.

/// The types the entries name (a macro's signature resolves its types
/// where it is used, so it names them by full path).
#[doc(hidden)]
pub mod t {
    pub use crate::phases::Prepared;
    pub use rvirt::driver::PrepareArgs;
    pub use rvirt::driver::{Begin3Args, Cookie, DomainRef, FinishArgs, ParamsArgs, PerformArgs};
    pub use rvirt::job::JobInfo;
    pub use rvirt::Stream;
    pub use rvirt_util::{Result, TypedParams};
}

/// Entries `slot(args) -> out = fun;`, each `path::fun(self, args)`, one
/// at a time (the path and the arguments repeat independently).
#[doc(hidden)]
#[macro_export]
macro_rules! forward_slots {
    ([$($path:tt)*]) => {};
    ([$($path:tt)*] $slot:ident($($arg:ident: $ty:ty),*) -> $out:ty = $fun:ident; $($rest:tt)*) => {
        fn $slot(&self, $($arg: $ty),*) -> $crate::slots::t::Result<$out> {
            $($path)*::$fun(self, $($arg),*)
        }
        $crate::forward_slots! { [$($path)*] $($rest)* }
    };
}

/// The twelve V3 entries (positional and `_params`), for `X: V3Phases`:
/// each the [`crate::phases`] function named after `=`.
#[macro_export]
macro_rules! migration_v3_slots {
    () => {
        $crate::forward_slots! { [$crate::phases]
            domain_migrate_begin3(dom: &$crate::slots::t::DomainRef, a: &$crate::slots::t::Begin3Args)
                -> ($crate::slots::t::Cookie, String) = begin3;
            domain_migrate_prepare3(a: &$crate::slots::t::PrepareArgs)
                -> $crate::slots::t::Prepared = prepare3;
            domain_migrate_prepare_tunnel3(st: &$crate::slots::t::Stream, a: &$crate::slots::t::PrepareArgs)
                -> $crate::slots::t::Cookie = prepare_tunnel3;
            domain_migrate_perform3(dom: &$crate::slots::t::DomainRef, a: &$crate::slots::t::PerformArgs)
                -> $crate::slots::t::Cookie = perform3;
            domain_migrate_finish3(a: &$crate::slots::t::FinishArgs, cancelled: bool)
                -> ($crate::slots::t::DomainRef, $crate::slots::t::Cookie) = finish3;
            domain_migrate_confirm3(dom: &$crate::slots::t::DomainRef, cookie: &[u8], flags: u32, cancelled: bool)
                -> () = confirm3;
            domain_migrate_begin3_params(dom: &$crate::slots::t::DomainRef, params: &$crate::slots::t::TypedParams, flags: u32)
                -> ($crate::slots::t::Cookie, String) = begin3_params;
            domain_migrate_prepare3_params(a: &$crate::slots::t::ParamsArgs)
                -> $crate::slots::t::Prepared = prepare3_params;
            domain_migrate_prepare_tunnel3_params(st: &$crate::slots::t::Stream, a: &$crate::slots::t::ParamsArgs)
                -> $crate::slots::t::Cookie = prepare_tunnel3_params;
            domain_migrate_perform3_params(dom: &$crate::slots::t::DomainRef, dconnuri: Option<&str>, a: &$crate::slots::t::ParamsArgs)
                -> $crate::slots::t::Cookie = perform3_params;
            domain_migrate_finish3_params(a: &$crate::slots::t::ParamsArgs, cancelled: bool)
                -> ($crate::slots::t::DomainRef, $crate::slots::t::Cookie) = finish3_params;
            domain_migrate_confirm3_params(dom: &$crate::slots::t::DomainRef, a: &$crate::slots::t::ParamsArgs, cancelled: bool)
                -> () = confirm3_params;
        }
    };
}

/// The eight job entries, for `X: JobCalls`: each the
/// [`crate::calls::JobCalls`] method named after `=`.
#[macro_export]
macro_rules! migration_job_slots {
    () => {
        $crate::forward_slots! { [$crate::calls::JobCalls]
            domain_get_job_info(dom: &$crate::slots::t::DomainRef)
                -> $crate::slots::t::JobInfo = job_info;
            domain_get_job_stats(dom: &$crate::slots::t::DomainRef, flags: u32)
                -> (i32, $crate::slots::t::TypedParams) = job_stats;
            domain_abort_job(dom: &$crate::slots::t::DomainRef, flags: u32)
                -> () = abort_job;
            domain_migrate_set_max_speed(dom: &$crate::slots::t::DomainRef, mib: u64, flags: u32)
                -> () = set_max_speed;
            domain_migrate_get_max_speed(dom: &$crate::slots::t::DomainRef, flags: u32)
                -> u64 = get_max_speed;
            domain_migrate_set_max_downtime(dom: &$crate::slots::t::DomainRef, ms: u64, flags: u32)
                -> () = set_max_downtime;
            domain_migrate_get_max_downtime(dom: &$crate::slots::t::DomainRef, flags: u32)
                -> u64 = get_max_downtime;
            domain_migrate_start_post_copy(dom: &$crate::slots::t::DomainRef, flags: u32)
                -> () = start_post_copy;
        }
    };
}
