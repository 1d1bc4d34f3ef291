//! `/v1/apps/{app}/deliveries`: the delivery log and manual resends.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::DateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Child, Scoped};
use super::error::{ApiError, ApiResult, Problem};
use super::json::QueryPairs;
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::domain::endpoint::EndpointKind;
use crate::domain::{AppId, Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointId, EventId};
use crate::store::{DeliveryQuery, Resend};

/// Why a polling endpoint's deliveries are not resent or recovered: nothing is sent to it.
pub const PULLED: &str = "a polling endpoint's deliveries are pulled, not sent; its consumer \
     reads them again by polling from an earlier cursor";

#[derive(Serialize, ToSchema)]
pub struct DeliveryWithAttempts {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

/// The delivery log, newest first, filterable by endpoint, event, status, labels
/// (`label.<name>=<value>`) and creation time; every filter is served by an index.
#[utoipa::path(get, path = "/v1/apps/{app}/deliveries", tag = "deliveries",
    params(("app" = String, Path), ("endpoint" = Option<String>, Query), ("event" = Option<String>, Query),
        ("status" = Option<String>, Query), ("limit" = Option<u32>, Query), ("after" = Option<String>, Query),
        ("since" = Option<String>, Query, description = "created at or after this RFC 3339 time"),
        ("until" = Option<String>, Query, description = "created before this RFC 3339 time")),
    responses((status = 200, body = ListResponse<Delivery>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<ListResponse<Delivery>>> {
    q.only(&[
        "limit", "after", "since", "until", "endpoint", "event", "status",
    ])?;
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
                    "must be pending, succeeded, failed, cancelled or expired",
                )
            })
        })
        .transpose()?;
    let query = DeliveryQuery {
        endpoint,
        event,
        status,
        labels: q.labels()?,
        page,
    };
    let found = state.store.list_deliveries(&scoped.app.id, &query).await?;
    Ok(Json(respond(found, &query.page, |d| d.id.to_string())))
}

/// One delivery with every attempt: status codes, durations, response bodies, error kinds.
#[utoipa::path(get, path = "/v1/apps/{app}/deliveries/{dlv}", tag = "deliveries",
    params(("app" = String, Path), ("dlv" = String, Path)),
    responses((status = 200, body = DeliveryWithAttempts), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<DeliveryId>,
) -> ApiResult<Json<DeliveryWithAttempts>> {
    let (id, raw) = (child.id, child.raw);
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
    child: Child<DeliveryId>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let (id, raw) = (child.id, child.raw);
    resend_now(&state, &scoped.app.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("delivery '{raw}'")))?;
    let (delivery, _) = state
        .store
        .get_delivery(&scoped.app.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("delivery '{raw}'")))?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

/// Resends one delivery of `app` now (the API's resend and the dashboard's button); `None`
/// when the app has no such delivery.
pub async fn resend_now(state: &AppState, app: &AppId, id: &DeliveryId) -> ApiResult<Option<()>> {
    if let Some((delivery, _)) = state.store.get_delivery(app, id).await? {
        let ep = state.store.get_endpoint(&delivery.endpoint_id).await?;
        if ep.is_some_and(|ep| ep.kind == EndpointKind::Polling) {
            return Err(ApiError::Conflict(PULLED.to_owned()));
        }
    }
    let resend = Resend {
        app: app.clone(),
        delivery: id.clone(),
        lease_until: DateTime::UNIX_EPOCH,
    };
    match &state.dispatcher {
        // Leased to this process, then taken into memory, in one step (see dispatch::intake).
        Some(d) => Ok(d.resend(resend).await?),
        None => Ok(state.store.resend(&resend).await?.map(|_| ())),
    }
}
