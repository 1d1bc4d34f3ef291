//! `/api/v1/app`: Svix's applications are Herald's apps.
//!
//! An application made here has the `none` preset: Svix's event types are the platform's
//! own, registered through `/api/v1/event-type`. Apps made through `/v1` are listed here as
//! well, whatever their preset.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::shapes::{metadata, string_map, unsupported, Page};
use crate::api::apps::{self, CreateApp, UpdateApp};
use crate::api::auth::{Admin, Caller, Scoped};
use crate::api::error::ApiResult;
use crate::api::json::{JsonBody, QueryPairs};
use crate::api::AppState;
use crate::domain::App;

/// `ApplicationIn` (create and PUT) and `ApplicationPatch`: the same fields, all optional in
/// a patch.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationIn {
    name: Option<String>,
    uid: Option<String>,
    throttle_rate: Option<u32>,
    rate_limit: Option<u32>,
    metadata: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationOut {
    id: String,
    uid: Option<String>,
    name: String,
    throttle_rate: Option<u32>,
    metadata: BTreeMap<String, String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<App> for ApplicationOut {
    fn from(app: App) -> Self {
        ApplicationOut {
            id: app.id.to_string(),
            uid: None,
            name: app.name,
            throttle_rate: None,
            metadata: string_map(&app.metadata),
            created_at: app.created_at,
            updated_at: app.updated_at,
        }
    }
}

impl ApplicationIn {
    /// Refuses what Herald's apps cannot hold.
    fn check(&self) -> ApiResult<()> {
        unsupported(
            "uid",
            &self.uid,
            "address the application by its id (app_...)",
        )?;
        let why = "Herald limits the rate per endpoint (rateLimit), not per application";
        unsupported("throttleRate", &self.throttle_rate, why)?;
        unsupported("rateLimit", &self.rate_limit, why)
    }
}

pub async fn create(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(req): JsonBody<ApplicationIn>,
) -> ApiResult<(StatusCode, Json<ApplicationOut>)> {
    req.check()?;
    let app = apps::new_app(
        &state,
        CreateApp {
            name: req.name.unwrap_or_default(),
            preset: Some("none".to_owned()),
            metadata: metadata(req.metadata),
            ingest: None,
            enforce_schemas: None,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(app.into())))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryPairs,
) -> ApiResult<Json<Page<ApplicationOut>>> {
    let q = super::herald_page(&q, &[], false)?;
    let Json(page) = apps::list(State(state), caller, q).await?;
    Ok(Json(Page::from_herald(page, ApplicationOut::from)))
}

pub async fn get(scoped: Scoped) -> Json<ApplicationOut> {
    Json(scoped.app.into())
}

/// PUT and PATCH: the fields given replace the app's.
pub async fn update(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(req): JsonBody<ApplicationIn>,
) -> ApiResult<Json<ApplicationOut>> {
    req.check()?;
    let change = UpdateApp {
        name: req.name,
        metadata: metadata(req.metadata),
        ingest: None,
        enforce_schemas: None,
    };
    let Json(app) = apps::update(State(state), scoped, JsonBody(change)).await?;
    Ok(Json(app.into()))
}

pub async fn delete(State(state): State<AppState>, scoped: Scoped) -> ApiResult<StatusCode> {
    apps::delete(State(state), scoped).await
}
