//! `/v1/apps/{app}/events`: publishing (one or a batch) and the event log.
//!
//! A publish is answered only after the event and its deliveries are committed; the fresh
//! deliveries are then handed to the dispatcher through memory, so the first attempt does not
//! wait for a store poll.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Child, Scoped};
use super::error::{ApiError, ApiResult, Problem};
use super::event_input::{parse_event, PublishBatch, PublishEvent};
use super::event_types::{known_types, Known};
use super::json::{JsonBody, QueryPairs};
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::catalog::schemas;
use crate::domain::{App, Event, EventId, EventTypeName, FieldError};
use crate::store::{DeliveryQuery, EventQuery, Lease, Page, Published};
use jsonschema::Validator;

#[derive(Serialize, ToSchema)]
pub struct PublishResult {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventTypeName,
    pub created_at: DateTime<Utc>,
    /// The event's place in its room; `null` for an event with no room.
    pub sequence: Option<i64>,
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

/// Commits the events, hands new deliveries to the dispatcher, and shapes the answer.
pub async fn commit(
    state: &AppState,
    app: &App,
    mut events: Vec<Event>,
) -> ApiResult<Vec<PublishResult>> {
    let named: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| match events.len() {
            1 => (String::from("type"), e.event_type.clone()),
            _ => (format!("events[{i}].type"), e.event_type.clone()),
        })
        .collect();
    if let Some((path, _)) = named.iter().find(|(_, t)| t.is_operational()) {
        return Err(ApiError::field(
            path,
            "herald.* types are Herald's own operational events; only Herald publishes them",
        ));
    }
    let known = known_types(state, app, "type", &named).await?;
    apply_catalog(&mut events, known, &named)?;
    let published = match &state.dispatcher {
        Some(d) => d.publish(events).await?,
        None => state.store.publish(events, &Lease::none()).await?,
    };
    let mut out = Vec::with_capacity(published.len());
    for Published {
        event,
        created,
        leased,
        ..
    } in published
    {
        // One entry per delivery the event fanned out to (memory has taken the jobs).
        let deliveries = if created {
            leased.len()
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
            sequence: event.sequence,
            deliveries,
            duplicate: !created,
        });
    }
    Ok(out)
}

/// How many schema violations a refused publish names (a batch of a thousand bad events
/// would otherwise answer megabytes).
const MAX_NAMED: usize = 50;

/// Gives each event its type's time to live, and refuses the publish if any event's data
/// breaks its type's schema (the first `MAX_NAMED` violations named).
fn apply_catalog(
    events: &mut [Event],
    known: Vec<Known>,
    named: &[(String, EventTypeName)],
) -> ApiResult<()> {
    let mut violations = Vec::new();
    for ((event, known), (path, _)) in events.iter_mut().zip(known).zip(named) {
        event.ttl_s = event.ttl_s.or(known.ttl_s);
        if let Some(schema) = known
            .schema
            .as_ref()
            .filter(|_| violations.len() < MAX_NAMED)
        {
            let data_at = format!("{}data", path.strip_suffix("type").unwrap_or_default());
            violations.extend(schema_violations(schema, event, &data_at));
        }
    }
    violations.truncate(MAX_NAMED);
    match violations.is_empty() {
        true => Ok(()),
        false => Err(ApiError::Invalid(violations)),
    }
}

/// How `event`'s data breaks its type's schema, each named at its path under `data_at`
/// (`data.room`, `events[3].data.participant.identity`) with the rule it breaks.
fn schema_violations(schema: &Validator, event: &Event, data_at: &str) -> Vec<FieldError> {
    let Ok(data) = event.data.to_value() else {
        return Vec::new(); // parsed when published; only stored text can fail
    };
    schemas::violations(schema, &data)
        .into_iter()
        .map(|v| {
            let at: String = v
                .pointer
                .split('/')
                .skip(1)
                .map(|seg| match seg.parse::<usize>() {
                    Ok(i) => format!("[{i}]"),
                    Err(_) => format!(".{}", seg.replace("~1", "/").replace("~0", "~")),
                })
                .collect();
            let message = format!(
                "breaks the '{}' rule of the {} schema: {}",
                v.rule,
                event.event_type.as_str(),
                v.message
            );
            FieldError::new(format!("{data_at}{at}"), message)
        })
        .collect()
}

async fn count_deliveries(state: &AppState, app: &App, event: &EventId) -> ApiResult<usize> {
    let q = DeliveryQuery {
        event: Some(event.clone()),
        page: Page {
            limit: 10_000,
            ..Page::default()
        },
        ..Default::default()
    };
    Ok(state.store.list_deliveries(&app.id, &q).await?.len())
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

/// The event log, newest first, filterable by `type`, `label.<name>` and creation time;
/// every filter is served by an index.
#[utoipa::path(get, path = "/v1/apps/{app}/events", tag = "events",
    params(("app" = String, Path), ("type" = Option<String>, Query), ("limit" = Option<u32>, Query), ("after" = Option<String>, Query),
        ("since" = Option<String>, Query, description = "created at or after this RFC 3339 time"),
        ("until" = Option<String>, Query, description = "created before this RFC 3339 time")),
    responses((status = 200, body = ListResponse<Event>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<ListResponse<Event>>> {
    q.only(&["limit", "after", "since", "until", "type"])?;
    let page = page_from::<EventId>(&q)?;
    let query = EventQuery {
        event_type: q.get("type").map(str::to_owned),
        labels: q.labels()?,
        page,
    };
    let events = state.store.list_events(&scoped.app.id, &query).await?;
    Ok(Json(respond(events, &query.page, |e| e.id.to_string())))
}

#[utoipa::path(get, path = "/v1/apps/{app}/events/{evt}", tag = "events",
    params(("app" = String, Path), ("evt" = String, Path)),
    responses((status = 200, body = Event), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EventId>,
) -> ApiResult<Json<Event>> {
    let (id, raw) = (child.id, child.raw);
    let event = state
        .store
        .get_event(&scoped.app.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("event '{raw}'")))?;
    Ok(Json(event))
}
