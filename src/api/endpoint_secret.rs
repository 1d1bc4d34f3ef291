//! An endpoint's secret: the one explicit read, and rotation with a grace period during which
//! the old and the new key both sign, so receivers move over without a gap.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Child, Scoped};
use super::endpoint_build;
use super::endpoint_input::EndpointInput;
use super::endpoints::{changed, load};
use super::error::{ApiError, ApiResult, Problem};
use super::json::JsonBody;
use super::AppState;
use crate::domain::{Endpoint, EndpointId, EndpointSecret, Signing};

#[derive(Serialize, ToSchema)]
pub struct SecretView {
    pub secret: String,
    /// `standard` endpoints signing with ed25519: the `whpk_` key receivers verify with.
    pub public_key: Option<String>,
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
    /// `standard`: the scheme of the generated secret (`hmac` or `ed25519`); the current
    /// one's when omitted. Both sign during the grace period, so receivers can move over.
    pub signing: Option<Signing>,
}

/// Reads the endpoint's current secret (the one explicit secret read).
#[utoipa::path(get, path = "/v1/apps/{app}/endpoints/{ep}/secret", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)),
    responses((status = 200, body = SecretView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn secret(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
) -> ApiResult<Json<SecretView>> {
    let ep = load(&state, &scoped.app, &child).await?;
    let previous_valid_until = ep
        .previous_secret
        .as_ref()
        .map(|(_, t)| *t)
        .filter(|t| *t > Utc::now());
    Ok(Json(SecretView {
        secret: ep.secret.expose().to_owned(),
        public_key: ep.secret.public_key(),
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
    child: Child<EndpointId>,
    JsonBody(req): JsonBody<RotateSecret>,
) -> ApiResult<Json<SecretView>> {
    let ep = load(&state, &scoped.app, &child).await?;
    Ok(Json(rotated(&state, ep, req).await?))
}

/// Rotates `ep`'s secret as `req` asks and stores it (the API's rotation and the dashboard's).
pub async fn rotated(
    state: &AppState,
    mut ep: Endpoint,
    req: RotateSecret,
) -> ApiResult<SecretView> {
    let grace = req.grace_period_s.unwrap_or(86_400);
    if !(0..=7 * 86_400).contains(&grace) {
        return Err(ApiError::field(
            "grace_period_s",
            "must be between 0 and 604800",
        ));
    }
    let input = EndpointInput {
        secret: req.secret,
        signing: req.signing,
        ..Default::default()
    };
    let new = endpoint_build::input_secret(&input, ep.format, Some(ep.secret.signing()))?
        .unwrap_or_else(|| EndpointSecret::generate(ep.format));
    let until = Utc::now() + chrono::Duration::seconds(grace);
    let old = std::mem::replace(&mut ep.secret, new);
    ep.previous_secret = (grace > 0).then_some((old, until));
    ep.updated_at = Utc::now();
    state.store.update_endpoint(&ep).await?;
    changed(state, &ep.id);
    let previous_valid_until = ep.previous_secret.as_ref().map(|(_, t)| *t);
    Ok(SecretView {
        secret: ep.secret.expose().to_owned(),
        public_key: ep.secret.public_key(),
        previous_valid_until,
    })
}
