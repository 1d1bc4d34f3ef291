//! `/v1/apps/{app}/endpoints`: subscribers, their settings and their secrets.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{path_id, Scoped};
use super::endpoint_build;
use super::endpoint_input::EndpointInput;
use super::error::{ApiError, ApiResult, Problem};
use super::json::{JsonBody, QueryPairs};
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::domain::{App, Endpoint, EndpointId, EndpointSecret};

/// An endpoint with its secret: the answer to create, and to the explicit secret read.
#[derive(Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct SecretView {
    pub secret: String,
    /// Until when the previous secret still signs, during a rotation.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the old secret keeps signing beside the new one (default 86400, max 7 days).
    pub grace_period_s: Option<i64>,
    /// The new secret; generated when omitted.
    pub secret: Option<String>,
}

async fn load(state: &AppState, app: &App, raw: &str) -> ApiResult<Endpoint> {
    let id = path_id(raw, EndpointId::parse)?;
    match state.store.get_endpoint(&id).await? {
        Some(ep) if ep.app_id == app.id => Ok(ep),
        _ => Err(ApiError::NotFound(format!("endpoint '{raw}'"))),
    }
}

fn changed(state: &AppState, id: &EndpointId) {
    if let Some(d) = &state.dispatcher {
        d.endpoint_changed(id);
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
    Path(ids): Path<(String, String)>,
) -> ApiResult<Json<Endpoint>> {
    let ep = ids.1;
    Ok(Json(load(&state, &scoped.app, &ep).await?))
}

/// Changes an endpoint's settings; absent fields are left as they are.
#[utoipa::path(patch, path = "/v1/apps/{app}/endpoints/{ep}", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)), request_body = EndpointInput,
    responses((status = 200, body = Endpoint), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
    JsonBody(input): JsonBody<EndpointInput>,
) -> ApiResult<Json<Endpoint>> {
    let raw = ids.1;
    let ep = load(&state, &scoped.app, &raw).await?;
    let mut ep = endpoint_build::patched(&state, &scoped.app, ep, input, false).await?;
    ep.updated_at = Utc::now();
    state.store.update_endpoint(&ep).await?;
    changed(&state, &ep.id);
    Ok(Json(ep))
}

/// Deletes an endpoint; its waiting deliveries are cancelled.
#[utoipa::path(delete, path = "/v1/apps/{app}/endpoints/{ep}", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let raw = ids.1;
    let ep = load(&state, &scoped.app, &raw).await?;
    state.store.delete_endpoint(&ep.id).await?;
    changed(&state, &ep.id);
    Ok(StatusCode::NO_CONTENT)
}

/// Reads the endpoint's current secret (the one explicit secret read).
#[utoipa::path(get, path = "/v1/apps/{app}/endpoints/{ep}/secret", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)),
    responses((status = 200, body = SecretView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn secret(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
) -> ApiResult<Json<SecretView>> {
    let raw = ids.1;
    let ep = load(&state, &scoped.app, &raw).await?;
    let previous_valid_until = ep
        .previous_secret
        .as_ref()
        .map(|(_, t)| *t)
        .filter(|t| *t > Utc::now());
    Ok(Json(SecretView {
        secret: ep.secret.expose().to_owned(),
        previous_valid_until,
    }))
}

/// Replaces the secret; the old one keeps signing beside it for the grace period.
#[utoipa::path(post, path = "/v1/apps/{app}/endpoints/{ep}/secret/rotate", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)), request_body = RotateSecret,
    responses((status = 200, body = SecretView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn rotate(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(ids): Path<(String, String)>,
    JsonBody(req): JsonBody<RotateSecret>,
) -> ApiResult<Json<SecretView>> {
    let raw = ids.1;
    let mut ep = load(&state, &scoped.app, &raw).await?;
    let grace = req.grace_period_s.unwrap_or(86_400);
    if !(0..=7 * 86_400).contains(&grace) {
        return Err(ApiError::field(
            "grace_period_s",
            "must be between 0 and 604800",
        ));
    }
    let new = match &req.secret {
        Some(s) => EndpointSecret::parse("secret", ep.format, s)?,
        None => EndpointSecret::generate(ep.format),
    };
    let until = Utc::now() + chrono::Duration::seconds(grace);
    let old = std::mem::replace(&mut ep.secret, new);
    ep.previous_secret = (grace > 0).then_some((old, until));
    ep.updated_at = Utc::now();
    state.store.update_endpoint(&ep).await?;
    changed(&state, &ep.id);
    let previous_valid_until = ep.previous_secret.as_ref().map(|(_, t)| *t);
    Ok(Json(SecretView {
        secret: ep.secret.expose().to_owned(),
        previous_valid_until,
    }))
}
