//! The endpoint pages: one endpoint with its recent deliveries, and the form that creates
//! one, built by the same code as the API's (`api::endpoint_build`), so a form and a request
//! are checked alike and a wrong field is named on the form.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::endpoint_form::{self, Posted};
use super::glance::Day;
use super::layout::{self, csrf, page, status, time};
use super::pages::InApp;
use super::records::Before;
use super::session::Signed;
use crate::api::endpoint_build::new_endpoint;
use crate::api::endpoints::apply;
use crate::api::error::ApiError;
use crate::api::AppState;
use crate::domain::{App, Endpoint, EndpointId};
use crate::store::{DeliveryQuery, Page};

/// `GET /ui/apps/{app}/endpoints/{ep}`.
pub async fn endpoint(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Path((_, ep)): Path<(String, String)>,
    Query(before): Query<Before>,
) -> Response {
    let ep = match endpoint_of(&state, &app, &ep).await {
        Ok(ep) => ep,
        Err(resp) => return resp,
    };
    let types = endpoint_form::catalog(&state, &app).await;
    let page_q = Page {
        limit: 50,
        before: before.before.filter(|b| !b.is_empty()),
        ..Page::default()
    };
    let q = DeliveryQuery {
        endpoint: Some(ep.id.clone()),
        page: page_q,
        ..DeliveryQuery::default()
    };
    let (dls, day) = match (
        state.store.list_deliveries(&app.id, &q).await,
        Day::read(&state, &app, &ep.id, 250).await,
    ) {
        (Ok(d), Ok(r)) => (d, r),
        (Err(e), _) | (_, Err(e)) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        (health(&ep, &day))
        dl.facts {
            dt { "URL" } dd { (ep.url.as_str()) }
            dt { "Format" } dd { (ep.format.as_str()) }
            dt { "Enabled" } dd { (ep.enabled) @if let Some(r) = &ep.disabled_reason { " — " (r) } }
            dt { "Verification" } dd { (status(if ep.verification_state.passes() { "verified" } else { "pending" }))
                @if let Some(r) = &ep.verification_state.reason { " " (r) } }
            dt { "Ordering" } dd { (format!("{:?}", ep.ordering)) }
            dt { "Created" } dd { (time(ep.created_at)) }
        }
        @if !signed.session.read_only {
            p { a href={ "/ui/apps/" (app.id) "/endpoints/" (ep.id) "/edit" } { "Edit endpoint" } }
            (actions(&app, &ep, &signed, &types))
        }
        h2 { "Recent deliveries" }
        div.table-wrap data-live-part="endpoint-deliveries" { table {
            thead { tr { th { "Delivery" } th { "Status" } th { "Attempts" } th { "Created" } } }
            tbody { @for d in &dls { tr {
                td { a href={ "/ui/apps/" (app.id) "/deliveries/" (d.id) } { (d.id) } }
                td { (status(d.status.as_str())) } td { (d.attempt_count) } td { (time(d.created_at)) }
            } } }
        } }
        @if let Some(oldest) = dls.last().filter(|_| dls.len() == 50) {
            p.pager { a href={ "?before=" (oldest.id) } { "Older deliveries" } }
        }
    };
    let title = if ep.name.is_empty() {
        ep.url.as_str().to_owned()
    } else {
        ep.name.clone()
    };
    page(&title, Some(&signed.session), Some(&app.id), body).into_response()
}

/// Health at a glance: the last day's success rate, the last attempt, the breaker.
fn health(ep: &Endpoint, day: &Day) -> Markup {
    html! {
        dl.facts.health {
            dt { "Last 24 h" } dd { (day.rate()) }
            dt { "Last attempt" } dd { @if let Some(t) = day.last_attempt() { (time(t)) } @else { "none in the last 24 h" } }
            dt { "Breaker" } dd { (status(super::pages::breaker(ep.health.state)))
                @if let Some(t) = ep.health.failing_since { " failing since " (time(t)) }
                @if let Some(e) = &ep.health.last_error { br; span.muted { (e) } } }
        }
    }
}

/// The endpoint's buttons, each a form with the session's CSRF token.
fn actions(app: &App, ep: &Endpoint, signed: &Signed, types: &[String]) -> Markup {
    let at = |action: &str| format!("/ui/apps/{}/endpoints/{}/{action}", app.id, ep.id);
    let types: Vec<&String> = types.iter().filter(|n| !n.starts_with("herald.")).collect();
    html! {
        h2 { "Actions" }
        div.actions {
            form.card method="post" action=(at("test")) {
                (csrf(&signed.session))
                label for="test-type" { "Send a test event" }
                select #test-type name="type" { option value="" { "the endpoint's first type" }
                    @for t in &types { option value=(t) { (t) } } }
                button type="submit" { "Send test event" }
            }
            form.card method="post" action=(at("enabled")) {
                (csrf(&signed.session))
                input type="hidden" name="enabled" value=(if ep.enabled { "false" } else { "true" });
                p { @if ep.enabled { "Deliveries flow." } @else { "Disabled: deliveries wait." } }
                button type="submit" { @if ep.enabled { "Disable" } @else { "Enable" } }
            }
            form.card method="post" action=(at("recover")) {
                (csrf(&signed.session))
                label for="recover-since" { "Recover failed deliveries since" }
                input #recover-since type="datetime-local" name="since" required;
                button type="submit" { "Recover" }
            }
            form.card method="post" action=(at("secret")) {
                (csrf(&signed.session)) p { "The signing secret" }
                button type="submit" { "Reveal secret" }
            }
            form.card method="post" action=(at("secret/rotate")) {
                (csrf(&signed.session)) p { "A new secret; the old one signs for 24 hours more." }
                button type="submit" { "Rotate secret" }
            }
        }
    }
}

/// `GET /ui/apps/{app}/endpoints/new`.
pub async fn new_page(State(state): State<AppState>, InApp { signed, app }: InApp) -> Response {
    let types = endpoint_form::catalog(&state, &app).await;
    let form = endpoint_form::render((&app, &signed, &types), None, &[]);
    page("New endpoint", Some(&signed.session), None, form).into_response()
}

/// `POST /ui/apps/{app}/endpoints/new`.
pub async fn create(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(pairs);
    if let Some(resp) = signed.refusal(&posted.get("_csrf").unwrap_or_default()) {
        return resp;
    }
    let types = endpoint_form::catalog(&state, &app).await;
    let again = |errors: &[String]| {
        let form = endpoint_form::render((&app, &signed, &types), None, errors);
        page("New endpoint", Some(&signed.session), None, form).into_response()
    };
    let input = match posted.input(true) {
        Ok(input) => input,
        Err(errors) => return again(&errors),
    };
    let ep = match new_endpoint(&state, &app, input).await {
        Ok(ep) => ep,
        Err(e) => return again(&messages(e)),
    };
    if let Err(e) = state.store.create_endpoint(&ep).await {
        return layout::failure(&e.to_string());
    }
    if let Some(d) = &state.dispatcher {
        d.verify_soon(ep.clone());
    }
    Redirect::to(&format!("/ui/apps/{}/endpoints/{}", app.id, ep.id)).into_response()
}

/// An API error as the lines a form shows, one per field.
fn messages(e: ApiError) -> Vec<String> {
    match e {
        ApiError::Invalid(errors) => errors.iter().map(|e| e.to_string()).collect(),
        other => vec![other.to_string()],
    }
}

async fn endpoint_of(state: &AppState, app: &App, raw: &str) -> Result<Endpoint, Response> {
    let id = EndpointId::parse(raw).map_err(|_| layout::not_found())?;
    match state.store.get_endpoint(&id).await {
        Ok(Some(ep)) if ep.app_id == app.id => Ok(ep),
        Ok(_) => Err(layout::not_found()),
        Err(e) => Err(layout::failure(&e.to_string())),
    }
}

/// `GET /ui/apps/{app}/endpoints/{ep}/edit`.
pub async fn edit_page(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Path((_, ep)): Path<(String, String)>,
) -> Response {
    let ep = match endpoint_of(&state, &app, &ep).await {
        Ok(ep) => ep,
        Err(resp) => return resp,
    };
    let types = endpoint_form::catalog(&state, &app).await;
    let form = endpoint_form::render((&app, &signed, &types), Some(&ep), &[]);
    page("Edit endpoint", Some(&signed.session), None, form).into_response()
}

/// `POST /ui/apps/{app}/endpoints/{ep}/edit`: what a PATCH with the form's fields does.
pub async fn edit(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Path((_, ep)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(pairs);
    if let Some(resp) = signed.refusal(&posted.get("_csrf").unwrap_or_default()) {
        return resp;
    }
    let ep = match endpoint_of(&state, &app, &ep).await {
        Ok(ep) => ep,
        Err(resp) => return resp,
    };
    let types = endpoint_form::catalog(&state, &app).await;
    let again = |ep: &Endpoint, errors: &[String]| {
        let form = endpoint_form::render((&app, &signed, &types), Some(ep), errors);
        page("Edit endpoint", Some(&signed.session), None, form).into_response()
    };
    let input = match posted.input(false) {
        Ok(input) => input,
        Err(errors) => return again(&ep, &errors),
    };
    match apply(&state, &app, ep.clone(), input).await {
        Ok(ep) => Redirect::to(&format!("/ui/apps/{}/endpoints/{}", app.id, ep.id)).into_response(),
        Err(e) => again(&ep, &messages(e)),
    }
}
