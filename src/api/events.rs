//! `/v1/apps/{app}/events`: publishing (one or a batch) and the event log.
//!
//! A publish is answered only after the event and its deliveries are committed; the fresh
//! deliveries are then handed to the dispatcher through memory, so the first attempt does not
//! wait for a store poll.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{path_id, Scoped};
use super::error::{ApiError, ApiResult, Problem};
use super::event_types::check_known;
use super::json::{JsonBody, QueryPairs};
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::domain::{
    App, Event, EventData, EventId, EventTypeName, FieldError, IdempotencyKey, Labels,
};
use crate::store::{DeliveryQuery, EventQuery, Page, Published};

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
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBatch {
    pub events: Vec<PublishEvent>,
}

#[derive(Serialize, ToSchema)]
pub struct PublishResult {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventTypeName,
    pub created_at: DateTime<Utc>,
    /// Deliveries the event fanned out to.
    pub deliveries: usize,
    /// True when an earlier publish with the same idempotency key is being returned.
    pub duplicate: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BatchResult {
    pub data: Vec<PublishResult>,
}

const MAX_BATCH: usize = 1000;

/// Parses one event; `at` prefixes field paths (`events[3].`) inside a batch.
fn parse_event(
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
    let metadata = match req.metadata {
        None | Some(serde_json::Value::Null) => None,
        Some(m @ serde_json::Value::Object(_)) if m.to_string().len() <= 64 * 1024 => Some(m),
        Some(serde_json::Value::Object(_)) => {
            return Err(FieldError::new(field("metadata"), "must be at most 64 KiB").into())
        }
        Some(_) => return Err(FieldError::new(field("metadata"), "must be a JSON object").into()),
    };
    let ordering_key = match req.ordering_key {
        Some(k) if k.is_empty() || k.len() > 256 => {
            return Err(FieldError::new(field("ordering_key"), "must be 1 to 256 bytes").into())
        }
        other => other,
    };
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
        created_at: now,
    })
}

/// Commits the events, hands new deliveries to the dispatcher, and shapes the answer.
pub async fn commit(
    state: &AppState,
    app: &App,
    events: Vec<Event>,
) -> ApiResult<Vec<PublishResult>> {
    let named: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("events[{i}].type"), e.event_type.clone()))
        .collect();
    let single = events.len() == 1;
    let named: Vec<_> = if single {
        named
            .into_iter()
            .map(|(_, n)| (String::from("type"), n))
            .collect()
    } else {
        named
    };
    check_known(state, app, "type", &named).await?;
    let fast = state.dispatcher.as_ref().filter(|d| d.has_room());
    let lease = fast
        .map(|d| d.lease_until())
        .unwrap_or(DateTime::UNIX_EPOCH);
    let published = state.store.publish(&app.id, events, lease).await?;
    let mut out = Vec::with_capacity(published.len());
    for Published {
        event,
        created,
        jobs,
    } in published
    {
        let deliveries = if created {
            jobs.len()
        } else {
            count_deliveries(state, app, &event.id).await?
        };
        if created {
            metrics::counter!("herald_events_published_total").increment(1);
        }
        out.push(PublishResult {
            id: event.id.clone(),
            event_type: event.event_type.clone(),
            created_at: event.created_at,
            deliveries,
            duplicate: !created,
        });
        match (fast, &state.dispatcher) {
            (Some(d), _) => d.submit(jobs),
            (None, Some(d)) => d.wake(),
            (None, None) => {}
        }
    }
    Ok(out)
}

async fn count_deliveries(state: &AppState, app: &App, event: &EventId) -> ApiResult<usize> {
    let q = DeliveryQuery {
        event: Some(event.clone()),
        ..Default::default()
    };
    Ok(state
        .store
        .list_deliveries(
            &app.id,
            &q,
            &Page {
                limit: 10_000,
                before: None,
            },
        )
        .await?
        .len())
}

/// Publishes one event: 202 once it and its deliveries are committed, 200 with the original
/// for a repeated `idempotency_key`.
#[utoipa::path(post, path = "/v1/apps/{app}/events", tag = "events", params(("app" = String, Path)),
    request_body = PublishEvent,
    responses((status = 202, body = PublishResult), (status = 200, body = PublishResult),
        (status = 413, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(req): JsonBody<PublishEvent>,
) -> ApiResult<(StatusCode, Json<PublishResult>)> {
    let event = parse_event(&scoped.app, "", req, state.settings.max_event_bytes)?;
    let result = commit(&state, &scoped.app, vec![event])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("publish returned nothing".into()))?;
    let status = if result.duplicate {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(result)))
}

/// Publishes up to 1000 events, all or nothing.
#[utoipa::path(post, path = "/v1/apps/{app}/events/batch", tag = "events", params(("app" = String, Path)),
    request_body = PublishBatch,
    responses((status = 202, body = BatchResult), (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn publish_batch(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(req): JsonBody<PublishBatch>,
) -> ApiResult<(StatusCode, Json<BatchResult>)> {
    if req.events.is_empty() || req.events.len() > MAX_BATCH {
        return Err(ApiError::field(
            "events",
            format!("must hold 1 to {MAX_BATCH} events"),
        ));
    }
    let mut events = Vec::with_capacity(req.events.len());
    for (i, e) in req.events.into_iter().enumerate() {
        events.push(parse_event(
            &scoped.app,
            &format!("events[{i}]."),
            e,
            state.settings.max_event_bytes,
        )?);
    }
    let data = commit(&state, &scoped.app, events).await?;
    let status = if data.iter().all(|r| r.duplicate) {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(BatchResult { data })))
}

/// The event log, newest first, filterable by `type` and `label.<name>`.
#[utoipa::path(get, path = "/v1/apps/{app}/events", tag = "events",
    params(("app" = String, Path), ("type" = Option<String>, Query), ("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<Event>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<ListResponse<Event>>> {
    q.only(&["limit", "after", "type"])?;
    let page = page_from(&q)?;
    let query = EventQuery {
        event_type: q.get("type").map(str::to_owned),
        labels: q.labels()?,
    };
    let events = state
        .store
        .list_events(&scoped.app.id, &query, &page)
        .await?;
    Ok(Json(respond(events, &page, |e| e.id.to_string())))
}

#[utoipa::path(get, path = "/v1/apps/{app}/events/{evt}", tag = "events",
    params(("app" = String, Path), ("evt" = String, Path)),
    responses((status = 200, body = Event), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
) -> ApiResult<Json<Event>> {
    let raw = ids.1;
    let id = path_id(&raw, EventId::parse)?;
    let event = state
        .store
        .get_event(&scoped.app.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("event '{raw}'")))?;
    Ok(Json(event))
}
