//! A server's worker pool: `max_workers` normal workers and `prio_workers`
//! priority workers, with libvirt's figures and its run-time changes
//! (`virThreadPoolGetParameters`/`virThreadPoolSetParameters`, read and set
//! by virt-admin's `srv-threadpool-info`/`-set`).
//!
//! Calls run on tokio's blocking threads; the pool bounds how many at once,
//! as libvirtd's `virThreadPool` bounds its threads. A call whose procedure
//! is `@priority: high` takes whichever worker frees first, normal or
//! priority, so it still runs when every normal worker is stuck
//! (`virThreadPoolSendJob` queues it where priority workers look too);
//! other calls wait for a normal worker.
//!
//! rvirtd starts no idle threads; `nWorkers` counts the workers libvirtd
//! would have started: `minWorkers` at first, one more for each call that
//! found all of them busy, never above `maxWorkers` (libvirtd's threads
//! stay until the maximum falls below them). `freeWorkers` is the part of
//! them not running a call; `jobQueueDepth` counts calls waiting for one.

use parking_lot::Mutex;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

pub struct WorkerPool {
    state: Mutex<PoolState>,
    freed: Notify,
    /// Calls and stream pumps running on blocking threads now.
    running: AtomicUsize,
}

#[derive(Debug)]
struct PoolState {
    min: usize,
    max: usize,
    prio_max: usize,
    /// Workers "started" (see the module doc).
    started: usize,
    busy: usize,
    busy_prio: usize,
    waiting: usize,
}

/// `srv-threadpool-info`'s figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolFigures {
    pub min_workers: usize,
    pub max_workers: usize,
    pub n_workers: usize,
    pub free_workers: usize,
    pub prio_workers: usize,
    pub job_queue_depth: usize,
}

/// A worker held for one call; frees it when dropped.
pub struct Worker<'a> {
    pool: &'a WorkerPool,
    prio: bool,
    _busy: Busy<'a>,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mut st = self.pool.lock();
        if self.prio {
            st.busy_prio -= 1;
        } else {
            st.busy -= 1;
        }
        drop(st);
        self.pool.freed.notify_waiters();
    }
}

/// Counts one job running off the reactor while it lives.
pub struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A call counted in `jobQueueDepth` while it waits (also when its
/// session ends mid-wait).
struct Waiting<'a>(&'a WorkerPool);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.lock().waiting -= 1;
    }
}

impl WorkerPool {
    pub fn new(min_workers: usize, max_workers: usize, prio_workers: usize) -> WorkerPool {
        WorkerPool {
            state: Mutex::new(PoolState {
                min: min_workers,
                max: max_workers.max(1),
                prio_max: prio_workers,
                started: min_workers.min(max_workers.max(1)),
                busy: 0,
                busy_prio: 0,
                waiting: 0,
            }),
            freed: Notify::new(),
            running: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, PoolState> {
        self.state.lock()
    }

    /// Take a worker if one is free.
    fn try_take(&self, high_priority: bool) -> Option<bool> {
        let mut st = self.lock();
        if st.busy < st.max {
            st.busy += 1;
            st.started = st.started.max(st.busy);
            Some(false)
        } else if high_priority && st.busy_prio < st.prio_max {
            st.busy_prio += 1;
            Some(true)
        } else {
            None
        }
    }

    /// Wait for a worker; `None` only if the pool is gone.
    pub async fn acquire(&self, high_priority: bool) -> Option<Worker<'_>> {
        let mut waiting = None;
        loop {
            // Registered before looking, so a worker freed in between wakes us.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(prio) = self.try_take(high_priority) {
                drop(waiting);
                return Some(Worker {
                    pool: self,
                    prio,
                    _busy: self.busy(),
                });
            }
            if waiting.is_none() {
                self.lock().waiting += 1;
                waiting = Some(Waiting(self));
            }
            freed.await;
        }
    }

    /// Mark a job (a stream pump) running off the reactor without a worker.
    pub fn busy(&self) -> Busy<'_> {
        self.running.fetch_add(1, Ordering::AcqRel);
        Busy(&self.running)
    }

    /// Nothing runs on a blocking thread: a quick read cannot find the
    /// driver's lock held by a long call, so it may run on the reactor.
    pub fn idle(&self) -> bool {
        self.running.load(Ordering::Acquire) == 0
    }

    /// `virThreadPoolGetParameters`'s figures.
    pub fn figures(&self) -> PoolFigures {
        let st = self.lock();
        let n_workers = st.started.max(st.busy);
        PoolFigures {
            min_workers: st.min,
            max_workers: st.max,
            n_workers,
            free_workers: n_workers - st.busy,
            prio_workers: st.prio_max,
            job_queue_depth: st.waiting,
        }
    }

    /// `virThreadPoolSetParameters`: `None` keeps a value. Lowering a
    /// maximum lets running calls finish; raising one wakes waiting calls.
    pub fn set(&self, min: Option<usize>, max: Option<usize>, prio: Option<usize>) -> Result<()> {
        let mut st = self.lock();
        let new_min = min.unwrap_or(st.min);
        let new_max = max.unwrap_or(st.max);
        if new_min > new_max {
            return Err(invalid("minWorkers cannot be larger than maxWorkers"));
        }
        // The pool always has workers (max_workers >= 1 is checked at
        // start-up), so only a switch to zero can be asked for.
        if max == Some(0) {
            return Err(invalid(
                "maxWorkers must not be switched from zero to non-zero and vice versa",
            ));
        }
        st.min = new_min;
        st.max = new_max;
        st.started = st.started.max(new_min).min(new_max);
        if let Some(p) = prio {
            st.prio_max = p;
        }
        drop(st);
        self.freed.notify_waiters();
        Ok(())
    }
}

fn invalid(msg: &str) -> Error {
    Error::new(ErrorDomain::NONE, ErrorCode::INVALID_ARG, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn high_priority_calls_use_priority_workers_when_normal_ones_are_busy() {
        let pool = WorkerPool::new(0, 1, 1);
        rt().block_on(async {
            let normal = pool.acquire(false).await.expect("normal worker");
            assert!(!pool.idle());
            let wait = std::time::Duration::from_millis(50);
            let low = tokio::time::timeout(wait, pool.acquire(false)).await;
            assert!(low.is_err(), "a normal call waits for a normal worker");
            assert_eq!(pool.figures().job_queue_depth, 0, "gave up waiting");
            let high = tokio::time::timeout(wait, pool.acquire(true)).await;
            let high = high.expect("priority worker").expect("pool");
            let again = tokio::time::timeout(wait, pool.acquire(true)).await;
            assert!(again.is_err(), "both pools busy");
            drop((normal, high));
            assert!(pool.idle());
        });
    }

    #[test]
    fn figures_follow_the_work_and_set_changes_the_pool() {
        let pool = WorkerPool::new(2, 3, 5);
        let f = pool.figures();
        assert_eq!((f.n_workers, f.free_workers, f.prio_workers), (2, 2, 5));
        // Threads started stay, as libvirtd's do.
        rt().block_on(async {
            let w: Vec<_> = futures_take(&pool, 3).await;
            let f = pool.figures();
            assert_eq!((f.n_workers, f.free_workers), (3, 0));
            let wait = std::time::Duration::from_millis(30);
            let (late, ()) =
                tokio::join!(tokio::time::timeout(wait * 4, pool.acquire(false)), async {
                    tokio::time::sleep(wait).await;
                    assert_eq!(pool.figures().job_queue_depth, 1);
                    pool.set(None, Some(4), None).unwrap();
                });
            assert!(late.is_ok(), "a raised maximum admits the waiting call");
            drop(w);
        });
        let f = pool.figures();
        assert_eq!((f.n_workers, f.free_workers, f.max_workers), (4, 4, 4));
        pool.set(None, Some(3), None).unwrap();
        assert_eq!(pool.figures().n_workers, 3, "capped by a lowered maximum");
        let e = pool.set(Some(5), None, None).unwrap_err();
        assert_eq!(
            e.message,
            "invalid argument: minWorkers cannot be larger than maxWorkers"
        );
        assert!(pool.set(None, Some(0), None).is_err());
        pool.set(Some(1), Some(1), Some(0)).unwrap();
        assert_eq!(pool.figures().prio_workers, 0);
    }

    async fn futures_take(pool: &WorkerPool, n: usize) -> Vec<Worker<'_>> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(pool.acquire(false).await.expect("worker"));
        }
        v
    }
}
