//! `/v1/apps/{app}/endpoints`: subscribers, their settings, their secrets, and the
//! recovery of what failed to reach them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Child, Scoped};
use super::endpoint_build;
use super::endpoint_input::EndpointInput;
use super::error::{ApiError, ApiResult, Problem};
use super::json::{JsonBody, QueryPairs};
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::dispatch::announce;
use crate::domain::endpoint::EndpointKind;
use crate::domain::{App, Endpoint, EndpointId, Health};
use crate::store::{Changed, HealthChange, Recovery};

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

/// An endpoint with its secret: the answer to create, and to the explicit secret read.
#[derive(Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub secret: String,
}

/// The app's endpoint the path names.
pub(super) async fn load(
    state: &AppState,
    app: &App,
    child: &Child<EndpointId>,
) -> ApiResult<Endpoint> {
    match state.store.get_endpoint(&child.id).await? {
        Some(ep) if ep.app_id == app.id => Ok(ep),
        _ => Err(ApiError::NotFound(format!("endpoint '{}'", child.raw))),
    }
}

pub(super) fn changed(state: &AppState, id: &EndpointId) {
    if let Some(d) = &state.dispatcher {
        d.endpoint_changed(id);
    }
}

/// Starts the endpoint's verification when it needs one (on a node without a dispatcher,
/// the sweep of one that has will).
fn verify(state: &AppState, ep: &Endpoint) {
    if let Some(d) = &state.dispatcher {
        d.verify_soon(ep.clone());
    }
}

/// Creates an endpoint; the response carries its secret.
#[utoipa::path(post, path = "/v1/apps/{app}/endpoints", tag = "endpoints", params(("app" = String, Path)),
    request_body = EndpointInput,
    responses((status = 201, body = EndpointWithSecret), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(input): JsonBody<EndpointInput>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecret>)> {
    let ep = endpoint_build::new_endpoint(&state, &scoped.app, input).await?;
    state.store.create_endpoint(&ep).await?;
    verify(&state, &ep);
    let secret = ep.secret.expose().to_owned();
    Ok((
        StatusCode::CREATED,
        Json(EndpointWithSecret {
            endpoint: ep,
            secret,
        }),
    ))
}

#[utoipa::path(get, path = "/v1/apps/{app}/endpoints", tag = "endpoints",
    params(("app" = String, Path), ("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<Endpoint>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<ListResponse<Endpoint>>> {
    q.only(&["limit", "after"])?;
    let page = page_from::<EndpointId>(&q)?;
    let eps = state.store.list_endpoints(&scoped.app.id, &page).await?;
    Ok(Json(respond(eps, &page, |e| e.id.to_string())))
}

#[utoipa::path(get, path = "/v1/apps/{app}/endpoints/{ep}", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)),
    responses((status = 200, body = Endpoint), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
) -> ApiResult<Json<Endpoint>> {
    Ok(Json(load(&state, &scoped.app, &child).await?))
}

/// Changes an endpoint's settings; absent fields are left as they are.
#[utoipa::path(patch, path = "/v1/apps/{app}/endpoints/{ep}", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)), request_body = EndpointInput,
    responses((status = 200, body = Endpoint), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    JsonBody(input): JsonBody<EndpointInput>,
) -> ApiResult<Json<Endpoint>> {
    let ep = load(&state, &scoped.app, &child).await?;
    Ok(Json(apply(&state, &scoped.app, ep, input).await?))
}

/// Applies `input` to `ep` and stores it: what a PATCH does (and the dashboard's forms).
pub async fn apply(
    state: &AppState,
    app: &App,
    ep: Endpoint,
    input: EndpointInput,
) -> ApiResult<Endpoint> {
    let was_enabled = ep.enabled;
    let mut ep = endpoint_build::patched(state, app, ep, input, false).await?;
    ep.updated_at = Utc::now();
    state.store.update_endpoint(&ep).await?;
    if ep.enabled && !was_enabled {
        ep = enabled_again(state, ep).await?;
    }
    changed(state, &ep.id);
    verify(state, &ep);
    Ok(ep)
}

/// An endpoint enabled again starts with a closed breaker, so what it held flows at once,
/// and the app is told.
async fn enabled_again(state: &AppState, ep: Endpoint) -> ApiResult<Endpoint> {
    let reset: HealthChange = Arc::new(|_: &Endpoint| Changed {
        health: Health::default(),
        disable: None,
    });
    let ep = match state.store.update_health(&ep.id, reset).await? {
        Some(update) => update.endpoint,
        None => ep,
    };
    let data = serde_json::json!({"endpoint_id": ep.id, "url": ep.url.as_str(), "name": ep.name});
    announce(
        state.store.as_ref(),
        state.dispatcher.as_ref(),
        "herald.endpoint.enabled",
        &ep,
        data,
    )
    .await;
    if let Some(d) = &state.dispatcher {
        d.wake();
    }
    Ok(ep)
}

/// Deletes an endpoint; its waiting deliveries are cancelled.
#[utoipa::path(delete, path = "/v1/apps/{app}/endpoints/{ep}", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
) -> ApiResult<StatusCode> {
    let ep = load(&state, &scoped.app, &child).await?;
    state.store.delete_endpoint(&ep.id).await?;
    changed(&state, &ep.id);
    Ok(StatusCode::NO_CONTENT)
}

/// Re-queues an endpoint's failed deliveries created in `[since, until)`.
#[utoipa::path(post, path = "/v1/apps/{app}/endpoints/{ep}/recover", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)), request_body = Recover,
    responses((status = 202, body = Recovered), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn recover(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    JsonBody(req): JsonBody<Recover>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    let (id, raw) = (child.id, child.raw);
    match state.store.get_endpoint(&id).await? {
        Some(ep) if ep.app_id == scoped.app.id && ep.kind == EndpointKind::Polling => {
            return Err(ApiError::Conflict(super::deliveries::PULLED.to_owned()))
        }
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
    let recovered = state
        .store
        .recover(&Recovery::failed(id, since, until))
        .await?;
    if let Some(d) = &state.dispatcher {
        d.wake();
    }
    Ok((StatusCode::ACCEPTED, Json(Recovered { recovered })))
}
