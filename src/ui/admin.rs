//! The admin's forms: a new app with its preset, and an app's keys (created and shown once,
//! revoked by id). Each is the API's own operation behind the session's CSRF check.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::endpoint_form::field;
use super::layout::{self, csrf, page, time};
use super::pages::InApp;
use super::session::{Session, Signed};
use crate::api::apps::{new_app, CreateApp};
use crate::api::keys::new_key;
use crate::api::AppState;
use crate::domain::{App, KeyId, Preset};
use crate::store::ApiKey;

type Posted = Form<Vec<(String, String)>>;

/// The new-app form on the apps page.
pub fn new_app_form(session: &Session) -> Markup {
    html! {
        form.card.filters method="post" action="/ui/apps" {
            (csrf(session))
            div { label for="app-name" { "New app" } input #app-name name="name" required placeholder="Name"; }
            div { label for="app-preset" { "Preset" }
                select #app-preset name="preset" { @for p in Preset::ALL { option value=(p.as_str()) selected[p == Preset::Standard] { (p.as_str()) } } } }
            div { button type="submit" { "Create app" } }
        }
    }
}

/// `POST /ui/apps` (admin).
pub async fn create_app(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Posted,
) -> Response {
    if !signed.session.is_admin() {
        return layout::not_found();
    }
    if let Some(refused) = signed.refusal(&field(&form, "_csrf").unwrap_or_default()) {
        return refused;
    }
    let req = CreateApp {
        name: field(&form, "name").unwrap_or_default(),
        preset: field(&form, "preset"),
        metadata: None,
        ingest: None,
        enforce_schemas: None,
    };
    match new_app(&state, req).await {
        Ok(app) => Redirect::to(&format!("/ui/apps/{}", app.id)).into_response(),
        Err(e) => page(
            "Not done",
            Some(&signed.session),
            None,
            html! { p.error role="alert" { (e.to_string()) } },
        )
        .into_response(),
    }
}

/// The keys section of an app's page: its keys, each with a revoke button, and the forms.
pub fn keys_form(app: &App, session: &Session, keys: &[ApiKey]) -> Markup {
    html! {
        @if !keys.is_empty() { div.table-wrap { table {
            thead { tr { th { "Key" } th { "Name" } th { "Created" } th {} } }
            tbody { @for k in keys { tr {
                td { (k.id) } td { (k.name) } td { (time(k.created_at)) }
                td { form.inline method="post" action={ "/ui/apps/" (app.id) "/keys/revoke" } {
                    (csrf(session)) input type="hidden" name="id" value=(k.id);
                    button.link type="submit" { "Revoke" } } }
            } } }
        } } }
        div.actions {
            form.card method="post" action={ "/ui/apps/" (app.id) "/keys" } {
                (csrf(session))
                label for="key-name" { "New API key" } input #key-name name="name" placeholder="Name";
                button type="submit" { "Create key" }
            }
            form.card method="post" action={ "/ui/apps/" (app.id) "/keys/revoke" } {
                (csrf(session))
                label for="key-id" { "Revoke a key by id" } input #key-id name="id" required placeholder="key_...";
                button type="submit" { "Revoke key" }
            }
        }
    }
}

/// `POST /ui/apps/{app}/keys`: the key, shown once.
pub async fn create_key(
    State(state): State<AppState>,
    in_app: InApp,
    Form(form): Posted,
) -> Response {
    if let Some(refused) = in_app
        .signed
        .refusal(&field(&form, "_csrf").unwrap_or_default())
    {
        return refused;
    }
    let session = &in_app.signed.session;
    let body = match new_key(&state, &in_app.app.id, field(&form, "name")).await {
        Ok(key) => html! {
            p { "The key " code { (key.id) } " (" (key.name) "). Its token is shown this once:" }
            pre.secret { (key.token) }
            p { a href={ "/ui/apps/" (in_app.app.id) } { "Back to the app" } }
        },
        Err(e) => html! { p.error role="alert" { (e.to_string()) } },
    };
    let mut resp = page("API key", Some(session), None, body).into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// `POST /ui/apps/{app}/keys/revoke` with the key's `id`.
pub async fn revoke_key(
    State(state): State<AppState>,
    in_app: InApp,
    Form(form): Posted,
) -> Response {
    if let Some(refused) = in_app
        .signed
        .refusal(&field(&form, "_csrf").unwrap_or_default())
    {
        return refused;
    }
    let Ok(id) = KeyId::parse(&field(&form, "id").unwrap_or_default()) else {
        return layout::not_found();
    };
    match state.store.delete_key(&in_app.app.id, &id).await {
        Ok(true) => {
            state.keys.remove_where(|(_, key)| *key == id);
            Redirect::to(&format!("/ui/apps/{}", in_app.app.id)).into_response()
        }
        Ok(false) => layout::not_found(),
        Err(e) => layout::failure(&e.to_string()),
    }
}
