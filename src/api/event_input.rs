//! The body of a publish, read into an [`Event`]: every field checked and named by its
//! path (`events[3].data` inside a batch), so a rejected publish says exactly what to fix
//! and nothing half-valid reaches the store.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::event_types::ttl;
use crate::domain::{
    json, App, Event, EventData, EventId, EventTypeName, FieldError, IdempotencyKey, Labels,
    OrderingKey,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    /// A JSON object; `{}` when omitted.
    #[schema(value_type = Object)]
    pub data: Option<Box<serde_json::value::RawValue>>,
    pub labels: Option<BTreeMap<String, String>>,
    /// RFC 3339; the time of the request when omitted.
    pub occurred_at: Option<String>,
    pub idempotency_key: Option<String>,
    /// Context carried beside `data` by some formats: Attendee's `bot_metadata`, Sendbird's
    /// `members`. A JSON object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Orders this event with others of the same key on per-room endpoints (default: the
    /// `room_id` label).
    pub ordering_key: Option<String>,
    /// Seconds this event's deliveries stay worth sending (1 to 31,536,000), in place of its
    /// type's `ttl_s`; after it a delivery not yet succeeded ends `expired`.
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub ttl_s: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBatch {
    pub events: Vec<PublishEvent>,
}

/// `metadata`: an object of at most 64 KiB, or nothing.
fn parse_metadata(
    field: &str,
    raw: Option<serde_json::Value>,
) -> Result<Option<serde_json::Value>, ApiError> {
    match raw {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(m @ serde_json::Value::Object(_)) => {
            let text = m.to_string();
            if text.len() > 64 * 1024 {
                return Err(FieldError::new(field, "must be at most 64 KiB").into());
            }
            // Attendee and Sendbird carry it re-serialised: the same limits as `data`.
            Ok(Some(json::parse_faithful(field, &text)?))
        }
        Some(_) => Err(FieldError::new(field, "must be a JSON object").into()),
    }
}

/// Parses one event; `at` prefixes field paths (`events[3].`) inside a batch.
pub fn parse_event(
    app: &App,
    at: &str,
    req: PublishEvent,
    max_bytes: usize,
) -> Result<Event, ApiError> {
    let field = |f: &str| format!("{at}{f}");
    let event_type = EventTypeName::parse(&field("type"), &req.event_type)?;
    let data = match req.data {
        None => EventData::empty(),
        Some(raw) => EventData::parse(&field("data"), &raw)?,
    };
    let size = data.as_str().len();
    if size > max_bytes {
        return Err(ApiError::TooLarge(format!(
            "{}: {size} bytes is over the limit of {max_bytes}",
            field("data")
        )));
    }
    let labels = Labels::parse(&field("labels"), req.labels.unwrap_or_default())?;
    let now = Utc::now();
    let occurred_at = match req.occurred_at {
        None => now,
        Some(raw) => DateTime::parse_from_rfc3339(&raw)
            .map_err(|_| FieldError::new(field("occurred_at"), "must be an RFC 3339 time"))?
            .with_timezone(&Utc),
    };
    let idempotency_key = req
        .idempotency_key
        .map(|k| IdempotencyKey::parse(&field("idempotency_key"), &k))
        .transpose()?;
    let metadata = parse_metadata(&field("metadata"), req.metadata)?;
    let ordering_key = req
        .ordering_key
        .map(|k| OrderingKey::parse(&field("ordering_key"), &k))
        .transpose()?;
    Ok(Event {
        id: EventId::new(),
        app_id: app.id.clone(),
        event_type,
        data,
        labels,
        occurred_at,
        idempotency_key,
        metadata,
        ordering_key,
        sequence: None,
        ttl_s: req.ttl_s.map(ttl(&field("ttl_s"))).transpose()?,
        created_at: now,
    })
}
