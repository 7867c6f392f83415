//! Domain event registration and the event messages the server sends.

use super::DOMAIN_JOB_STATS_MAX;
use crate::packet::NonnullDomain;
use rvirt_util::TypedParams;

/// `VIR_DOMAIN_EVENT_ID_LIFECYCLE` and friends used here.
pub const EVENT_ID_LIFECYCLE: i32 = 0;
pub const EVENT_ID_MIGRATION_ITERATION: i32 = 20;
pub const EVENT_ID_JOB_COMPLETED: i32 = 21;

crate::xdr_struct! {
    /// CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY (316). `dom` filters to
    /// one domain when present.
    pub struct ConnectDomainEventCallbackRegisterAnyArgs {
        pub event_id: i32,
        pub dom: Option<NonnullDomain>,
    }
    pub struct ConnectDomainEventCallbackRegisterAnyRet {
        pub callback_id: i32,
    }

    /// CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY (317): ret void.
    pub struct ConnectDomainEventCallbackDeregisterAnyArgs {
        pub callback_id: i32,
    }

    /// CONNECT_DOMAIN_EVENT_REGISTER_ANY (167, old style): ret void.
    pub struct ConnectDomainEventRegisterAnyArgs {
        pub event_id: i32,
    }

    /// CONNECT_DOMAIN_EVENT_DEREGISTER_ANY (168, old style): ret void.
    pub struct ConnectDomainEventDeregisterAnyArgs {
        pub event_id: i32,
    }

    /// CONNECT_DOMAIN_EVENT_REGISTER (105) / DEREGISTER (106), the oldest
    /// style: args void.
    pub struct ConnectDomainEventRegisterRet {
        pub cb_registered: i32,
    }

    /// DOMAIN_EVENT_LIFECYCLE (107).
    pub struct DomainEventLifecycleMsg {
        pub dom: NonnullDomain,
        pub event: i32,
        pub detail: i32,
    }

    /// DOMAIN_EVENT_CALLBACK_LIFECYCLE (318).
    pub struct DomainEventCallbackLifecycleMsg {
        pub callback_id: i32,
        pub msg: DomainEventLifecycleMsg,
    }

    /// DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION (359).
    pub struct DomainEventCallbackMigrationIterationMsg {
        pub callback_id: i32,
        pub dom: NonnullDomain,
        pub iteration: i32,
    }

    /// DOMAIN_EVENT_CALLBACK_JOB_COMPLETED (363).
    pub struct DomainEventCallbackJobCompletedMsg {
        pub callback_id: i32,
        pub dom: NonnullDomain,
        pub params: TypedParams [DOMAIN_JOB_STATS_MAX],
    }
}

/// CONNECT_DOMAIN_EVENT_DEREGISTER (106).
pub type ConnectDomainEventDeregisterRet = ConnectDomainEventRegisterRet;
