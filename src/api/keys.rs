//! `/v1/apps/{app}/keys`: app-scoped API keys. The token is shown once, at creation; only its
//! hash is stored.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{hash_hex, new_token, Child, Scoped};
use super::error::{ApiError, ApiResult, Problem};
use super::json::{parse_json, RawBody};
use super::AppState;
use crate::domain::{AppId, KeyId};
use crate::store::ApiKey;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    pub id: KeyId,
    pub app_id: AppId,
    pub name: String,
    /// The bearer token (`hk_...`); shown only in this response.
    pub token: String,
    pub created_at: DateTime<Utc>,
}

/// A key as listed: everything but its token, which is shown once, when it is created.
#[derive(Serialize, ToSchema)]
pub struct KeyView {
    pub id: KeyId,
    pub app_id: AppId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub data: Vec<KeyView>,
}

/// The app's keys, oldest first, without their tokens.
#[utoipa::path(get, path = "/v1/apps/{app}/keys", tag = "keys", params(("app" = String, Path)),
    responses((status = 200, body = KeyList), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, scoped: Scoped) -> ApiResult<Json<KeyList>> {
    let keys = state.store.list_keys(&scoped.app.id).await?;
    let data = keys
        .into_iter()
        .map(|k| KeyView {
            id: k.id,
            app_id: k.app_id,
            name: k.name,
            created_at: k.created_at,
        })
        .collect();
    Ok(Json(KeyList { data }))
}

#[utoipa::path(post, path = "/v1/apps/{app}/keys", tag = "keys", params(("app" = String, Path)), request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    scoped: Scoped,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let req: CreateKey = if body.iter().all(u8::is_ascii_whitespace) {
        CreateKey::default()
    } else {
        parse_json(&body)?
    };
    let created = new_key(&state, &scoped.app.id, req.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Makes and stores a key of `app`; its token is in the answer only.
pub async fn new_key(state: &AppState, app: &AppId, name: Option<String>) -> ApiResult<CreatedKey> {
    let name = match name {
        Some(n) => super::apps::check_name("name", &n)?,
        None => "default".to_owned(),
    };
    let token = new_token("hk_");
    let key = ApiKey {
        id: KeyId::new(),
        app_id: app.clone(),
        name,
        token_hash: hash_hex(&token),
        created_at: Utc::now(),
    };
    state.store.create_key(&key).await?;
    Ok(CreatedKey {
        id: key.id,
        app_id: key.app_id,
        name: key.name,
        token,
        created_at: key.created_at,
    })
}

#[utoipa::path(delete, path = "/v1/apps/{app}/keys/{key}", tag = "keys",
    params(("app" = String, Path), ("key" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<KeyId>,
) -> ApiResult<StatusCode> {
    let (id, key) = (child.id, child.raw);
    state.keys.remove_where(|(_, key)| *key == id);
    if state.store.delete_key(&scoped.app.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("key '{key}'")))
    }
}
