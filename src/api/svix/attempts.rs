//! `/api/v1/app/{app}/attempt/...`: Svix's message attempts are the attempts of Herald's
//! deliveries.
//!
//! Herald pages its log by delivery, so a page here holds every attempt of up to `limit`
//! deliveries (of the message, or to the endpoint), newest delivery first, and `iterator`
//! continues after the last of them.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::shapes::Page;
use crate::api::auth::{Child, Scoped};
use crate::api::endpoints;
use crate::api::error::{ApiError, ApiResult};
use crate::api::json::QueryPairs;
use crate::api::pagination::{page_from, respond};
use crate::api::AppState;
use crate::domain::{Attempt, DeliveryId, EndpointId, EventId, FieldError, Trigger};
use crate::store::DeliveryQuery;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAttemptOut {
    id: String,
    msg_id: String,
    endpoint_id: String,
    url: String,
    /// The receiver's answer (its first 4 KiB), or why there was none.
    response: String,
    /// 0 when no answer came.
    response_status_code: u16,
    response_duration_ms: u64,
    /// 0 success, 2 failure (Svix's `MessageStatus`).
    status: u8,
    status_text: &'static str,
    /// 0 scheduled, 1 manual.
    trigger_type: u8,
    timestamp: DateTime<Utc>,
}

fn succeeded(a: &Attempt) -> bool {
    a.status_code.is_some_and(|c| (200..300).contains(&c))
}

fn shape(a: Attempt, msg: &EventId, ep: &EndpointId, url: &str) -> MessageAttemptOut {
    let ok = succeeded(&a);
    let response = match (&a.error_kind, a.response_body.is_empty()) {
        (Some(kind), true) => kind.as_str().to_owned(),
        _ => a.response_body,
    };
    MessageAttemptOut {
        id: a.id.to_string(),
        msg_id: msg.to_string(),
        endpoint_id: ep.to_string(),
        url: url.to_owned(),
        response,
        response_status_code: a.status_code.unwrap_or(0),
        response_duration_ms: a.duration_ms,
        status: if ok { 0 } else { 2 },
        status_text: if ok { "success" } else { "fail" },
        trigger_type: match a.trigger {
            Trigger::Scheduled => 0,
            Trigger::Manual => 1,
        },
        timestamp: a.started_at,
    }
}

/// Svix's `status` filter (`MessageStatus`): 0 success, 1 pending, 2 fail, 3 sending, 4
/// canceled; an attempt is only ever 0 or 2.
fn status_filter(q: &QueryPairs) -> ApiResult<Option<u8>> {
    match q.get("status").map(str::parse::<u8>) {
        None => Ok(None),
        Some(Ok(n)) if n <= 4 => Ok(Some(n)),
        Some(_) => Err(ApiError::BadParameter(FieldError::new(
            "status",
            "must be 0 (success), 1 (pending), 2 (fail), 3 (sending) or 4 (canceled)",
        ))),
    }
}

/// The attempts of the deliveries `query` finds, in Svix's shape; `also` are the query
/// parameters the list takes beside paging and time bounds.
async fn attempts(
    state: AppState,
    scoped: &Scoped,
    q: &QueryPairs,
    also: &[&str],
    mut query: DeliveryQuery,
) -> ApiResult<Page<MessageAttemptOut>> {
    let herald = super::herald_page(q, also, true)?;
    query.page = page_from::<DeliveryId>(&herald)?;
    let wanted = status_filter(q)?;
    let found = state.store.list_deliveries(&scoped.app.id, &query).await?;
    let page = respond(found, &query.page, |d| d.id.to_string());
    let mut urls: HashMap<EndpointId, String> = HashMap::new();
    let mut data = Vec::new();
    for delivery in &page.data {
        if !urls.contains_key(&delivery.endpoint_id) {
            let url = match state.store.get_endpoint(&delivery.endpoint_id).await? {
                Some(ep) => ep.url.as_str().to_owned(),
                None => String::new(),
            };
            urls.insert(delivery.endpoint_id.clone(), url);
        }
        let url = urls.get(&delivery.endpoint_id).map_or("", String::as_str);
        let Some((_, tries)) = state
            .store
            .get_delivery(&scoped.app.id, &delivery.id)
            .await?
        else {
            continue;
        };
        for a in tries.into_iter().rev() {
            let shaped = shape(a, &delivery.event_id, &delivery.endpoint_id, url);
            if wanted.is_none_or(|w| w == shaped.status) {
                data.push(shaped);
            }
        }
    }
    Ok(Page {
        done: page.next_cursor.is_none(),
        iterator: page.next_cursor,
        prev_iterator: None,
        data,
    })
}

fn endpoint_param(q: &QueryPairs) -> ApiResult<Option<EndpointId>> {
    q.get("endpoint_id")
        .map(|e| {
            EndpointId::parse(e).map_err(|err| {
                ApiError::BadParameter(FieldError::new("endpoint_id", err.to_string()))
            })
        })
        .transpose()
}

fn query(endpoint: Option<EndpointId>, event: Option<EventId>) -> DeliveryQuery {
    DeliveryQuery {
        endpoint,
        event,
        status: None,
        labels: Vec::new(),
        page: Default::default(),
    }
}

pub async fn of_message(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EventId>,
    q: QueryPairs,
) -> ApiResult<Json<Page<MessageAttemptOut>>> {
    if state
        .store
        .get_event(&scoped.app.id, &child.id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("message '{}'", child.raw)));
    }
    let found = query(endpoint_param(&q)?, Some(child.id));
    let also = ["status", "endpoint_id"];
    Ok(Json(attempts(state, &scoped, &q, &also, found).await?))
}

pub async fn of_endpoint(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    q: QueryPairs,
) -> ApiResult<Json<Page<MessageAttemptOut>>> {
    endpoints::load(&state, &scoped.app, &child).await?;
    let found = query(Some(child.id), None);
    Ok(Json(
        attempts(state, &scoped, &q, &["status"], found).await?,
    ))
}
