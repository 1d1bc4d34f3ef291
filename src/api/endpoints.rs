//! `/v1/apps/{app}/endpoints`: subscribers, their settings and their secrets.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{path_id, Scoped};
use super::endpoint_input::{parse_events, parse_format, parse_url, EndpointInput};
use super::error::{ApiError, ApiResult, Problem};
use super::event_types::check_known;
use super::json::{JsonBody, QueryPairs};
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::domain::endpoint::Subscription;
use crate::domain::{App, Endpoint, EndpointId, EndpointSecret, FormatKind, LabelFilter};
use crate::formats::format_for;

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
    JsonBody(mut input): JsonBody<EndpointInput>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecret>)> {
    let app = scoped.app;
    let mut errors = Vec::new();
    let url = match input.url.take() {
        Some(raw) => parse_url(&raw, &state.policy, state.settings.https_only)
            .map_err(|e| errors.push(e))
            .ok(),
        None => {
            errors.push(crate::domain::FieldError::new("url", "is required"));
            None
        }
    };
    let format = match input.format.take() {
        Some(raw) => parse_format(&raw)?,
        None => Some(app.preset.default_format())
            .filter(|f| format_for(*f).is_some())
            .unwrap_or(FormatKind::Standard),
    };
    let defaults = format_for(format)
        .map(|f| f.defaults())
        .ok_or_else(|| ApiError::field("format", "unavailable"))?;
    let events = input.events.take().unwrap_or_else(|| vec!["*".into()]);
    let (subscription, named) = parse_events(&events)
        .map_err(|e| errors.push(e))
        .unwrap_or((Subscription::Types(Default::default()), Vec::new()));
    let secret = input
        .parse_secret(format)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let now = Utc::now();
    let mut ep = Endpoint {
        id: EndpointId::new(),
        app_id: app.id.clone(),
        url: url
            .clone()
            .unwrap_or_else(|| crate::domain::EndpointUrl::from_trusted(String::new())),
        name: String::new(),
        description: String::new(),
        format,
        events: subscription,
        filter: LabelFilter::default(),
        headers: Default::default(),
        timeout_ms: defaults.timeout_ms,
        retry_schedule_s: defaults.retry_schedule,
        max_in_flight: 50,
        rate_limit_per_s: None,
        ordering: defaults.ordering,
        api_key: matches!(format, FormatKind::Livekit | FormatKind::Plugnmeet)
            .then(|| super::auth::new_token("API")[..15].to_owned()),
        include_members: false,
        content_type: None,
        expires_at: None,
        enabled: true,
        disabled_reason: None,
        metadata: serde_json::json!({}),
        created_at: now,
        updated_at: now,
        secret: secret.unwrap_or_else(|| EndpointSecret::generate(format)),
        previous_secret: None,
    };
    input.apply_settings(&mut ep, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    check_known(&state, &app, "events", &named).await?;
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
    let page = page_from(&q)?;
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
    JsonBody(mut input): JsonBody<EndpointInput>,
) -> ApiResult<Json<Endpoint>> {
    let raw = ids.1;
    let mut ep = load(&state, &scoped.app, &raw).await?;
    let mut errors = Vec::new();
    if let Some(f) = input.format.take() {
        if FormatKind::parse(&f) != Some(ep.format) {
            errors.push(crate::domain::FieldError::new(
                "format",
                "cannot change after creation; create a new endpoint",
            ));
        }
    }
    if input.secret.is_some() {
        errors.push(crate::domain::FieldError::new(
            "secret",
            "use POST .../secret/rotate",
        ));
    }
    if let Some(raw_url) = input.url.take() {
        match parse_url(&raw_url, &state.policy, state.settings.https_only) {
            Ok(url) => ep.url = url,
            Err(e) => errors.push(e),
        }
    }
    let mut named = Vec::new();
    if let Some(events) = input.events.take() {
        match parse_events(&events) {
            Ok((sub, n)) => {
                ep.events = sub;
                named = n;
            }
            Err(e) => errors.push(e),
        }
    }
    input.apply_settings(&mut ep, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    check_known(&state, &scoped.app, "events", &named).await?;
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
