//! The app pages: the apps (admin), one app's endpoints and its events, live. Each page reads
//! the store the way the API does and shows only what the session may see (another app's
//! pages answer 404, as if they did not exist).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query, RawPathParams, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::events_list::{filter_form, listed, EventFilter};
use super::glance::Day;
use super::layout::{self, page, status, time};
use super::session::{Session, Signed};
use crate::api::AppState;
use crate::domain::{App, AppId, BreakerState, Endpoint};
use crate::store::Page;

/// The app the path names, if the session may see it.
async fn app_for(state: &AppState, session: &Session, raw: &str) -> Result<App, Response> {
    let id = AppId::parse(raw).map_err(|_| layout::not_found())?;
    if !session.sees(&id) {
        return Err(layout::not_found());
    }
    match state.store.get_app(&id).await {
        Ok(Some(app)) => Ok(app),
        Ok(None) => Err(layout::not_found()),
        Err(e) => Err(layout::failure(&e.to_string())),
    }
}

/// A signed-in session and the app the path's `{app}` names, which it may see (else 404).
pub struct InApp {
    pub signed: Signed,
    pub app: App,
}

impl FromRequestParts<AppState> for InApp {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let signed = Signed::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| layout::not_found())?;
        let raw = params
            .iter()
            .find(|(k, _)| *k == "app")
            .map(|(_, v)| v.to_owned());
        let app = app_for(state, &signed.session, &raw.unwrap_or_default()).await?;
        Ok(InApp { signed, app })
    }
}

fn page_of(limit: u32, before: Option<String>) -> Page {
    Page {
        limit,
        before,
        ..Page::default()
    }
}

/// `GET /ui`: the session's home.
pub async fn home(signed: Signed) -> Response {
    match &signed.session.app {
        None => Redirect::to("/ui/apps").into_response(),
        Some(app) => Redirect::to(&format!("/ui/apps/{app}")).into_response(),
    }
}

/// `GET /ui/apps`: every app (admin only).
pub async fn apps(
    State(state): State<AppState>,
    signed: Signed,
    Query(q): Query<super::records::Before>,
) -> Response {
    if !signed.session.is_admin() {
        return layout::not_found();
    }
    let before = q.before.filter(|b| !b.is_empty());
    let apps = match state.store.list_apps(&page_of(100, before)).await {
        Ok(apps) => apps,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        (super::admin::new_app_form(&signed.session))
        div.table-wrap { table {
            thead { tr { th { "App" } th { "Preset" } th { "Created" } } }
            tbody { @for app in &apps { tr {
                td { a href={ "/ui/apps/" (app.id) } { (app.name) } br; span.muted { (app.id) } }
                td { (app.preset.as_str()) }
                td { (time(app.created_at)) }
            } } }
        } }
        @if let Some(last) = apps.last().filter(|_| apps.len() == 100) {
            p.pager { a href={ "/ui/apps?before=" (last.id) } { "More apps" } }
        }
    };
    page("Apps", Some(&signed.session), None, body).into_response()
}

/// `GET /ui/apps/{app}`: the endpoints, with their health, and the events, newest first.
pub async fn app(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Query(filter): Query<EventFilter>,
) -> Response {
    let ep_page = page_of(
        100,
        Some(filter.endpoints_before.clone()).filter(|b| !b.is_empty()),
    );
    let endpoints = state.store.list_endpoints(&app.id, &ep_page).await;
    let keys = match signed.session.read_only {
        true => Ok(Vec::new()),
        false => state.store.list_keys(&app.id).await,
    };
    let (endpoints, keys) = match (endpoints, keys) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return layout::failure(&e.to_string()),
    };
    let listed = match listed(&state, &app, &filter).await {
        Ok(markup) => markup,
        Err(resp) => return resp,
    };
    let mut days = Vec::with_capacity(endpoints.len());
    for ep in &endpoints {
        match Day::read(&state, &app, &ep.id, 50).await {
            Ok(day) => days.push(day),
            Err(e) => return layout::failure(&e.to_string()),
        }
    }
    let body = html! {
        h2 { "Endpoints" }
        p { a href={ "/ui/apps/" (app.id) "/catalog" } { "Webhook catalog" } ": each type the endpoints receive, its schema and example" }
        @if !signed.session.read_only { p { a href={ "/ui/apps/" (app.id) "/endpoints/new" } { "New endpoint" } } }
        (endpoint_table(&app, &endpoints, &days))
        @if let Some(last) = endpoints.last().filter(|_| endpoints.len() == 100) {
            p.pager { a href={ "/ui/apps/" (app.id) "?endpoints_before=" (last.id) } { "More endpoints" } }
        }
        @if !signed.session.read_only { h2 { "API keys" } (super::admin::keys_form(&app, &signed.session, &keys)) }
        h2 { "Events" }
        (filter_form(&app, &filter))
        (listed)
    };
    page(&app.name, Some(&signed.session), Some(&app.id), body).into_response()
}

/// The endpoints with their health at a glance: state, the last day's success rate and
/// last attempt (`days`, one per endpoint), and since when a failing one fails.
fn endpoint_table(app: &App, endpoints: &[Endpoint], days: &[Day]) -> Markup {
    html! {
        div.table-wrap data-live-part="endpoints" { table {
            thead { tr { th { "Endpoint" } th { "Format" } th { "State" } th { "Last 24 h" }
                th { "Last attempt" } th { "Failing since" } } }
            tbody { @for (ep, day) in endpoints.iter().zip(days) { tr {
                td { a href={ "/ui/apps/" (app.id) "/endpoints/" (ep.id) } {
                    @if ep.name.is_empty() { (ep.url.as_str()) } @else { (ep.name) } }
                    br; span.muted { (ep.id) } }
                td { (ep.format.as_str()) }
                td {
                    @if !ep.enabled { (status("disabled")) " " span.muted { (ep.disabled_reason.clone().unwrap_or_default()) } }
                    @else if !ep.verification_state.passes() { (status("pending")) " unverified" }
                    @else { (status(breaker(ep.health.state))) }
                }
                td { (day.rate()) }
                td { @if let Some(t) = day.last_attempt() { (time(t)) } @else { span.muted { "—" } } }
                td { @if let Some(t) = ep.health.failing_since {
                    (time(t)) @if let Some(e) = &ep.health.last_error { br; span.muted { (e) } }
                } @else { span.muted { "—" } } }
            } } }
        } }
    }
}

pub(super) fn breaker(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half_open",
    }
}

/// The endpoints of a list by id, for naming them on record pages.
pub fn names(endpoints: &[Endpoint]) -> HashMap<String, String> {
    endpoints
        .iter()
        .map(|ep| {
            let name = if ep.name.is_empty() {
                ep.url.as_str().to_owned()
            } else {
                ep.name.clone()
            };
            (ep.id.as_str().to_owned(), name)
        })
        .collect()
}
