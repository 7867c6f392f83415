//! The driver's own async runtime: the API entry points are synchronous
//! (called on the daemon's worker threads), the monitors and child
//! processes are async. Two threads serve every guest's monitor.

use rvirt_util::{Error, ErrorDomain, Result};
use std::future::Future;

pub struct Runtime {
    rt: tokio::runtime::Runtime,
}

impl Runtime {
    pub fn new() -> Result<Runtime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("qemu-driver")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::system(
                    ErrorDomain::QEMU,
                    "cannot start the QEMU driver's runtime",
                    &e,
                )
            })?;
        Ok(Runtime { rt })
    }

    /// Run `fut` on the driver's runtime and wait for it. Works from any
    /// thread, including another runtime's (the future never runs on the
    /// caller's executor).
    pub fn run<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = self.rt.spawn(fut);
        match futures::executor::block_on(task) {
            Ok(out) => out,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.rt.handle()
    }
}
