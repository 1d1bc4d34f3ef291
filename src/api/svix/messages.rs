//! `/api/v1/app/{app}/msg`: Svix's messages are Herald's events.
//!
//! `eventType` is the event's type (it must be in the app's catalog, the environment's
//! included), `payload` its `data`, and `eventId` its idempotency key: as Svix documents, a
//! message sent again with the same `eventId` is a 409 naming the first, and delivers
//! nothing more. Without an `eventId`, the `idempotency-key` header that Svix's clients put
//! on every POST (and keep when they retry) is the key: a retry of a message that was
//! stored answers that message, as Svix does.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::shapes::{unsupported, unsupported_list, Page};
use crate::api::auth::{Child, Scoped};
use crate::api::error::{ApiError, ApiResult};
use crate::api::event_input::PublishEvent;
use crate::api::events;
use crate::api::json::{JsonBody, QueryPairs};
use crate::api::AppState;
use crate::domain::{Event, EventData, EventId};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageIn {
    event_type: String,
    payload: Box<RawValue>,
    event_id: Option<String>,
    channels: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    application: Option<Value>,
    deliver_at: Option<String>,
    transformations_params: Option<Value>,
    payload_retention_period: Option<i64>,
    payload_retention_hours: Option<i64>,
}

impl MessageIn {
    /// Refuses what Herald's events cannot hold.
    fn check(&self) -> ApiResult<()> {
        let labels = "scope deliveries with Herald's labels (/v1)";
        unsupported_list("channels", &self.channels, labels)?;
        unsupported_list("tags", &self.tags, labels)?;
        unsupported(
            "application",
            &self.application,
            "create the application first",
        )?;
        unsupported(
            "deliverAt",
            &self.deliver_at,
            "events are sent when published",
        )?;
        let none = "Herald has no transformations";
        unsupported("transformationsParams", &self.transformations_params, none)?;
        let kept = "retention is the server's retention_events setting";
        unsupported(
            "payloadRetentionPeriod",
            &self.payload_retention_period,
            kept,
        )?;
        unsupported("payloadRetentionHours", &self.payload_retention_hours, kept)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageOut {
    id: String,
    event_type: String,
    event_id: Option<String>,
    payload: EventData,
    channels: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    timestamp: DateTime<Utc>,
}

impl From<Event> for MessageOut {
    fn from(e: Event) -> Self {
        MessageOut {
            id: e.id.to_string(),
            event_type: e.event_type.as_str().to_owned(),
            event_id: e
                .idempotency_key
                .map(|k| k.as_str().to_owned())
                .filter(|k| !k.starts_with(FROM_HEADER)),
            payload: e.data,
            channels: None,
            tags: None,
            timestamp: e.created_at,
        }
    }
}

/// Marks an idempotency key taken from the `idempotency-key` header, which is not the
/// message's `eventId`.
const FROM_HEADER: &str = "idempotency-key:";

/// Publishes the message as an event (202); a repeated `eventId` is a 409, a repeated
/// `idempotency-key` the first answer again.
pub async fn create(
    State(state): State<AppState>,
    scoped: Scoped,
    headers: HeaderMap,
    JsonBody(req): JsonBody<MessageIn>,
) -> ApiResult<(StatusCode, Json<MessageOut>)> {
    req.check()?;
    let header_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("{FROM_HEADER}{k}"));
    let retried = req.event_id.is_none() && header_key.is_some();
    let app = scoped.app.id.clone();
    let publish = PublishEvent {
        event_type: req.event_type,
        data: Some(req.payload),
        labels: None,
        occurred_at: None,
        idempotency_key: req.event_id.or(header_key),
        metadata: None,
        ordering_key: None,
        ttl_s: None,
    };
    let (_, Json(done)) = events::publish(State(state.clone()), scoped, JsonBody(publish)).await?;
    if done.duplicate && !retried {
        return Err(ApiError::Conflict(format!(
            "a message with this eventId exists already: {}",
            done.id
        )));
    }
    let event = state
        .store
        .get_event(&app, &done.id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("event {} not found after publish", done.id)))?;
    Ok((StatusCode::ACCEPTED, Json(event.into())))
}

pub async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<Page<MessageOut>>> {
    let mut herald = super::herald_page(&q, &["event_types"], true)?;
    let types: Vec<&(String, String)> = q.0.iter().filter(|(k, _)| k == "event_types").collect();
    match types.as_slice() {
        [] => {}
        [(_, one)] if !one.contains(',') => herald.0.push(("type".to_owned(), one.clone())),
        _ => {
            return Err(ApiError::BadParameter(crate::domain::FieldError::new(
                "event_types",
                "Herald filters messages by one event type at a time",
            )))
        }
    }
    let Json(page) = events::list(State(state), scoped, herald).await?;
    Ok(Json(Page::from_herald(page, MessageOut::from)))
}

pub async fn get(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EventId>,
) -> ApiResult<Json<MessageOut>> {
    let Json(event) = events::get(State(state), scoped, child).await?;
    Ok(Json(event.into()))
}
