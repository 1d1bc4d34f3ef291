//! Herald's own operational events, in every app's catalog whatever its preset: what
//! happened to the app's endpoints and deliveries, for an endpoint of the platform's own
//! that subscribes to them by name (`"*"` does not include them, so a customer's receiver
//! never meets a type its platform does not send). An event about an endpoint is never
//! delivered to that endpoint.

use serde_json::{json, Value};

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

/// The payload Herald sends with each of its own events (see `dispatch::notices`).
pub fn payload(def: &EventTypeDef) -> Value {
    if def.name == "herald.delivery.exhausted" {
        return json!({"delivery_id": "dlv_01JEXAMPLE00000000000000", "event_id":
            "evt_01JEXAMPLE00000000000000", "event_type": "participant.joined",
            "endpoint_id": "ep_01JEXAMPLE00000000000000", "attempts": 8,
            "last_status_code": 503, "last_error_kind": null});
    }
    let mut data = json!({"endpoint_id": "ep_01JEXAMPLE00000000000000",
        "url": "https://hooks.example.com/herald", "name": "Example endpoint",
        "health": {"state": "open", "failures": 5, "failing_since": "2026-01-01T00:00:00Z",
            "last_error": "connection refused", "retry_at": "2026-01-01T00:05:00Z"}});
    if def.name == "herald.endpoint.disabled" {
        data["reason"] = json!("the endpoint answered 410 Gone");
    }
    data
}
