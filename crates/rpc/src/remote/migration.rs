//! Migration procedures (v1, v2, v3 and v3 with typed parameters) and job
//! control. Cookies are opaque `<REMOTE_MIGRATE_COOKIE_MAX>`.

use super::{DOMAIN_JOB_STATS_MAX, DOMAIN_MIGRATE_PARAM_LIST_MAX, MIGRATE_COOKIE_MAX, STRING_MAX};
use crate::packet::NonnullDomain;
use rvirt_util::TypedParams;

crate::xdr_struct! {
    /// DOMAIN_MIGRATE_PREPARE (61).
    pub struct DomainMigratePrepareArgs {
        pub uri_in: Option<String> [STRING_MAX],
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
    }
    pub struct DomainMigratePrepareRet {
        pub cookie: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub uri_out: Option<String> [STRING_MAX],
    }

    /// DOMAIN_MIGRATE_PERFORM (62): ret void.
    pub struct DomainMigratePerformArgs {
        pub dom: NonnullDomain,
        pub cookie: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub uri: String [STRING_MAX],
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
    }

    /// DOMAIN_MIGRATE_FINISH (63).
    pub struct DomainMigrateFinishArgs {
        pub dname: String [STRING_MAX],
        pub cookie: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub uri: String [STRING_MAX],
        pub flags: u64,
    }
    pub struct DomainMigrateFinishRet {
        pub ddom: NonnullDomain,
    }

    /// DOMAIN_MIGRATE_PREPARE2 (108): ret [`DomainMigratePrepareRet`].
    pub struct DomainMigratePrepare2Args {
        pub uri_in: Option<String> [STRING_MAX],
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
        pub dom_xml: String [STRING_MAX],
    }

    /// DOMAIN_MIGRATE_FINISH2 (109): ret [`DomainMigrateFinishRet`].
    pub struct DomainMigrateFinish2Args {
        pub dname: String [STRING_MAX],
        pub cookie: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub uri: String [STRING_MAX],
        pub flags: u64,
        pub retcode: i32,
    }

    /// DOMAIN_MIGRATE_PREPARE_TUNNEL (148): ret void; data follows as a stream.
    pub struct DomainMigratePrepareTunnelArgs {
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
        pub dom_xml: String [STRING_MAX],
    }

    /// DOMAIN_MIGRATE_BEGIN3 (213).
    pub struct DomainMigrateBegin3Args {
        pub dom: NonnullDomain,
        pub xmlin: Option<String> [STRING_MAX],
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
    }
    pub struct DomainMigrateBegin3Ret {
        pub cookie_out: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub xml: String [STRING_MAX],
    }

    /// DOMAIN_MIGRATE_PREPARE3 (214).
    pub struct DomainMigratePrepare3Args {
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub uri_in: Option<String> [STRING_MAX],
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
        pub dom_xml: String [STRING_MAX],
    }
    pub struct DomainMigratePrepare3Ret {
        pub cookie_out: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub uri_out: Option<String> [STRING_MAX],
    }

    /// DOMAIN_MIGRATE_PREPARE_TUNNEL3 (215).
    pub struct DomainMigratePrepareTunnel3Args {
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
        pub dom_xml: String [STRING_MAX],
    }

    /// A return that is just a cookie (PREPARE_TUNNEL3, PERFORM3 and their
    /// _PARAMS forms).
    pub struct CookieOutRet {
        pub cookie_out: Vec<u8> [MIGRATE_COOKIE_MAX],
    }

    /// DOMAIN_MIGRATE_PERFORM3 (216): ret [`CookieOutRet`].
    pub struct DomainMigratePerform3Args {
        pub dom: NonnullDomain,
        pub xmlin: Option<String> [STRING_MAX],
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub dconnuri: Option<String> [STRING_MAX],
        pub uri: Option<String> [STRING_MAX],
        pub flags: u64,
        pub dname: Option<String> [STRING_MAX],
        pub bandwidth: u64,
    }

    /// DOMAIN_MIGRATE_FINISH3 (217).
    pub struct DomainMigrateFinish3Args {
        pub dname: String [STRING_MAX],
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub dconnuri: Option<String> [STRING_MAX],
        pub uri: Option<String> [STRING_MAX],
        pub flags: u64,
        pub cancelled: i32,
    }
    pub struct DomainMigrateFinish3Ret {
        pub dom: NonnullDomain,
        pub cookie_out: Vec<u8> [MIGRATE_COOKIE_MAX],
    }

    /// DOMAIN_MIGRATE_CONFIRM3 (218): ret void.
    pub struct DomainMigrateConfirm3Args {
        pub dom: NonnullDomain,
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub flags: u64,
        pub cancelled: i32,
    }

    /// DOMAIN_MIGRATE_BEGIN3_PARAMS (302): ret [`DomainMigrateBegin3Ret`].
    pub struct DomainMigrateBegin3ParamsArgs {
        pub dom: NonnullDomain,
        pub params: TypedParams [DOMAIN_MIGRATE_PARAM_LIST_MAX],
        pub flags: u32,
    }

    /// DOMAIN_MIGRATE_PREPARE3_PARAMS (303): ret [`DomainMigratePrepare3Ret`].
    pub struct DomainMigratePrepare3ParamsArgs {
        pub params: TypedParams [DOMAIN_MIGRATE_PARAM_LIST_MAX],
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub flags: u32,
    }

    /// DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS (304): ret [`CookieOutRet`].
    pub struct DomainMigratePrepareTunnel3ParamsArgs {
        pub params: TypedParams [DOMAIN_MIGRATE_PARAM_LIST_MAX],
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub flags: u32,
    }

    /// DOMAIN_MIGRATE_PERFORM3_PARAMS (305): ret [`CookieOutRet`].
    pub struct DomainMigratePerform3ParamsArgs {
        pub dom: NonnullDomain,
        pub dconnuri: Option<String> [STRING_MAX],
        pub params: TypedParams [DOMAIN_MIGRATE_PARAM_LIST_MAX],
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub flags: u32,
    }

    /// DOMAIN_MIGRATE_FINISH3_PARAMS (306): ret [`DomainMigrateFinish3Ret`].
    pub struct DomainMigrateFinish3ParamsArgs {
        pub params: TypedParams [DOMAIN_MIGRATE_PARAM_LIST_MAX],
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub flags: u32,
        pub cancelled: i32,
    }

    /// DOMAIN_MIGRATE_CONFIRM3_PARAMS (307): ret void.
    pub struct DomainMigrateConfirm3ParamsArgs {
        pub dom: NonnullDomain,
        pub params: TypedParams [DOMAIN_MIGRATE_PARAM_LIST_MAX],
        pub cookie_in: Vec<u8> [MIGRATE_COOKIE_MAX],
        pub flags: u32,
        pub cancelled: i32,
    }

    /// DOMAIN_GET_JOB_INFO (163): args [`DomainArgs`](super::domain::DomainArgs).
    pub struct DomainGetJobInfoRet {
        pub type_: i32,
        pub time_elapsed: u64,
        pub time_remaining: u64,
        pub data_total: u64,
        pub data_processed: u64,
        pub data_remaining: u64,
        pub mem_total: u64,
        pub mem_processed: u64,
        pub mem_remaining: u64,
        pub file_total: u64,
        pub file_processed: u64,
        pub file_remaining: u64,
    }

    /// DOMAIN_GET_JOB_STATS (298): args [`DomainFlagsArgs`](super::domain::DomainFlagsArgs).
    pub struct DomainGetJobStatsRet {
        pub type_: i32,
        pub params: TypedParams [DOMAIN_JOB_STATS_MAX],
    }

    /// DOMAIN_MIGRATE_SET_MAX_SPEED (207): ret void.
    pub struct DomainMigrateSetMaxSpeedArgs {
        pub dom: NonnullDomain,
        pub bandwidth: u64,
        pub flags: u32,
    }

    /// DOMAIN_MIGRATE_GET_MAX_SPEED (242): args [`DomainFlagsArgs`](super::domain::DomainFlagsArgs).
    pub struct DomainMigrateGetMaxSpeedRet {
        pub bandwidth: u64,
    }

    /// DOMAIN_MIGRATE_SET_MAX_DOWNTIME (166): ret void.
    pub struct DomainMigrateSetMaxDowntimeArgs {
        pub dom: NonnullDomain,
        pub downtime: u64,
        pub flags: u32,
    }

    /// DOMAIN_MIGRATE_GET_MAX_DOWNTIME (387): args [`DomainFlagsArgs`](super::domain::DomainFlagsArgs).
    pub struct DomainMigrateGetMaxDowntimeRet {
        pub downtime: u64,
    }
}

pub type DomainMigratePrepare2Ret = DomainMigratePrepareRet;
pub type DomainMigrateFinish2Ret = DomainMigrateFinishRet;
pub type DomainMigratePrepareTunnel3Ret = CookieOutRet;
pub type DomainMigratePerform3Ret = CookieOutRet;
pub type DomainMigrateBegin3ParamsRet = DomainMigrateBegin3Ret;
pub type DomainMigratePrepare3ParamsRet = DomainMigratePrepare3Ret;
pub type DomainMigratePrepareTunnel3ParamsRet = CookieOutRet;
pub type DomainMigratePerform3ParamsRet = CookieOutRet;
pub type DomainMigrateFinish3ParamsRet = DomainMigrateFinish3Ret;
/// DOMAIN_GET_JOB_INFO (163).
pub type DomainGetJobInfoArgs = super::domain::DomainArgs;
/// DOMAIN_GET_JOB_STATS (298).
pub type DomainGetJobStatsArgs = super::domain::DomainFlagsArgs;
/// DOMAIN_ABORT_JOB (164): ret void.
pub type DomainAbortJobArgs = super::domain::DomainArgs;
/// DOMAIN_ABORT_JOB_FLAGS (442): ret void.
pub type DomainAbortJobFlagsArgs = super::domain::DomainFlagsArgs;
/// DOMAIN_MIGRATE_GET_MAX_SPEED (242).
pub type DomainMigrateGetMaxSpeedArgs = super::domain::DomainFlagsArgs;
/// DOMAIN_MIGRATE_GET_MAX_DOWNTIME (387).
pub type DomainMigrateGetMaxDowntimeArgs = super::domain::DomainFlagsArgs;
/// DOMAIN_MIGRATE_START_POST_COPY (364): ret void.
pub type DomainMigrateStartPostCopyArgs = super::domain::DomainFlagsArgs;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::{XdrDecode, XdrEncode};
    use rvirt_util::TypedParamValue;

    fn dom() -> NonnullDomain {
        NonnullDomain {
            name: "g".into(),
            uuid: [0xab; 16],
            id: 3,
        }
    }

    /// remote_nonnull_domain "g", uuid ab.., id 3.
    fn dom_bytes() -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1, b'g', 0, 0, 0];
        v.extend_from_slice(&[0xab; 16]);
        v.extend_from_slice(&[0, 0, 0, 3]);
        v
    }

    #[test]
    fn perform3_params_layout() {
        // dom, remote_string dconnuri, params<>, opaque cookie_in<>, u32 flags
        let a = DomainMigratePerform3ParamsArgs {
            dom: dom(),
            dconnuri: Some("x".into()),
            params: TypedParams::new().with("bandwidth", TypedParamValue::ULLong(5)),
            cookie_in: vec![1, 2],
            flags: 0x103,
        };
        #[rustfmt::skip]
        let want: Vec<u8> = [
            dom_bytes(),
            vec![0, 0, 0, 1, 0, 0, 0, 1, b'x', 0, 0, 0],
            vec![0, 0, 0, 1, 0, 0, 0, 9],
            b"bandwidth\0\0\0".to_vec(),
            vec![0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5],
            vec![0, 0, 0, 2, 1, 2, 0, 0],
            vec![0, 0, 1, 3],
        ]
        .concat();
        assert_eq!(a.to_xdr().unwrap(), want);
        assert_eq!(DomainMigratePerform3ParamsArgs::from_xdr(&want).unwrap(), a);
    }

    #[test]
    fn v1_flags_are_hyper_and_finish3_cancelled_is_int() {
        // remote_domain_migrate_prepare_args: remote_string uri_in,
        // unsigned hyper flags, remote_string dname, unsigned hyper bandwidth.
        let a = DomainMigratePrepareArgs {
            uri_in: None,
            flags: 1,
            dname: None,
            bandwidth: 2,
        };
        #[rustfmt::skip]
        assert_eq!(
            a.to_xdr().unwrap(),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
        );
        let r = DomainMigrateFinish3ParamsRet {
            dom: dom(),
            cookie_out: vec![],
        };
        let mut want = dom_bytes();
        want.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(r.to_xdr().unwrap(), want);
        let c = DomainMigrateConfirm3ParamsArgs {
            dom: dom(),
            params: TypedParams::new(),
            cookie_in: vec![],
            flags: 0,
            cancelled: 1,
        };
        let mut want = dom_bytes();
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(c.to_xdr().unwrap(), want);
    }

    #[test]
    fn job_info_is_int_and_eleven_hypers() {
        let r = DomainGetJobInfoRet {
            type_: 2,
            time_elapsed: 7,
            ..Default::default()
        };
        let bytes = r.to_xdr().unwrap();
        assert_eq!(bytes.len(), 4 + 11 * 8);
        assert_eq!(&bytes[..12], [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7]);
        // Cookies above REMOTE_MIGRATE_COOKIE_MAX are refused.
        let big = CookieOutRet {
            cookie_out: vec![0; MIGRATE_COOKIE_MAX + 1],
        };
        assert!(big.to_xdr().is_err());
    }
}
