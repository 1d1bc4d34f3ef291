//! Health, readiness, metrics, and the answers for routes that do not exist.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::error::ApiError;
use super::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "store unavailable")))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    match tokio::time::timeout(READY_WITHIN, state.store.ping()).await {
        Ok(answer) => answer?,
        Err(_) => {
            return Err(ApiError::Unavailable(format!(
                "the database did not answer within {} s",
                READY_WITHIN.as_secs()
            )))
        }
    }
    Ok("ready")
}

/// How long readiness waits for the database: a probe must hear of an outage at once,
/// not after the pool's acquire timeout.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "metrics")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(pending) = state.store.pending_count().await {
        metrics::gauge!("herald_deliveries_pending").set(pending as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("route".into())
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
