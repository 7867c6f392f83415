//! `testDomainRevertToSnapshot`: the domain takes the snapshot's
//! definition back and the run state it recorded, or the one asked for.
//! libvirt's transitions and their events:
//!
//! | from \ to | shut off | running | paused |
//! |---|---|---|---|
//! | inactive | none | STARTED | STARTED, SUSPENDED |
//! | running or paused | STOPPED | STOPPED, STARTED | STOPPED, STARTED, SUSPENDED |
//!
//! As in libvirt 9.0, reverting to a shut-off snapshot with RUNNING or
//! PAUSED raises the STARTED (and SUSPENDED) events without starting the
//! guest.

use crate::snapshots::paused_after;
use crate::state::Inner;
use rvirt::driver::DomainRef;
use rvirt::events::lifecycle;
use rvirt::flags::snapshot_revert as revert;
use rvirt::types::{reason, DomainState};
use rvirt_conf::snapshot::SnapshotState;
use rvirt_util::{Error, ErrorCode, ErrorDomain, Result};

pub fn revert(inner: &mut Inner, dom: &DomainRef, name: &str, flags: u32) -> Result<()> {
    let obj = inner.domains.get(dom)?;
    let snap = obj.snapshots.find(name)?;
    let state = snap.state.unwrap_or(SnapshotState::NoState);
    let run_or_pause = flags & (revert::RUNNING | revert::PAUSED) != 0;
    if !obj.persistent && !state.is_online() && !run_or_pause {
        return Err(Error::operation_invalid(
            ErrorDomain::TEST,
            "transient domain needs to request run or pause to revert to inactive snapshot",
        ));
    }
    let Some(config) = snap.dom.clone() else {
        return Err(Error::new(
            ErrorDomain::TEST,
            ErrorCode::SNAPSHOT_REVERT_RISKY,
            format!(
                "snapshot '{}' lacks domain '{}' rollback info",
                snap.name, obj.def.name
            ),
        ));
    };
    let was_active = obj.is_active();
    let mut events = Vec::new();
    if was_active {
        events.push((lifecycle::STOPPED, lifecycle::STOPPED_FROM_SNAPSHOT));
    }
    let started = state.is_online() || run_or_pause;
    if started {
        events.push((lifecycle::STARTED, lifecycle::STARTED_FROM_SNAPSHOT));
    }
    let paused = if state.is_online() {
        paused_after(state, flags)
    } else {
        flags & revert::PAUSED != 0
    };
    if paused {
        events.push((lifecycle::SUSPENDED, lifecycle::SUSPENDED_FROM_SNAPSHOT));
    }
    let id = state.is_online().then(|| inner.allocate_id());
    let obj = inner.domains.get_mut(dom)?;
    if was_active {
        obj.stop(reason::SHUTOFF_FROM_SNAPSHOT);
    }
    obj.def = config;
    obj.new_def = None;
    if let Some(id) = id {
        obj.id = id;
        obj.set_state(DomainState::Running, reason::RUNNING_FROM_SNAPSHOT);
        if paused {
            obj.set_state(DomainState::Paused, reason::PAUSED_FROM_SNAPSHOT);
        }
    }
    obj.snapshots.set_current(Some(name));
    let r = obj.domain_ref();
    for (event, detail) in events {
        inner.emit_lifecycle(r.clone(), event, detail);
    }
    Ok(())
}
