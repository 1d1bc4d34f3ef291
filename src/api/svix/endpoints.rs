//! `/api/v1/app/{app}/endpoint`: Svix's endpoints are Herald's, in the `standard` format.
//!
//! `filterTypes` (or `eventTypes`, as newer clients call it) is Herald's `events`, with no
//! filter meaning every type; `rateLimit` (or `throttleRate`) is `rate_limit_per_s`;
//! `disabled` is the opposite of `enabled`. Svix's `channels` and `uid` have no equivalent yet.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::shapes::{metadata, string_map, unsupported, unsupported_list, Page};
use crate::api::auth::{Child, Scoped};
use crate::api::endpoint_input::EndpointInput;
use crate::api::endpoint_secret::{self, RotateSecret};
use crate::api::endpoints::{self, Recover};
use crate::api::error::ApiResult;
use crate::api::json::{JsonBody, QueryPairs};
use crate::api::AppState;
use crate::domain::endpoint::Subscription;
use crate::domain::{Endpoint, EndpointId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/{app}/endpoint", get(list).post(create))
        .route(
            "/app/{app}/endpoint/{ep}",
            get(read).put(update).patch(update).delete(delete),
        )
        .route("/app/{app}/endpoint/{ep}/secret", get(secret))
        .route("/app/{app}/endpoint/{ep}/secret/rotate", post(rotate))
        .route("/app/{app}/endpoint/{ep}/recover", post(recover))
}

/// A field that may be absent (`None`), or present and `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `EndpointIn`, `EndpointUpdate` and `EndpointPatch`: one set of fields, all optional.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointIn {
    url: Option<String>,
    description: Option<String>,
    rate_limit: Option<i64>,
    throttle_rate: Option<i64>,
    uid: Option<String>,
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    filter_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    event_types: Option<Option<Vec<String>>>,
    channels: Option<Vec<String>>,
    secret: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    headers: Option<BTreeMap<String, String>>,
    /// Deprecated in Svix and without meaning; accepted and ignored.
    #[serde(rename = "version")]
    _version: Option<i64>,
}

impl EndpointIn {
    /// Herald's input for these fields; `creating` subscribes to every type when no filter
    /// is given.
    fn into_herald(self, creating: bool) -> ApiResult<EndpointInput> {
        unsupported("uid", &self.uid, "address the endpoint by its id (ep_...)")?;
        if !creating {
            let rotate = "rotate it with POST .../secret/rotate";
            unsupported("secret", &self.secret, rotate)?;
        }
        let why = "scope an endpoint to a room or bot with Herald's label filter (/v1)";
        unsupported_list("channels", &self.channels, why)?;
        let events = match self.filter_types.or(self.event_types) {
            Some(Some(types)) => Some(types),
            Some(None) => Some(vec!["*".to_owned()]),
            None => creating.then(|| vec!["*".to_owned()]),
        };
        Ok(EndpointInput {
            url: self.url,
            description: self.description,
            format: creating.then(|| "standard".to_owned()),
            data_only: creating.then_some(true),
            events,
            rate_limit_per_s: self.rate_limit.or(self.throttle_rate),
            enabled: self.disabled.map(|d| !d),
            secret: self.secret,
            metadata: metadata(self.metadata),
            headers: self.headers,
            ..Default::default()
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOut {
    id: String,
    url: String,
    description: String,
    version: u32,
    rate_limit: Option<u32>,
    throttle_rate: Option<u32>,
    uid: Option<String>,
    disabled: bool,
    filter_types: Option<Vec<String>>,
    event_types: Option<Vec<String>>,
    channels: Option<Vec<String>>,
    metadata: BTreeMap<String, String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Endpoint> for EndpointOut {
    fn from(ep: Endpoint) -> Self {
        let types = match &ep.events {
            Subscription::All => None,
            Subscription::Types(_) => Some(ep.events.to_list()),
        };
        EndpointOut {
            id: ep.id.to_string(),
            url: ep.url.as_str().to_owned(),
            description: ep.description,
            version: 1,
            rate_limit: ep.rate_limit_per_s,
            throttle_rate: ep.rate_limit_per_s,
            uid: None,
            disabled: !ep.enabled,
            filter_types: types.clone(),
            event_types: types,
            channels: None,
            metadata: string_map(&ep.metadata),
            created_at: ep.created_at,
            updated_at: ep.updated_at,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(req): JsonBody<EndpointIn>,
) -> ApiResult<(StatusCode, Json<EndpointOut>)> {
    let input = req.into_herald(true)?;
    let (status, Json(made)) = endpoints::create(State(state), scoped, JsonBody(input)).await?;
    Ok((status, Json(made.endpoint.into())))
}

async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<Page<EndpointOut>>> {
    let q = super::herald_page(&q, &[], false)?;
    let Json(page) = endpoints::list(State(state), scoped, q).await?;
    Ok(Json(Page::from_herald(page, EndpointOut::from)))
}

async fn read(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
) -> ApiResult<Json<EndpointOut>> {
    let Json(ep) = endpoints::get(State(state), scoped, child).await?;
    Ok(Json(ep.into()))
}

/// PUT and PATCH: the fields given replace the endpoint's.
async fn update(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    JsonBody(req): JsonBody<EndpointIn>,
) -> ApiResult<Json<EndpointOut>> {
    let input = req.into_herald(false)?;
    let Json(ep) = endpoints::update(State(state), scoped, child, JsonBody(input)).await?;
    Ok(Json(ep.into()))
}

async fn delete(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
) -> ApiResult<StatusCode> {
    endpoints::delete(State(state), scoped, child).await
}

#[derive(Serialize)]
struct EndpointSecretOut {
    key: String,
}

async fn secret(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
) -> ApiResult<Json<EndpointSecretOut>> {
    let Json(view) = endpoint_secret::secret(State(state), scoped, child).await?;
    Ok(Json(EndpointSecretOut { key: view.secret }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EndpointSecretRotateIn {
    key: Option<String>,
    grace_period_seconds: Option<i64>,
}

/// Rotates the secret and answers the new one; the old one keeps signing beside it for the
/// grace period (a day unless `gracePeriodSeconds` says otherwise).
async fn rotate(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    JsonBody(req): JsonBody<EndpointSecretRotateIn>,
) -> ApiResult<Json<EndpointSecretOut>> {
    let rotation = RotateSecret {
        grace_period_s: req.grace_period_seconds,
        secret: req.key,
        signing: None,
    };
    let Json(view) =
        endpoint_secret::rotate(State(state), scoped, child, JsonBody(rotation)).await?;
    Ok(Json(EndpointSecretOut { key: view.secret }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverIn {
    since: String,
    until: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecoverOut {
    id: String,
    status: &'static str,
    task: &'static str,
    updated_at: DateTime<Utc>,
    /// Herald's own: how many failed deliveries were queued again.
    recovered: u64,
}

/// Queues the endpoint's failed deliveries again; Herald does it at once, so the task Svix
/// answers with is already finished.
async fn recover(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    JsonBody(req): JsonBody<RecoverIn>,
) -> ApiResult<(StatusCode, Json<RecoverOut>)> {
    let input = Recover {
        since: req.since,
        until: req.until,
    };
    let (status, Json(done)) =
        endpoints::recover(State(state), scoped, child, JsonBody(input)).await?;
    Ok((
        status,
        Json(RecoverOut {
            id: format!("qtask_{}", ulid::Ulid::new()),
            status: "finished",
            task: "endpoint.recover",
            updated_at: Utc::now(),
            recovered: done.recovered,
        }),
    ))
}
