//! Herald's own operational events, in every app's catalog whatever its preset: what
//! happened to the app's endpoints and deliveries, for an endpoint of the platform's own
//! that subscribes to them by name (`"*"` does not include them, so a customer's receiver
//! never meets a type its platform does not send). An event about an endpoint is never
//! delivered to that endpoint.

use super::EventTypeDef;

pub const TYPES: &[EventTypeDef] = &[
    EventTypeDef {
        name: "herald.endpoint.failing",
        family: "herald",
        description: "An endpoint's circuit breaker opened: its deliveries wait while probes test it.",
    },
    EventTypeDef {
        name: "herald.endpoint.disabled",
        family: "herald",
        description: "An endpoint was disabled: it answered 410 Gone, or failed for longer than disable_after.",
    },
    EventTypeDef {
        name: "herald.endpoint.enabled",
        family: "herald",
        description: "A disabled endpoint was enabled again; what it held is delivered.",
    },
    EventTypeDef {
        name: "herald.delivery.exhausted",
        family: "herald",
        description: "A delivery failed its last scheduled attempt and will not be retried on its own.",
    },
];
