//! The test driver's destination end for the shared engine
//! (`rvirt_hypervisor::destination`): prepare, finish and discard are the
//! simulated guest's, in [`super::incoming`].

use super::incoming::{self, Incoming};
use super::SUPPORT;
use crate::state::TestState;
use rvirt::driver::DomainRef;
use rvirt_conf::MigrationCookie;
use rvirt_hypervisor::destination::{DestinationBackend, IncomingRequest, Prepared};
use rvirt_hypervisor::incoming::Registry;
use rvirt_hypervisor::MigrationSupport;
use rvirt_util::Result;
use std::sync::Arc;

/// One test-driver host as a migration destination.
pub struct Destination<'a>(pub &'a Arc<TestState>);

impl DestinationBackend for Destination<'_> {
    type Incoming = Incoming;

    fn support(&self) -> &MigrationSupport {
        &SUPPORT
    }
    fn host_uuid(&self) -> [u8; 16] {
        self.0.migration.host_uuid()
    }
    fn registry(&self) -> &Registry<Incoming> {
        &self.0.migration.incoming
    }
    fn prepare(&self, r: IncomingRequest) -> Result<Prepared<Incoming>> {
        incoming::prepare(self.0, r)
    }
    fn discard(&self, inc: &Arc<Incoming>) {
        incoming::cleanup(self.0, inc);
    }
    fn finish(
        &self,
        inc: &Arc<Incoming>,
        cookie_in: &[u8],
        flags: u32,
    ) -> Result<(DomainRef, MigrationCookie)> {
        incoming::finish(self.0, inc, cookie_in, flags)
    }
}
