//! `virDomainSetIOThreadParams` (libvirt's `qemuDomainSetIOThreadParams`
//! and the MOD action of `qemuDomainChgIOThread`): an IOThread's polling
//! (`poll-max-ns`, `poll-grow`, `poll-shrink`, which the domain XML does
//! not record) and its thread pool bounds set live on the `iothreadN`
//! object with `qom-set`; the bounds, which `<iothreadids>` records, go
//! to the live definition and, with `--config`, the persistent one.

use crate::connection::check_flags;
use crate::driver::Driver;
use crate::ops;
use crate::state::Running;
use crate::tuning::{commit_live, error, Live, CONFIG, LIVE};
use rvirt::driver::DomainRef;
use rvirt_conf::domain::iothreads::IoThread;
use rvirt_conf::DomainDef;
use rvirt_util::{ErrorCode, Result, TypedParamType as T, TypedParamValue as V, TypedParams};

/// `qemuMonitorIOThreadInfo`'s settable part: what the call sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IoThreadChange {
    pub poll_max_ns: Option<u64>,
    pub poll_grow: Option<u32>,
    pub poll_shrink: Option<u32>,
    pub pool_min: Option<i32>,
    pub pool_max: Option<i32>,
}

impl IoThreadChange {
    fn polls(&self) -> bool {
        self.poll_max_ns.is_some() || self.poll_grow.is_some() || self.poll_shrink.is_some()
    }
}

fn unsupported(text: String) -> rvirt_util::Error {
    error(ErrorCode::CONFIG_UNSUPPORTED, text)
}

/// `qemuDomainIOThreadParseParams`.
pub(crate) fn parse(params: &TypedParams) -> Result<IoThreadChange> {
    params.validate(&[
        ("poll_max_ns", T::ULLong, false),
        ("poll_grow", T::UInt, false),
        ("poll_shrink", T::UInt, false),
        ("thread_pool_min", T::Int, false),
        ("thread_pool_max", T::Int, false),
    ])?;
    let uint = |f: &str| match params.get(f) {
        Some(V::UInt(v)) => Some(*v),
        _ => None,
    };
    let int = |f: &str| match params.get(f) {
        Some(V::Int(v)) => Some(*v),
        _ => None,
    };
    let change = IoThreadChange {
        poll_max_ns: match params.get("poll_max_ns") {
            Some(V::ULLong(v)) => Some(*v),
            _ => None,
        },
        poll_grow: uint("poll_grow"),
        poll_shrink: uint("poll_shrink"),
        pool_min: int("thread_pool_min"),
        pool_max: int("thread_pool_max"),
    };
    const MAX: i32 = i32::MAX;
    if let Some(v) = change.poll_max_ns.filter(|v| *v > MAX as u64) {
        return Err(unsupported(format!(
            "poll-max-ns ({v}) must be less than or equal to {MAX}"
        )));
    }
    for (name, value) in [
        ("poll-grow", change.poll_grow),
        ("poll-shrink", change.poll_shrink),
    ] {
        if let Some(v) = value.filter(|v| *v > MAX as u32) {
            return Err(unsupported(format!(
                "{name} ({v}) must be less than or equal to {MAX}"
            )));
        }
    }
    if let Some(v) = change.pool_min.filter(|v| *v < -1) {
        return Err(unsupported(format!(
            "thread_pool_min ({v}) must be equal to or greater than -1"
        )));
    }
    if let Some(v) = change.pool_max.filter(|v| *v < -1 || *v == 0) {
        return Err(unsupported(format!(
            "thread_pool_max ({v}) must be a positive number or -1"
        )));
    }
    Ok(change)
}

/// `qemuDomainIOThreadValidate`: the bounds after the change (unset is
/// libvirt's -1) must keep min at most max; a live change cannot go back
/// to QEMU's default (-1).
fn validate(thread: &IoThread, change: &IoThreadChange, live: bool) -> Result<()> {
    let invalid = |text: String| Err(error(ErrorCode::OPERATION_INVALID, text));
    let mut min = thread.pool_min.unwrap_or(-1);
    let mut max = thread.pool_max.unwrap_or(-1);
    if let Some(v) = change.pool_min {
        if live && v < 0 {
            return invalid(format!(
                "thread_pool_min ({v}) must be equal to or greater than 0 for live change"
            ));
        }
        min = v;
    }
    if let Some(v) = change.pool_max {
        if live && v < 0 {
            return invalid(format!(
                "thread_pool_max ({v}) must be equal to or greater than 0 for live change"
            ));
        }
        max = v;
    }
    if min > max {
        return invalid(format!(
            "thread_pool_min ({min}) can't be greater than thread_pool_max ({max})"
        ));
    }
    Ok(())
}

/// `qemuDomainHotplugModIOThreadIDDef`: the bounds into the definition
/// (-1 is "unset").
fn record(thread: &mut IoThread, change: &IoThreadChange) {
    let bound = |v: i32| (v >= 0).then_some(v);
    if let Some(v) = change.pool_min {
        thread.pool_min = bound(v);
    }
    if let Some(v) = change.pool_max {
        thread.pool_max = bound(v);
    }
}

fn find_mut(def: &mut DomainDef, id: u32) -> Result<&mut IoThread> {
    def.iothreads
        .ids
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| {
            error(
                ErrorCode::INVALID_ARG,
                format!("cannot find IOThread '{id}' in iothreadids"),
            )
        })
}

pub(crate) fn set(
    driver: &Driver,
    dom: &DomainRef,
    id: u32,
    params: &TypedParams,
    flags: u32,
) -> Result<()> {
    check_flags("qemuDomainSetIOThreadParams", flags, LIVE | CONFIG)?;
    if id == 0 {
        return Err(error(
            ErrorCode::INVALID_ARG,
            "invalid value of 0 for iothread_id",
        ));
    }
    driver.domains.lock().get(dom)?;
    let change = parse(params)?;
    ops::with_job(driver, dom, || {
        let (live, config) = crate::vcpus::resolve_scope(driver, dom, flags)?;
        if config {
            let mut next = {
                let domains = driver.domains.lock();
                domains.get(dom)?.next_config().clone()
            };
            let thread = find_mut(&mut next, id)?;
            validate(thread, &change, false)?;
            if change.polls() {
                return Err(error(
                    ErrorCode::OPERATION_UNSUPPORTED,
                    "configuring persistent polling values is not supported",
                ));
            }
        }
        if live {
            let state = Live::get(driver, dom)?;
            let mut def = state.def.clone();
            validate(find_mut(&mut def, id)?, &change, true)?;
            let run = state.run.clone();
            driver
                .rt
                .run(async move { set_object(&run, id, &change).await })?;
            commit_live(driver, dom, |def| {
                if let Ok(thread) = find_mut(def, id) {
                    record(thread, &change);
                }
            });
        }
        if config {
            ops::update_config(driver, dom, |def| {
                if let Ok(thread) = find_mut(def, id) {
                    record(thread, &change);
                }
            })?;
        }
        Ok(())
    })
}

/// `qemuMonitorJSONSetIOThread`: each value set with `qom-set` on
/// `/objects/iothreadN`; with both bounds, the maximum first when the
/// current maximum is below the new minimum (QEMU refuses a minimum
/// above the maximum).
async fn set_object(run: &Running, id: u32, change: &IoThreadChange) -> Result<()> {
    let path = format!("/objects/iothread{id}");
    let set = |property: &str, value: i64| qapi::qmp::qom_set {
        path: path.clone(),
        property: property.to_string(),
        value: serde_json::Value::from(value),
    };
    let polls = [
        ("poll-max-ns", change.poll_max_ns.map(|v| v as i64)),
        ("poll-grow", change.poll_grow.map(i64::from)),
        ("poll-shrink", change.poll_shrink.map(i64::from)),
    ];
    for (property, value) in polls {
        if let Some(v) = value {
            run.monitor.execute(set(property, v)).await?;
        }
    }
    let mut max_first = false;
    if let (Some(min), Some(_)) = (change.pool_min, change.pool_max) {
        let current = run
            .monitor
            .execute(qapi::qmp::qom_get {
                path: path.clone(),
                property: "thread-pool-max".into(),
            })
            .await?;
        max_first = current.as_i64().unwrap_or(-1) < i64::from(min);
    }
    let mut pools = [
        ("thread-pool-min", change.pool_min),
        ("thread-pool-max", change.pool_max),
    ];
    if max_first {
        pools.reverse();
    }
    for (property, value) in pools {
        if let Some(v) = value {
            run.monitor.execute(set(property, i64::from(v))).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, V)]) -> TypedParams {
        let mut p = TypedParams::new();
        for (f, v) in list {
            p.push(*f, v.clone());
        }
        p
    }

    fn message(r: Result<IoThreadChange>) -> String {
        r.err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn parameters_are_checked_as_libvirt_checks_them() {
        let ok = parse(&params(&[
            ("poll_max_ns", V::ULLong(100)),
            ("thread_pool_max", V::Int(4)),
        ]))
        .unwrap();
        assert_eq!(
            (ok.poll_max_ns, ok.pool_max, ok.polls()),
            (Some(100), Some(4), true)
        );
        assert_eq!(
            message(parse(&params(&[("poll_max_ns", V::ULLong(1 << 31))]))),
            "unsupported configuration: poll-max-ns (2147483648) must be less than or equal to 2147483647"
        );
        assert_eq!(
            message(parse(&params(&[("poll_grow", V::UInt(1 << 31))]))),
            "unsupported configuration: poll-grow (2147483648) must be less than or equal to 2147483647"
        );
        assert_eq!(
            message(parse(&params(&[("thread_pool_min", V::Int(-2))]))),
            "unsupported configuration: thread_pool_min (-2) must be equal to or greater than -1"
        );
        assert_eq!(
            message(parse(&params(&[("thread_pool_max", V::Int(0))]))),
            "unsupported configuration: thread_pool_max (0) must be a positive number or -1"
        );
        assert_eq!(
            message(parse(&params(&[("poll_grow", V::Int(1))]))),
            "invalid argument: invalid type 'int' for parameter 'poll_grow', expected 'uint'"
        );
    }

    #[test]
    fn bounds_are_validated_against_the_thread() {
        let thread = IoThread {
            id: 1,
            pool_min: None,
            pool_max: None,
            autofill: false,
        };
        let min = |v| IoThreadChange {
            pool_min: Some(v),
            ..Default::default()
        };
        let err = validate(&thread, &min(2), false).unwrap_err();
        assert_eq!(
            err.message,
            "Requested operation is not valid: thread_pool_min (2) can't be greater than thread_pool_max (-1)"
        );
        let err = validate(&thread, &min(-1), true).unwrap_err();
        assert_eq!(
            err.message,
            "Requested operation is not valid: thread_pool_min (-1) must be equal to or greater than 0 for live change"
        );
        let both = IoThreadChange {
            pool_min: Some(1),
            pool_max: Some(4),
            ..Default::default()
        };
        validate(&thread, &both, true).unwrap();
        let mut t = thread.clone();
        record(&mut t, &both);
        assert_eq!((t.pool_min, t.pool_max), (Some(1), Some(4)));
        record(
            &mut t,
            &IoThreadChange {
                pool_max: Some(-1),
                ..Default::default()
            },
        );
        assert_eq!(t.pool_max, None);
    }
}
