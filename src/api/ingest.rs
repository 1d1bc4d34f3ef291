//! `POST /v1/apps/{app}/ingest/livekit`: a LiveKit or plugNmeet server's webhook, verified by
//! its JWT (the media server cannot send a Herald token) and republished into the app.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use chrono::Utc;

use super::error::{ApiError, ApiResult, Problem};
use super::events::{commit, PublishResult};
use super::json::RawBody;
use super::AppState;
use crate::domain::AppId;
use crate::ingest::livekit;

/// Accepts a LiveKit-signed webhook and publishes it as an event of the app.
#[utoipa::path(post, path = "/v1/apps/{app}/ingest/livekit", tag = "ingest", params(("app" = String, Path)),
    request_body(content = String, content_type = "application/webhook+json", description = "the webhook body as the media server sent it"),
    responses((status = 200, body = PublishResult), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn livekit(
    State(state): State<AppState>,
    Path(app): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<PublishResult>)> {
    // An unknown app and a bad token look the same to an unauthenticated caller.
    let app = match AppId::parse(&app) {
        Ok(id) => state.store.get_app(&id).await?,
        Err(_) => None,
    };
    let Some(app) = app else {
        return Err(ApiError::Unauthorized);
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = livekit::verify(&app, auth, &body, Utc::now()) {
        tracing::info!(app = %app.id, reason = %e, "ingest webhook rejected");
        return Err(ApiError::Unauthorized);
    }
    let event = livekit::to_event(&app, &body)?;
    let result = commit(&state, &app, vec![event])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("publish returned nothing".into()))?;
    Ok((StatusCode::OK, Json(result)))
}
