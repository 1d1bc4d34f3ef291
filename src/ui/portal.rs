//! Portal links: the platform mints, through the API, a signed, expiring link to one app's
//! pages and hands it to its customer, who lands signed in to that app only, with no key.
//! The link carries its app, its end and whether it is read-only, signed with HMAC-SHA256
//! under a key the nodes share (kept in the store), so any node opens it and a changed
//! character makes it worthless. The session it opens ends when the link does.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::layout;
use super::session::{over_tls, start};
use crate::api::auth::{new_token, Scoped};
use crate::api::error::{ApiError, ApiResult, Problem};
use crate::api::json::JsonBody;
use crate::api::AppState;
use crate::domain::AppId;
use crate::store::PORTAL_SIGNING_KEY;

/// The longest a portal link may live: 30 days.
const MAX_LIFETIME_S: i64 = 30 * 86_400;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalLinkRequest {
    /// Seconds the link works, 1 to 2,592,000 (30 days).
    #[schema(minimum = 1, maximum = 2_592_000)]
    pub expires_in_s: i64,
    /// Shows everything and changes nothing.
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PortalLink {
    /// The link to open: in full when `public_url` is set, else a path to prefix with the
    /// server's public address.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub read_only: bool,
}

/// What a link says.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
struct Claims {
    app: AppId,
    exp: i64,
    ro: bool,
}

/// The shared signing key, made by the first node that needs one.
async fn signing_key(state: &AppState) -> Result<String, ApiError> {
    Ok(state
        .store
        .meta_init(PORTAL_SIGNING_KEY, &new_token(""))
        .await?)
}

fn mac(key: &str, payload: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(payload.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

fn sign(key: &str, claims: &Claims) -> String {
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    format!("{payload}.{}", mac(key, &payload))
}

/// The link's claims, if its signature holds and it has not expired.
fn open(key: &str, token: &str, now: DateTime<Utc>) -> Result<Claims, &'static str> {
    let (payload, sig) = token.split_once('.').ok_or("this link is malformed")?;
    let want = mac(key, payload);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        sig.as_bytes(),
        want.as_bytes(),
    )) {
        return Err("this link is not one Herald signed");
    }
    let claims: Claims = B64
        .decode(payload)
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .ok_or("this link is malformed")?;
    match claims.exp > now.timestamp() {
        true => Ok(claims),
        false => Err("this link has expired; ask for a new one"),
    }
}

/// Mints a link to the app's dashboard pages.
#[utoipa::path(post, path = "/v1/apps/{app}/portal-links", tag = "apps",
    params(("app" = String, Path)), request_body = PortalLinkRequest,
    responses((status = 201, body = PortalLink), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn mint(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(req): JsonBody<PortalLinkRequest>,
) -> ApiResult<(StatusCode, Json<PortalLink>)> {
    if !(1..=MAX_LIFETIME_S).contains(&req.expires_in_s) {
        return Err(ApiError::field(
            "expires_in_s",
            format!("must be between 1 and {MAX_LIFETIME_S}"),
        ));
    }
    let expires_at = Utc::now() + Duration::seconds(req.expires_in_s);
    let claims = Claims {
        app: scoped.app.id.clone(),
        exp: expires_at.timestamp(),
        ro: req.read_only,
    };
    let token = sign(&signing_key(&state).await?, &claims);
    let link = PortalLink {
        url: state.settings.public_link(&format!("/ui/portal/{token}")),
        expires_at,
        read_only: req.read_only,
    };
    Ok((StatusCode::CREATED, Json(link)))
}

/// `GET /ui/portal/{token}`: opens the link's app in a session that ends with the link.
pub async fn enter(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let key = match signing_key(&state).await {
        Ok(key) => key,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let claims = match open(&key, &token, Utc::now()) {
        Ok(claims) => claims,
        Err(why) => return layout::refused(why),
    };
    let ends = DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    match start(
        &state,
        (Some(claims.app.clone()), None),
        claims.ro,
        Some(ends),
        over_tls(&state.settings, &headers),
    )
    .await
    {
        Ok(cookie) => {
            let home = format!("/ui/apps/{}", claims.app);
            ([(header::SET_COOKIE, cookie)], Redirect::to(&home)).into_response()
        }
        Err(e) => layout::failure(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_until_it_expires_and_not_once_changed() {
        let now = Utc::now();
        let claims = Claims {
            app: AppId::new(),
            exp: now.timestamp() + 60,
            ro: true,
        };
        let token = sign("key", &claims);
        assert_eq!(open("key", &token, now), Ok(Claims { ..claims }));
        assert!(open("other", &token, now).is_err());
        assert!(open("key", &token, now + Duration::seconds(61)).is_err());
        let mut tampered = token.clone().into_bytes();
        tampered[3] ^= 1;
        assert!(open("key", &String::from_utf8_lossy(&tampered), now).is_err());
        assert!(open("key", "no-dot", now).is_err());
    }
}
