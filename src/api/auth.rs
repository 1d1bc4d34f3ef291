//! Who is calling, and which app they may touch.
//!
//! Tenant scoping happens in the [`Scoped`] extractor, before any handler runs: a handler that
//! takes `Scoped` cannot reach an app its caller does not own, and an app key asking for
//! another app's resources is told they do not exist (404), never that they are forbidden.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::{header, request::Parts};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::rate::Slot;
use super::AppState;
use crate::domain::{App, AppId, KeyId, PrefixedId};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    App(AppId),
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub fn hash_hex(token: &str) -> String {
    hash_token(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh token with the given prefix: 32 random bytes, URL-safe base64.
pub fn new_token(prefix: &str) -> String {
    let mut buf = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut buf);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(buf))
}

fn bearer(parts: &Parts) -> Option<&str> {
    let raw = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = raw.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        match resolve(state, token).await? {
            Some((caller, Some(key))) => {
                spend(parts, state, &key)?;
                Ok(caller)
            }
            Some((caller, None)) => Ok(caller),
            None => Err(ApiError::Unauthorized),
        }
    }
}

/// Who `token` is: the admin, or an app through one of its keys (and which); `None` for a
/// token that is neither. Shared by the API's bearer tokens and the dashboard's sign-in.
pub async fn resolve(
    state: &AppState,
    token: &str,
) -> Result<Option<(Caller, Option<KeyId>)>, ApiError> {
    if bool::from(hash_token(token).ct_eq(&state.admin_hash)) {
        return Ok(Some((Caller::Admin, None)));
    }
    if !token.starts_with("hk_") {
        return Ok(None);
    }
    let hash = hash_hex(token);
    let found = match state.keys.get(&hash) {
        Some(found) => Some(found),
        None => state.store.find_key(&hash).await?.map(|key| {
            state.keys.put(hash, (key.app_id.clone(), key.id.clone()));
            (key.app_id, key.id)
        }),
    };
    Ok(found.map(|(app, key)| (Caller::App(app), Some(key))))
}

/// Takes the request from the key's rate limit, leaving what is left for the response.
fn spend(parts: &Parts, state: &AppState, key: &KeyId) -> Result<(), ApiError> {
    let slot = parts.extensions.get::<Slot>();
    match state.limits.take(key) {
        Ok(budget) => {
            if let (Some(slot), Some(b)) = (slot, budget) {
                slot.fill(b);
            }
            Ok(())
        }
        Err(e) => {
            if let (Some(slot), ApiError::RateLimited { budget, .. }) = (slot, &e) {
                slot.fill(*budget);
            }
            Err(e)
        }
    }
}

/// The admin token, required by routes that span apps.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Admin => Ok(Admin),
            Caller::App(_) => Err(ApiError::Forbidden(
                "this route needs the admin token".into(),
            )),
        }
    }
}

/// The app named by the `{app}` path segment, loaded and checked against the caller.
pub struct Scoped {
    pub app: App,
}

impl FromRequestParts<AppState> for Scoped {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("app".into()))?;
        let raw = params
            .iter()
            .find(|(k, _)| *k == "app")
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| ApiError::NotFound("app".into()))?;
        let not_found = || ApiError::NotFound(format!("app '{raw}'"));
        let id = AppId::parse(&raw).map_err(|_| not_found())?;
        super::trace::record_app(&id);
        if let Caller::App(own) = &caller {
            if *own != id {
                return Err(not_found());
            }
        }
        let app = match state.apps.get(&id) {
            Some(app) => app,
            None => {
                let app = state.store.get_app(&id).await?.ok_or_else(not_found)?;
                state.apps.put(id, app.clone());
                app
            }
        };
        Ok(Scoped { app })
    }
}

/// The id of a resource under an app (`/v1/apps/{app}/<kind>/{id}...`), parsed before any
/// store access: a malformed id is as absent as an unknown one (404), and a handler holds a
/// typed id, never a string.
pub struct Child<I> {
    pub id: I,
    /// The segment as sent, for messages.
    pub raw: String,
}

impl<S: Send + Sync, I: PrefixedId> FromRequestParts<S> for Child<I> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound(I::KIND.to_owned()))?;
        let raw = params
            .iter()
            .nth(1)
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| ApiError::NotFound(I::KIND.to_owned()))?;
        let id = I::parse_id(&raw)?;
        Ok(Child { id, raw })
    }
}
