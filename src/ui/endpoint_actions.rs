//! What the endpoint page's buttons do: enable and disable, send a test event, reveal and
//! rotate the secret, recover what failed since a time. Each is the API's own operation
//! (`api::endpoints::apply`, `api::endpoint_test::send_test`, ...), behind the session's
//! CSRF check, so the dashboard cannot do anything the API would refuse.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{NaiveDateTime, Utc};
use maud::html;

use super::endpoint_form::field;
use super::layout::{self, page};
use super::pages::InApp;
use super::records::attempt_rows;
use crate::api::deliveries::PULLED;
use crate::api::endpoint_input::EndpointInput;
use crate::api::endpoint_secret::{rotated, RotateSecret};
use crate::api::endpoint_test::send_test;
use crate::api::endpoints::apply;
use crate::api::error::ApiError;
use crate::api::AppState;
use crate::domain::endpoint::EndpointKind;
use crate::domain::{Endpoint, EndpointId};
use crate::store::Recovery;

/// The endpoint of a form post, once the session's CSRF token and write right are checked.
async fn target(
    state: &AppState,
    in_app: &InApp,
    raw: &str,
    form: &[(String, String)],
) -> Result<Endpoint, Response> {
    if let Some(refused) = in_app
        .signed
        .refusal(&field(form, "_csrf").unwrap_or_default())
    {
        return Err(refused);
    }
    let id = EndpointId::parse(raw).map_err(|_| layout::not_found())?;
    match state.store.get_endpoint(&id).await {
        Ok(Some(ep)) if ep.app_id == in_app.app.id => Ok(ep),
        Ok(_) => Err(layout::not_found()),
        Err(e) => Err(layout::failure(&e.to_string())),
    }
}

fn back(in_app: &InApp, ep: &Endpoint) -> Response {
    Redirect::to(&format!("/ui/apps/{}/endpoints/{}", in_app.app.id, ep.id)).into_response()
}

/// Shows an API error on a page of its own, naming the field where there is one.
fn problem(in_app: &InApp, e: ApiError) -> Response {
    let body = html! { p.error role="alert" { (e.to_string()) } };
    page("Not done", Some(&in_app.signed.session), None, body).into_response()
}

type Posted = Form<Vec<(String, String)>>;

/// `POST .../endpoints/{ep}/enabled` with `enabled=true|false`.
pub async fn enabled(
    State(state): State<AppState>,
    in_app: InApp,
    Path((_, ep)): Path<(String, String)>,
    Form(form): Posted,
) -> Response {
    let ep = match target(&state, &in_app, &ep, &form).await {
        Ok(ep) => ep,
        Err(resp) => return resp,
    };
    let input = EndpointInput {
        enabled: Some(field(&form, "enabled").as_deref() == Some("true")),
        ..Default::default()
    };
    match apply(&state, &in_app.app, ep, input).await {
        Ok(ep) => back(&in_app, &ep),
        Err(e) => problem(&in_app, e),
    }
}

/// `POST .../endpoints/{ep}/test` with an optional `type`: the attempt, on a page.
pub async fn test(
    State(state): State<AppState>,
    in_app: InApp,
    Path((_, ep)): Path<(String, String)>,
    Form(form): Posted,
) -> Response {
    let ep = match target(&state, &in_app, &ep, &form).await {
        Ok(ep) => ep,
        Err(resp) => return resp,
    };
    let sent = match send_test(&state, &in_app.app, &ep, field(&form, "type")).await {
        Ok(sent) => sent,
        Err(e) => return problem(&in_app, e),
    };
    let body = html! {
        p { "Sent one example " code { (sent.event_type) } " to " (ep.url.as_str()) "." }
        pre { (serde_json::to_string_pretty(&sent.data).unwrap_or_default()) }
        h2 { "Attempt" } (attempt_rows(std::slice::from_ref(&sent.attempt)))
        p { a href={ "/ui/apps/" (in_app.app.id) "/endpoints/" (ep.id) } { "Back to the endpoint" } }
    };
    page("Test event", Some(&in_app.signed.session), None, body).into_response()
}

/// The buttons' routes, under `/ui/apps/{app}/endpoints/{ep}/`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::post;
    let at = |action: &str| format!("/ui/apps/{{app}}/endpoints/{{ep}}/{action}");
    axum::Router::new()
        .route(&at("enabled"), post(enabled))
        .route(&at("test"), post(test))
        .route(&at("recover"), post(recover))
        .route(&at("secret"), post(reveal))
        .route(&at("secret/rotate"), post(rotate))
}

/// `POST .../endpoints/{ep}/secret`: the secret, on a page that is not cached.
pub async fn reveal(
    State(state): State<AppState>,
    in_app: InApp,
    Path((_, ep)): Path<(String, String)>,
    Form(form): Posted,
) -> Response {
    secret(&state, in_app, &ep, &form, false).await
}

/// `POST .../endpoints/{ep}/secret/rotate`: a new secret (the old one signs for a day more).
pub async fn rotate(
    State(state): State<AppState>,
    in_app: InApp,
    Path((_, ep)): Path<(String, String)>,
    Form(form): Posted,
) -> Response {
    secret(&state, in_app, &ep, &form, true).await
}

async fn secret(
    state: &AppState,
    in_app: InApp,
    ep: &str,
    form: &[(String, String)],
    rotate: bool,
) -> Response {
    let ep = match target(state, &in_app, ep, form).await {
        Ok(ep) => ep,
        Err(resp) => return resp,
    };
    let (secret, public, note) = if rotate {
        match rotated(state, ep.clone(), RotateSecret::default()).await {
            Ok(v) => (
                v.secret,
                v.public_key,
                "The new secret; the old one keeps signing for 24 hours.",
            ),
            Err(e) => return problem(&in_app, e),
        }
    } else {
        (
            ep.secret.expose().to_owned(),
            ep.secret.public_key(),
            "The endpoint's current secret.",
        )
    };
    let body = html! {
        p { (note) }
        pre.secret { (secret) }
        @if let Some(p) = public { p { "Public key (what receivers verify with):" } pre { (p) } }
        p { a href={ "/ui/apps/" (in_app.app.id) "/endpoints/" (ep.id) } { "Back to the endpoint" } }
    };
    let mut resp = page("Secret", Some(&in_app.signed.session), None, body).into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// `POST .../endpoints/{ep}/recover` with `since` (a local date and time from the form, read
/// as UTC unless it carries an offset).
pub async fn recover(
    State(state): State<AppState>,
    in_app: InApp,
    Path((_, ep)): Path<(String, String)>,
    Form(form): Posted,
) -> Response {
    let ep = match target(&state, &in_app, &ep, &form).await {
        Ok(ep) => ep,
        Err(resp) => return resp,
    };
    if ep.kind == EndpointKind::Polling {
        return problem(&in_app, ApiError::Conflict(PULLED.to_owned()));
    }
    let raw = field(&form, "since").unwrap_or_default();
    let since = chrono::DateTime::parse_from_rfc3339(&raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()));
    let Ok(since) = since else {
        return problem(&in_app, ApiError::field("since", "must be a date and time"));
    };
    match state
        .store
        .recover(&Recovery::failed(ep.id.clone(), since, Utc::now()))
        .await
    {
        Ok(_) => {
            if let Some(d) = &state.dispatcher {
                d.wake();
            }
            back(&in_app, &ep)
        }
        Err(e) => layout::failure(&e.to_string()),
    }
}
