//! `GET /v1/apps/{app}/endpoints/{ep}/poll`: a polling endpoint's consumer pulls its
//! deliveries, each rendered and signed in the endpoint's format exactly as a push would be,
//! so the receiver's verification code is the same whichever way the request reached it.
//!
//! The cursor is a number the store gives each delivery when it is first served (see
//! `store::poll`): it means the same on every node and after a restart. Passing it
//! acknowledges what came before; a long poll (`wait_s`) asks again until something arrives.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Child, Scoped};
use super::error::{ApiError, ApiResult, Problem};
use super::json::QueryPairs;
use super::rooms::limit_of;
use super::AppState;
use crate::domain::endpoint::EndpointKind;
use crate::domain::{DeliveryId, Endpoint, EndpointId, EventId};
use crate::formats::{format_for, request_headers, Outgoing};
use crate::store::poll::{Poll, Polled};

/// The longest a poll waits for something new.
const MAX_WAIT_S: u64 = 30;
/// How often a waiting poll asks the store again.
const RECHECK: Duration = Duration::from_millis(200);

/// One delivery as a push would have sent it.
#[derive(Serialize, ToSchema)]
pub struct PolledItem {
    pub delivery_id: DeliveryId,
    pub event_id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's place in its room, when it has one.
    pub sequence: Option<i64>,
    /// The request's headers, signature included (verify them with `body` as a receiver of
    /// a push would).
    pub headers: BTreeMap<String, String>,
    /// The exact request body.
    pub body: String,
    /// This item's cursor: passing it acknowledges this item and every one before.
    pub cursor: String,
}

#[derive(Serialize, ToSchema)]
pub struct PollPage {
    pub data: Vec<PolledItem>,
    /// Pass as `cursor` next: acknowledges this page and serves what follows it.
    pub next_cursor: String,
}

fn number(field: &str, raw: Option<&str>, max: i64) -> Result<Option<i64>, ApiError> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=max).contains(n))
            .map(Some)
            .ok_or_else(|| {
                ApiError::field(field, format!("must be a whole number from 0 to {max}"))
            }),
    }
}

/// Serves the endpoint's deliveries after `cursor` (after the last acknowledged one when
/// omitted), `limit` of them (50, at most 500), waiting up to `wait_s` (0 to 30) for one.
#[utoipa::path(get, path = "/v1/apps/{app}/endpoints/{ep}/poll", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path),
        ("cursor" = Option<String>, Query, description = "the `next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query), ("wait_s" = Option<u32>, Query)),
    responses((status = 200, body = PollPage), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn poll(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    q: QueryPairs,
) -> ApiResult<Json<PollPage>> {
    q.only(&["cursor", "limit", "wait_s"])?;
    let ep = super::endpoints::load(&state, &scoped.app, &child).await?;
    if ep.kind != EndpointKind::Polling {
        return Err(ApiError::Conflict(format!(
            "endpoint '{}' is a push endpoint; create one with \"kind\": \"polling\" to poll",
            child.raw
        )));
    }
    let after = number("cursor", q.get("cursor"), i64::MAX)?;
    let limit = limit_of(&q, 50, 500)?;
    let wait = number("wait_s", q.get("wait_s"), MAX_WAIT_S as i64)?.unwrap_or(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait as u64);
    let mut poll = Poll {
        endpoint: ep.id.clone(),
        after,
        limit,
        now: Utc::now(),
    };
    loop {
        let polled = state.store.poll(&poll).await?;
        if !polled.items.is_empty() || tokio::time::Instant::now() + RECHECK > deadline {
            return page(&ep, polled).map(Json);
        }
        tokio::time::sleep(RECHECK).await;
        poll.after = Some(polled.after);
        poll.now = Utc::now();
    }
}

/// Renders each item as the endpoint's format would send it now.
fn page(ep: &Endpoint, polled: Polled) -> ApiResult<PollPage> {
    let format = format_for(ep.format)
        .ok_or_else(|| ApiError::Internal(format!("format {} unavailable", ep.format.as_str())))?;
    let next_cursor = polled.next_cursor().to_string();
    let mut data = Vec::with_capacity(polled.items.len());
    for (n, job) in polled.items {
        let out = Outgoing {
            event: &job.event,
            delivery_id: &job.delivery_id,
            endpoint: ep,
            now: Utc::now(),
        };
        let rendered = format
            .render(&out)
            .map_err(|e| ApiError::Internal(format!("cannot render {}: {e}", job.delivery_id)))?;
        let headers = request_headers(ep, &job.event, &rendered)
            .into_iter()
            .collect();
        data.push(PolledItem {
            delivery_id: job.delivery_id.clone(),
            event_id: job.event.id.clone(),
            event_type: job.event.event_type.as_str().to_owned(),
            sequence: job.event.sequence,
            headers,
            body: String::from_utf8_lossy(&rendered.body).into_owned(),
            cursor: n.to_string(),
        });
    }
    Ok(PollPage { data, next_cursor })
}
