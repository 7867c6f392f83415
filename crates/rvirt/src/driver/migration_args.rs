//! The inputs of the positional migration phases, one struct per phase
//! family, shared by the driver trait ([`super::MigrationDriver`]), the
//! public API (`Connect::migrate_prepare3`, `Domain::migrate_perform3`, ...)
//! and every driver.
//!
//! libvirt grew the same inputs phase by phase (V1 prepare, V2 adds the
//! domain XML, V3 adds cookies and the destination URI) and then folded
//! them into one typed-parameter list for the `_params` forms. These structs
//! are the positional forms' counterpart of that list: a phase reads the
//! fields its libvirt signature has and leaves the rest at their default
//! (empty cookie, `None`, empty XML), so a field never means two things.

/// `virDomainMigratePrepare` / `Prepare2` / `Prepare3` / `PrepareTunnel` /
/// `PrepareTunnel3`, on the destination.
#[derive(Clone, Copy, Debug, Default)]
pub struct PrepareArgs<'a> {
    /// The source's begin cookie (V3 only).
    pub cookie_in: &'a [u8],
    /// Where the destination should listen (not for tunnelled prepares).
    pub uri_in: Option<&'a str>,
    pub flags: u32,
    pub dname: Option<&'a str>,
    /// MiB/s; 0 means unlimited.
    pub bandwidth: u64,
    /// The domain XML from the source (all but V1 prepare, which gets it
    /// in the migration stream).
    pub dom_xml: &'a str,
}

/// `virDomainMigrateBegin3`, on the source.
#[derive(Clone, Copy, Debug, Default)]
pub struct Begin3Args<'a> {
    /// The XML the destination should use instead of the current one.
    pub xmlin: Option<&'a str>,
    pub flags: u32,
    pub dname: Option<&'a str>,
    pub bandwidth: u64,
}

/// `virDomainMigratePerform` (V1/V2: `uri` set, no `xmlin` or `dconnuri`)
/// and `virDomainMigratePerform3`, on the source.
#[derive(Clone, Copy, Debug, Default)]
pub struct PerformArgs<'a> {
    pub xmlin: Option<&'a str>,
    /// The destination's prepare cookie.
    pub cookie_in: &'a [u8],
    /// With PEER2PEER, the destination daemon's URI: the source driver then
    /// runs the whole protocol itself.
    pub dconnuri: Option<&'a str>,
    /// The migration URI (where the memory stream goes).
    pub uri: Option<&'a str>,
    pub flags: u32,
    pub dname: Option<&'a str>,
    pub bandwidth: u64,
}

/// `virDomainMigrateFinish` / `Finish2` (`uri` set, no `dconnuri`) and
/// `virDomainMigrateFinish3`, on the destination. Whether the source's
/// perform failed travels beside it: `retcode` for V2, `cancelled` for V3.
#[derive(Clone, Copy, Debug, Default)]
pub struct FinishArgs<'a> {
    pub dname: &'a str,
    /// The source's perform cookie.
    pub cookie_in: &'a [u8],
    pub dconnuri: Option<&'a str>,
    pub uri: Option<&'a str>,
    pub flags: u32,
}

/// What every `_params` phase after begin carries
/// (`virDomainMigratePrepare3Params`, `PrepareTunnel3Params`,
/// `Perform3Params`, `Finish3Params`, `Confirm3Params`): the typed
/// parameters, the previous phase's cookie and the flags.
#[derive(Clone, Copy, Debug)]
pub struct ParamsArgs<'a> {
    pub params: &'a crate::TypedParams,
    pub cookie_in: &'a [u8],
    pub flags: u32,
}
