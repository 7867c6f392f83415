//! What every hypervisor driver shares for migration, as libvirt grew
//! src/hypervisor/ for its job code: drivers supply only the hypervisor
//! part ([`backend`]) and the engine runs the rest.
//!
//! * [`job`]: the domain job — phase enum with its forward-only
//!   transition, abort token, progress, the domain's tunables and each
//!   job's own copy of them.
//! * [`rules`]: the flags and params a driver honours, and libvirt's
//!   refusals of combinations, checked before anything moves.
//! * [`calls`]: the job entry points (job info/stats, abort, max speed and
//!   downtime, post-copy) every driver answers alike.
//! * [`request`]: the migration params read once.
//! * [`incoming`]: the destination's state enum, transfer outcome and
//!   registries of prepared migrations.
//! * [`destination`]: prepare and finish on the destination, over a
//!   [`destination::DestinationBackend`].
//! * [`cookie`]: the cookie each end sends and the checks on the other's.
//! * [`source`]: begin, perform and confirm on the source, over a
//!   [`backend::SourceBackend`].
//! * [`resume`]: recovery of a failed post-copy migration
//!   (VIR_MIGRATE_POSTCOPY_RESUME) over the jobs post-copy left.
//! * [`tunnel`]: the tunnelled stream pump, both ways.
//! * [`phases`]: the V3 entries of the driver trait (begin3 to confirm3
//!   and their `_params` forms) over a driver's [`phases::V3Phases`].
//! * [`slots`]: the macros writing those entries into a driver's
//!   `MigrationDriver` impl.
//! * [`p2p`]: the source driving the destination daemon itself
//!   (PEER2PEER, TUNNELLED), V3-params / V3 / V2 chosen from the
//!   destination's features.
//!
//! Dependencies: rvirt (driver traits, `Connect`, `Stream`), rvirt-conf,
//! rvirt-util only. Drivers depend on this crate, never on each other.

pub mod backend;
pub mod calls;
pub mod cookie;
pub mod destination;
pub mod incoming;
pub mod job;
pub mod p2p;
pub mod phases;
pub mod request;
pub mod resume;
pub mod rules;
pub mod slots;
pub mod source;
pub mod times;
pub mod tunnel;

pub use backend::{SourceBackend, Target};
pub use destination::{DestinationBackend, IncomingChannel};
pub use job::{DomainJob, Job, Phase, Tunables};
pub use request::Request;
pub use rules::MigrationSupport;
pub use source::{Jobs, Outgoing, Perform};
