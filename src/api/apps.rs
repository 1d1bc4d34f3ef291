//! `/v1/apps`: tenants. Creating and listing apps needs the admin token; an app key sees and
//! edits only its own app.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{Admin, Caller, Scoped};
use super::error::{ApiError, ApiResult, Problem};
use super::json::{JsonBody, QueryPairs};
use super::pagination::{page_from, respond, ListResponse};
use super::AppState;
use crate::domain::{App, AppId, Ingest, LivekitIngest, Preset};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    pub name: String,
    /// `digitalsamba`, `attendee`, `plugnmeet`, `livekit`, `sendbird`, `standard` or `none`.
    #[schema(value_type = Option<Preset>)]
    pub preset: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// `{"livekit": {"api_key", "api_secret"}}`: accept a LiveKit or plugNmeet server's
    /// webhooks on `POST /v1/apps/{app}/ingest/livekit`. `{}` removes it.
    pub ingest: Option<IngestInput>,
    /// Refuse a publish whose `data` breaks its type's schema (default `true`).
    pub enforce_schemas: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// `{"livekit": {"api_key", "api_secret"}}`: accept a LiveKit or plugNmeet server's
    /// webhooks on `POST /v1/apps/{app}/ingest/livekit`. `{}` removes it.
    pub ingest: Option<IngestInput>,
    /// Refuse a publish whose `data` breaks its type's schema.
    pub enforce_schemas: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestInput {
    pub livekit: Option<LivekitIngestInput>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LivekitIngestInput {
    pub api_key: String,
    pub api_secret: String,
}

fn check_ingest(input: IngestInput) -> Result<Ingest, ApiError> {
    let livekit = match input.livekit {
        None => None,
        Some(lk) => {
            if lk.api_key.is_empty() || lk.api_key.len() > 200 {
                return Err(ApiError::field(
                    "ingest.livekit.api_key",
                    "must be 1 to 200 characters",
                ));
            }
            if lk.api_secret.len() < 16 || lk.api_secret.len() > 256 {
                return Err(ApiError::field(
                    "ingest.livekit.api_secret",
                    "must be 16 to 256 characters",
                ));
            }
            Some(LivekitIngest {
                api_key: lk.api_key,
                api_secret: lk.api_secret,
            })
        }
    };
    Ok(Ingest { livekit })
}

pub fn check_name(field: &str, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::field(field, "must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

pub fn check_metadata(
    field: &str,
    value: Option<serde_json::Value>,
) -> Result<serde_json::Value, ApiError> {
    match value {
        None => Ok(serde_json::json!({})),
        Some(v @ serde_json::Value::Object(_)) if v.to_string().len() <= 16 * 1024 => Ok(v),
        Some(serde_json::Value::Object(_)) => Err(ApiError::field(field, "must be at most 16 KiB")),
        Some(_) => Err(ApiError::field(field, "must be a JSON object")),
    }
}

/// Creates an app (a tenant) with a catalog preset.
#[utoipa::path(post, path = "/v1/apps", tag = "apps", request_body = CreateApp,
    responses((status = 201, body = App), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(req): JsonBody<CreateApp>,
) -> ApiResult<(StatusCode, Json<App>)> {
    Ok((StatusCode::CREATED, Json(new_app(&state, req).await?)))
}

/// Checks and stores a new app.
pub async fn new_app(state: &AppState, req: CreateApp) -> ApiResult<App> {
    let name = check_name("name", &req.name)?;
    let preset = match req.preset.as_deref() {
        None => Preset::Standard,
        Some(raw) => Preset::parse(raw).ok_or_else(|| {
            let known: Vec<_> = Preset::ALL.iter().map(|p| p.as_str()).collect();
            ApiError::field(
                "preset",
                format!("unknown preset '{raw}'; known: {}", known.join(", ")),
            )
        })?,
    };
    let now = Utc::now();
    let app = App {
        id: AppId::new(),
        name,
        preset,
        metadata: check_metadata("metadata", req.metadata)?,
        ingest: req
            .ingest
            .map(check_ingest)
            .transpose()?
            .unwrap_or_default(),
        enforce_schemas: req.enforce_schemas.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    state.store.create_app(&app).await?;
    Ok(app)
}

/// Lists apps: all of them for the admin token, its own for an app key.
#[utoipa::path(get, path = "/v1/apps", tag = "apps",
    params(("limit" = Option<u32>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<App>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryPairs,
) -> ApiResult<Json<ListResponse<App>>> {
    q.only(&["limit", "after"])?;
    let page = page_from::<AppId>(&q)?;
    let apps = match caller {
        Caller::Admin => state.store.list_apps(&page).await?,
        Caller::App(id) => state.store.get_app(&id).await?.into_iter().collect(),
    };
    Ok(Json(respond(apps, &page, |a| a.id.to_string())))
}

#[utoipa::path(get, path = "/v1/apps/{app}", tag = "apps", params(("app" = String, Path)),
    responses((status = 200, body = App), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get(scoped: Scoped) -> Json<App> {
    Json(scoped.app)
}

#[utoipa::path(patch, path = "/v1/apps/{app}", tag = "apps", params(("app" = String, Path)), request_body = UpdateApp,
    responses((status = 200, body = App), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(req): JsonBody<UpdateApp>,
) -> ApiResult<Json<App>> {
    let mut app = scoped.app;
    if let Some(name) = req.name {
        app.name = check_name("name", &name)?;
    }
    if let Some(ingest) = req.ingest {
        app.ingest = check_ingest(ingest)?;
    }
    if let Some(enforce) = req.enforce_schemas {
        app.enforce_schemas = enforce;
    }
    if req.metadata.is_some() {
        app.metadata = check_metadata("metadata", req.metadata)?;
    }
    app.updated_at = Utc::now();
    state.store.update_app(&app).await?;
    state.apps.remove(&app.id);
    Ok(Json(app))
}

/// Deletes the app with its keys, endpoints, events and delivery log.
#[utoipa::path(delete, path = "/v1/apps/{app}", tag = "apps", params(("app" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete(State(state): State<AppState>, scoped: Scoped) -> ApiResult<StatusCode> {
    state.store.delete_app(&scoped.app.id).await?;
    state.apps.remove(&scoped.app.id);
    state.keys.remove_where(|(app, _)| *app == scoped.app.id);
    Ok(StatusCode::NO_CONTENT)
}
