//! A delivery on its way, and the fan-out rule that makes them.
//!
//! Which endpoints an event goes to, and the ordering key each delivery carries, are product
//! decisions: they are made here once, and each storage backend only writes down the jobs it
//! is handed.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use serde::Serialize;
use utoipa::ToSchema;

use super::endpoint::{EndpointKind, Ordering};
use super::{DeliveryId, Endpoint, EndpointId, Event, FieldError, Trigger};

/// The key of a room for per-room ordering: deliveries of one endpoint that share it go one
/// at a time, in `seq` order. 1 to 256 bytes, without control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String)]
pub struct OrderingKey(String);

impl OrderingKey {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        if value.is_empty() || value.len() > 256 {
            return Err(FieldError::new(field, "must be 1 to 256 bytes"));
        }
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// Rebuilds a key read back from the store, where only parsed keys were written.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One delivery ready to be attempted, with what the format needs to render it.
#[derive(Debug, Clone)]
pub struct Job {
    pub delivery_id: DeliveryId,
    pub endpoint_id: EndpointId,
    pub event: Arc<Event>,
    /// Attempts already made.
    pub attempt_count: u32,
    pub trigger: Trigger,
    /// Set when the endpoint orders per room: jobs sharing it go one at a time, in `seq`
    /// order.
    pub ordering_key: Option<OrderingKey>,
    /// The delivery's place in insertion order across every process, which the store
    /// assigns when it writes the delivery (0 until then). Per-room ordering follows it.
    pub seq: i64,
    /// After this the delivery ends `expired` instead of being sent or retried.
    pub expires_at: Option<DateTime<Utc>>,
    /// For a polling endpoint: stored for its consumer to pull, never sent by a dispatcher.
    pub polled: bool,
    /// The lease this job was taken under: the store changes the delivery only for an
    /// outcome, renewal or release that presents it (see [`crate::store::HeldLease`]).
    pub lease_epoch: i64,
}

/// The deliveries a freshly published event fans out to: one per endpoint of `endpoints`
/// that wants it, in the order of `endpoints`, each with the ordering key its endpoint asks
/// for.
pub fn fan_out(event: &Arc<Event>, endpoints: &[Endpoint]) -> Vec<Job> {
    endpoints
        .iter()
        .filter(|ep| ep.wants(event))
        .map(|ep| Job {
            delivery_id: DeliveryId::new(),
            endpoint_id: ep.id.clone(),
            event: Arc::clone(event),
            attempt_count: 0,
            trigger: Trigger::Scheduled,
            ordering_key: ordering_key(ep, event),
            seq: 0,
            expires_at: expiry(ep, event),
            polled: ep.kind == EndpointKind::Polling,
            lease_epoch: 0,
        })
        .collect()
}

/// The key a delivery of `event` to `endpoint` is ordered by: the event's room for endpoints
/// ordered per room, none otherwise.
pub fn ordering_key(endpoint: &Endpoint, event: &Event) -> Option<OrderingKey> {
    match endpoint.ordering {
        Ordering::PerRoom => event.order_key(),
        Ordering::None => None,
    }
}

/// When a delivery of `event` to `endpoint` stops being worth sending: the endpoint's
/// `ttl_s` when it sets one, else the event's (its publish's, else its type's in the catalog);
/// 0 or none means never.
pub fn expiry(endpoint: &Endpoint, event: &Event) -> Option<DateTime<Utc>> {
    let ttl = endpoint.ttl_s.or(event.ttl_s).filter(|s| *s > 0)?;
    Some(event.created_at + chrono::Duration::seconds(i64::from(ttl)))
}

impl Job {
    /// Whether the job's time to live is over at `now`. A manual resend is a person asking
    /// for this one request, late or not: it never expires.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_before(now)
    }

    /// Whether the job's time to live ends by `at` (never for a manual resend).
    pub fn expires_before(&self, at: DateTime<Utc>) -> bool {
        self.trigger == Trigger::Scheduled && self.expires_at.is_some_and(|end| end <= at)
    }
}

#[cfg(test)]
impl Job {
    /// A fresh job of a new event, for the dispatcher's unit tests.
    pub fn sample(ordering_key: Option<&str>, seq: i64) -> Job {
        use super::{AppId, EventData, EventId, EventTypeName, Labels};
        let now = Utc::now();
        let event = Event {
            id: EventId::new(),
            app_id: AppId::new(),
            event_type: EventTypeName::from_trusted("room.started".into()),
            data: EventData::from_trusted("{}".into()),
            labels: Labels::default(),
            occurred_at: now,
            idempotency_key: None,
            metadata: None,
            ordering_key: ordering_key.map(|k| OrderingKey(k.to_owned())),
            sequence: None,
            ttl_s: None,
            created_at: now,
        };
        Job {
            delivery_id: DeliveryId::new(),
            endpoint_id: EndpointId::new(),
            event: Arc::new(event),
            attempt_count: 0,
            trigger: Trigger::Scheduled,
            ordering_key: ordering_key.map(|k| OrderingKey(k.to_owned())),
            seq,
            expires_at: None,
            polled: false,
            lease_epoch: 0,
        }
    }
}
