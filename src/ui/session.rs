//! Dashboard sessions: signing in with the admin token or an app key gives a session cookie
//! (HttpOnly, SameSite=Strict, Secure behind TLS) naming a session the server keeps, so that
//! it expires and signs out on the server: a cookie copied after sign-out opens nothing.
//! Every form carries the session's CSRF token, and a post without it is refused.
//!
//! Sessions live in the store's shared key-value space (`ui_session:<sha-256 of the token>`),
//! so every node of a cluster knows them.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::layout;
use crate::api::auth::{hash_hex, new_token, resolve, Caller};
use crate::api::AppState;
use crate::config::Settings;
use crate::domain::{AppId, KeyId};

pub const COOKIE: &str = "herald_session";
/// How long a session lasts from sign-in.
pub const LIFETIME: Duration = Duration::hours(12);

/// What a signed-in browser may see and do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Session {
    /// `None` for the admin, who sees every app.
    pub app: Option<AppId>,
    /// A portal link's session shows everything and changes nothing.
    pub read_only: bool,
    /// The app key it signed in with: revoking the key ends the session.
    #[serde(default)]
    pub key: Option<KeyId>,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub revoked: bool,
}

impl Session {
    /// Whether this session may see `app`.
    pub fn sees(&self, app: &AppId) -> bool {
        self.app.as_ref().is_none_or(|own| own == app)
    }

    pub fn is_admin(&self) -> bool {
        self.app.is_none()
    }
}

fn key_of(token: &str) -> String {
    format!("ui_session:{}", hash_hex(token))
}

/// Starts a session (ending after [`LIFETIME`], or at `ends` if sooner) and answers the
/// cookie that names it.
pub async fn start(
    state: &AppState,
    (app, key): (Option<AppId>, Option<KeyId>),
    read_only: bool,
    ends: Option<DateTime<Utc>>,
    secure: bool,
) -> Result<HeaderValue, crate::api::error::ApiError> {
    let token = new_token("hs_");
    let expires_at = (Utc::now() + LIFETIME).min(ends.unwrap_or(DateTime::<Utc>::MAX_UTC));
    let session = Session {
        app,
        key,
        read_only,
        csrf: new_token(""),
        expires_at,
        revoked: false,
    };
    let value = serde_json::to_string(&session).map_err(|e| {
        crate::api::error::ApiError::Internal(format!("cannot write a session: {e}"))
    })?;
    state.store.meta_put(&key_of(&token), &value).await?;
    let secure = if secure { "; Secure" } else { "" };
    let max_age = (expires_at - Utc::now()).num_seconds().max(0);
    let cookie =
        format!("{COOKIE}={token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie)
        .map_err(|e| crate::api::error::ApiError::Internal(format!("bad cookie: {e}")))
}

/// Whether the browser reached Herald over TLS: always when `public_url` is https, else
/// when a proxy says so.
pub fn over_tls(settings: &Settings, headers: &HeaderMap) -> bool {
    settings.public_tls() == Some(true)
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn token_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// A signed-in session, with the token that names it; a request without one is sent to
/// the sign-in page.
pub struct Signed {
    pub session: Session,
    token: String,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_sign_in = || Redirect::to("/ui/sign-in").into_response();
        let token = token_of(&parts.headers).ok_or_else(to_sign_in)?;
        let stored = state
            .store
            .meta_get(&key_of(&token))
            .await
            .map_err(|e| layout::failure(&e.to_string()))?;
        let session: Session = stored
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .ok_or_else(to_sign_in)?;
        if session.revoked || session.expires_at <= Utc::now() || !key_alive(state, &session).await
        {
            return Err(to_sign_in());
        }
        Ok(Signed { session, token })
    }
}

/// Whether the app key a session signed in with still exists.
async fn key_alive(state: &AppState, session: &Session) -> bool {
    let (Some(app), Some(key)) = (&session.app, &session.key) else {
        return true;
    };
    match state.store.list_keys(app).await {
        Ok(keys) => keys.iter().any(|k| k.id == *key),
        Err(_) => false,
    }
}

impl Signed {
    /// The refusal of a form without this session's CSRF token, or of any form of a
    /// read-only session; `None` when the form may proceed.
    pub fn refusal(&self, csrf: &str) -> Option<Response> {
        if self.session.read_only {
            return Some(layout::refused(
                "this link is read-only: it changes nothing",
            ));
        }
        let ok = !csrf.is_empty()
            && subtle::ConstantTimeEq::ct_eq(csrf.as_bytes(), self.session.csrf.as_bytes()).into();
        match ok {
            true => None,
            false => Some(layout::refused(
                "the form's CSRF token is missing or wrong; reload the page",
            )),
        }
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub token: String,
}

/// `GET /ui/sign-in`.
pub async fn sign_in_page() -> Response {
    layout::sign_in(None).into_response()
}

/// `POST /ui/sign-in`: the admin token or an app key.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let (caller, key) = match resolve(&state, form.token.trim()).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return layout::sign_in(Some(
                "That token is neither the admin token nor an app key.",
            ))
            .into_response()
        }
        Err(e) => return layout::failure(&e.to_string()),
    };
    let (app, home) = match caller {
        Caller::Admin => (None, "/ui/apps".to_owned()),
        Caller::App(id) => (Some(id.clone()), format!("/ui/apps/{id}")),
    };
    match start(
        &state,
        (app, key),
        false,
        None,
        over_tls(&state.settings, &headers),
    )
    .await
    {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to(&home)).into_response(),
        Err(e) => layout::failure(&e.to_string()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub _csrf: String,
}

/// `POST /ui/sign-out`: ends the session on the server, so its cookie opens nothing more.
pub async fn sign_out(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<CsrfForm>,
) -> Response {
    let csrf_ok =
        subtle::ConstantTimeEq::ct_eq(form._csrf.as_bytes(), signed.session.csrf.as_bytes());
    if !bool::from(csrf_ok) {
        return layout::refused("the form's CSRF token is missing or wrong; reload the page");
    }
    let ended = Session {
        revoked: true,
        ..signed.session.clone()
    };
    let value = serde_json::to_string(&ended).unwrap_or_default();
    if let Err(e) = state.store.meta_put(&key_of(&signed.token), &value).await {
        return layout::failure(&e.to_string());
    }
    let clear = format!("{COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut resp = Redirect::to("/ui/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}
