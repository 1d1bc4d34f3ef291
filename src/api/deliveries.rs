//! `/v1/apps/{app}/deliveries`: the delivery log, manual resends, and endpoint recovery.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{path_id, Scoped};
use super::error::{ApiError, ApiResult, Problem};
use super::json::{JsonBody, QueryPairs};
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::domain::{Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointId, EventId};
use crate::store::DeliveryQuery;

#[derive(Serialize, ToSchema)]
pub struct DeliveryWithAttempts {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recover {
    /// RFC 3339; failed deliveries created at or after this time are re-queued.
    pub since: String,
    /// RFC 3339; defaults to now.
    pub until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Recovered {
    pub recovered: u64,
}

fn time(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::field(field, "must be an RFC 3339 time"))
}

/// The delivery log, newest first, filterable by endpoint, event, status and labels.
#[utoipa::path(get, path = "/v1/apps/{app}/deliveries", tag = "deliveries",
    params(("app" = String, Path), ("endpoint" = Option<String>, Query), ("event" = Option<String>, Query),
        ("status" = Option<String>, Query), ("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<Delivery>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<ListResponse<Delivery>>> {
    q.only(&["limit", "after", "endpoint", "event", "status"])?;
    let page = page_from::<DeliveryId>(&q)?;
    let endpoint = q
        .get("endpoint")
        .map(|e| EndpointId::parse(e).map_err(|err| ApiError::field("endpoint", err.to_string())))
        .transpose()?;
    let event = q
        .get("event")
        .map(|e| EventId::parse(e).map_err(|err| ApiError::field("event", err.to_string())))
        .transpose()?;
    let status = q
        .get("status")
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "must be pending, delivering, succeeded, failed or cancelled",
                )
            })
        })
        .transpose()?;
    let query = DeliveryQuery {
        endpoint,
        event,
        status,
        labels: q.labels()?,
    };
    let found = state
        .store
        .list_deliveries(&scoped.app.id, &query, &page)
        .await?;
    Ok(Json(respond(found, &page, |d| d.id.to_string())))
}

/// One delivery with every attempt: status codes, durations, response bodies, error kinds.
#[utoipa::path(get, path = "/v1/apps/{app}/deliveries/{dlv}", tag = "deliveries",
    params(("app" = String, Path), ("dlv" = String, Path)),
    responses((status = 200, body = DeliveryWithAttempts), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
) -> ApiResult<Json<DeliveryWithAttempts>> {
    let raw = ids.1;
    let id = path_id(&raw, DeliveryId::parse)?;
    let (delivery, attempts) = state
        .store
        .get_delivery(&scoped.app.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("delivery '{raw}'")))?;
    Ok(Json(DeliveryWithAttempts { delivery, attempts }))
}

/// Sends a delivery again now, whatever its state, as a manual attempt.
#[utoipa::path(post, path = "/v1/apps/{app}/deliveries/{dlv}/resend", tag = "deliveries",
    params(("app" = String, Path), ("dlv" = String, Path)),
    responses((status = 202, body = Delivery), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let raw = ids.1;
    let id = path_id(&raw, DeliveryId::parse)?;
    let lease = state
        .dispatcher
        .as_ref()
        .map(|d| d.lease_until())
        .unwrap_or(DateTime::UNIX_EPOCH);
    let job = state
        .store
        .resend(&scoped.app.id, &id, lease)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("delivery '{raw}'")))?;
    if let Some(d) = &state.dispatcher {
        d.submit(vec![job]);
    }
    let (delivery, _) = state
        .store
        .get_delivery(&scoped.app.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("delivery '{raw}'")))?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

/// Re-queues an endpoint's failed deliveries created in `[since, until)`.
#[utoipa::path(post, path = "/v1/apps/{app}/endpoints/{ep}/recover", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)), request_body = Recover,
    responses((status = 202, body = Recovered), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn recover(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
    JsonBody(req): JsonBody<Recover>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    let raw = ids.1;
    let id = path_id(&raw, EndpointId::parse)?;
    match state.store.get_endpoint(&id).await? {
        Some(ep) if ep.app_id == scoped.app.id => {}
        _ => return Err(ApiError::NotFound(format!("endpoint '{raw}'"))),
    }
    let since = time("since", &req.since)?;
    let until = req
        .until
        .as_deref()
        .map(|u| time("until", u))
        .transpose()?
        .unwrap_or_else(Utc::now);
    if until <= since {
        return Err(ApiError::field("until", "must be after since"));
    }
    let recovered = state.store.recover(&id, since, until).await?;
    if let Some(d) = &state.dispatcher {
        d.wake();
    }
    Ok((StatusCode::ACCEPTED, Json(Recovered { recovered })))
}
