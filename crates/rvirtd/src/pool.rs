//! The worker pool's admission: `max_workers` normal workers and
//! `prio_workers` priority workers, daemon-wide.
//!
//! Calls run on tokio's blocking threads; these semaphores bound how many
//! at once, as libvirtd's `virThreadPool` bounds its threads. A call whose
//! procedure is `@priority: high` takes whichever worker frees first,
//! normal or priority, so it still runs when every normal worker is stuck
//! (`virThreadPoolSendJob` queues it where priority workers look too);
//! other calls wait for a normal worker.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct WorkerPool {
    normal: Arc<Semaphore>,
    prio: Arc<Semaphore>,
    /// Calls and stream pumps running on blocking threads now.
    running: AtomicUsize,
}

/// A worker held for one call; frees it when dropped.
pub struct Worker<'a> {
    _permit: OwnedSemaphorePermit,
    _busy: Busy<'a>,
}

/// Counts one job running off the reactor while it lives.
pub struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl WorkerPool {
    pub fn new(max_workers: usize, prio_workers: usize) -> WorkerPool {
        WorkerPool {
            normal: Arc::new(Semaphore::new(max_workers.max(1))),
            prio: Arc::new(Semaphore::new(prio_workers)),
            running: AtomicUsize::new(0),
        }
    }

    /// Wait for a worker; `None` only if the pool is gone.
    pub async fn acquire(&self, high_priority: bool) -> Option<Worker<'_>> {
        let permit = if high_priority {
            tokio::select! {
                biased;
                p = self.normal.clone().acquire_owned() => p,
                p = self.prio.clone().acquire_owned() => p,
            }
        } else {
            self.normal.clone().acquire_owned().await
        };
        Some(Worker {
            _permit: permit.ok()?,
            _busy: self.busy(),
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_priority_calls_use_priority_workers_when_normal_ones_are_busy() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let pool = WorkerPool::new(1, 1);
        rt.block_on(async {
            let normal = pool.acquire(false).await.expect("normal worker");
            assert!(!pool.idle());
            let wait = std::time::Duration::from_millis(50);
            let low = tokio::time::timeout(wait, pool.acquire(false)).await;
            assert!(low.is_err(), "a normal call waits for a normal worker");
            let high = tokio::time::timeout(wait, pool.acquire(true)).await;
            let high = high.expect("priority worker").expect("pool");
            let again = tokio::time::timeout(wait, pool.acquire(true)).await;
            assert!(again.is_err(), "both pools busy");
            drop((normal, high));
            assert!(pool.idle());
        });
    }
}
