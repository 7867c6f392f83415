//! The test driver: libvirt's `test:///default` and `test:///PATH.xml`, an
//! in-memory hypervisor with libvirt's figures, used by CI and demos to run
//! every API (and, later, every migration mode) without a real hypervisor.
//!
//! As in libvirt, every connection to `test:///default` within one process
//! shares a single state, created by the first open and dropped after the
//! last close; a node-description file gives each connection its own state.

mod caps;
mod connection;
mod node;
mod objects;
mod state;

use connection::TestConnection;
use rvirt::driver::{ConnectDriver, OpenOutcome};
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result, Uri};
use state::TestState;
use std::sync::{Arc, Mutex, Weak};

/// The shared state behind `test:///default` while any connection holds it.
static DEFAULT_STATE: Mutex<Weak<TestState>> = Mutex::new(Weak::new());

pub struct TestDriver;

/// Register the test driver with the public API.
pub fn register() {
    rvirt::registry::register(Arc::new(TestDriver));
}

impl ConnectDriver for TestDriver {
    fn name(&self) -> &'static str {
        "Test"
    }

    fn open(&self, uri: &Uri, _flags: u32) -> Result<OpenOutcome> {
        if uri.scheme != "test" || uri.server.is_some() {
            return Ok(OpenOutcome::Declined);
        }
        let state = match uri.path.as_str() {
            "/default" => default_state()?,
            "" | "/" => {
                return Err(Error::new(
                    ErrorDomain::TEST,
                    ErrorCode::INVALID_ARG,
                    "testOpen: supply a path or use test:///default",
                ))
            }
            path => Arc::new(TestState::from_file(path)?),
        };
        let conn = TestConnection::new(state, uri.to_string());
        Ok(OpenOutcome::Opened(Arc::new(conn)))
    }
}

fn default_state() -> Result<Arc<TestState>> {
    let mut slot = DEFAULT_STATE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(state) = slot.upgrade() {
        return Ok(state);
    }
    let state = Arc::new(TestState::default_config()?);
    *slot = Arc::downgrade(&state);
    Ok(state)
}
