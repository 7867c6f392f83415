//! virsh's words for domain states and reasons (virshDomainStateToString,
//! virshDomainStateReasonToString).

use rvirt::DomainState;

pub fn state_name(state: DomainState) -> &'static str {
    match state {
        DomainState::Running => "running",
        DomainState::Blocked => "idle",
        DomainState::Paused => "paused",
        DomainState::Shutdown => "in shutdown",
        DomainState::Shutoff => "shut off",
        DomainState::Crashed => "crashed",
        DomainState::PmSuspended => "pmsuspended",
        DomainState::NoState => "no state",
    }
}

pub fn reason_name(state: DomainState, reason: i32) -> &'static str {
    let names: &[&str] = match state {
        DomainState::Running => &[
            "unknown",
            "booted",
            "migrated",
            "restored",
            "from snapshot",
            "unpaused",
            "migration canceled",
            "save canceled",
            "event wakeup",
            "crashed",
            "post-copy",
            "post-copy failed",
        ],
        DomainState::Paused => &[
            "unknown",
            "user",
            "migrating",
            "saving",
            "dumping",
            "I/O error",
            "watchdog",
            "from snapshot",
            "shutting down",
            "creating snapshot",
            "starting up",
            "post-copy",
            "post-copy failed",
            "api error",
        ],
        DomainState::Shutdown => &["unknown", "user"],
        DomainState::Shutoff => &[
            "unknown",
            "shutdown",
            "destroyed",
            "crashed",
            "migrated",
            "saved",
            "failed",
            "from snapshot",
            "daemon",
        ],
        DomainState::Crashed => &["unknown", "panicked"],
        DomainState::PmSuspended => &["unknown"],
        DomainState::Blocked | DomainState::NoState => &["unknown"],
    };
    usize::try_from(reason)
        .ok()
        .and_then(|r| names.get(r))
        .copied()
        .unwrap_or("unknown")
}
