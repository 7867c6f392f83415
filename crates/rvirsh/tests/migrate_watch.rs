//! The job watcher's `--timeout` action, on the in-process test driver: the
//! watcher suspends the domain once the time is up while the job call is
//! still running, and does nothing before or without a timeout. (One test:
//! the in-process `test:///default` host is shared by this file's tests.)

use rvirsh::watch::{watch_job, TimeoutAction, WatchOptions};
use rvirt::{Connect, Domain, DomainState};
use std::time::{Duration, Instant};

fn running_test_domain() -> (Connect, Domain) {
    rvirt_driver_test::register();
    let conn = Connect::open("test:///default").unwrap();
    let dom = conn.lookup_by_name("test").unwrap();
    (conn, dom)
}

/// Stand-in for a blocking migration call: waits until the domain is
/// paused (or `limit` passes) and says what it saw and when.
fn wait_paused(dom: &Domain, limit: Duration) -> (DomainState, Duration) {
    let start = Instant::now();
    loop {
        let (state, _) = dom.get_state().unwrap();
        if state == DomainState::Paused || start.elapsed() >= limit {
            return (state, start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn opts(timeout: Option<(Duration, TimeoutAction)>) -> WatchOptions {
    WatchOptions {
        label: "Migration",
        verbose: false,
        timeout,
        postcopy_after_precopy: false,
    }
}

#[test]
fn timeout_suspend_pauses_the_domain_only_when_the_time_is_up() {
    let (_conn, dom) = running_test_domain();
    let o = opts(Some((Duration::from_millis(300), TimeoutAction::Suspend)));
    let (state, after) = watch_job(&dom, &o, || {
        Ok::<_, ()>(wait_paused(&dom, Duration::from_secs(10)))
    })
    .unwrap();
    assert_eq!(state, DomainState::Paused);
    assert!(
        after >= Duration::from_millis(300),
        "suspended early: {after:?}"
    );
    assert!(after < Duration::from_secs(5), "suspended late: {after:?}");
    // The job call's own result is passed through untouched.
    let r: Result<(), &str> = watch_job(&dom, &opts(None), || Err("job failed"));
    assert_eq!(r, Err("job failed"));
    dom.resume().unwrap();

    // No action without a timeout, nor before it is up.
    let (state, _) = watch_job(&dom, &opts(None), || {
        Ok::<_, ()>(wait_paused(&dom, Duration::from_millis(400)))
    })
    .unwrap();
    assert_eq!(state, DomainState::Running);
    let late = opts(Some((Duration::from_secs(30), TimeoutAction::Suspend)));
    let (state, _) = watch_job(&dom, &late, || {
        Ok::<_, ()>(wait_paused(&dom, Duration::from_millis(400)))
    })
    .unwrap();
    assert_eq!(state, DomainState::Running);
}
