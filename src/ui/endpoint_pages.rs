//! The endpoint pages: one endpoint with its recent deliveries, and the form that creates
//! one, built by the same code as the API's (`api::endpoint_build`), so a form and a request
//! are checked alike and a wrong field is named on the form.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::layout::{self, csrf, page, status, time};
use super::pages::InApp;
use super::session::Signed;
use crate::api::endpoint_build::new_endpoint;
use crate::api::endpoint_input::EndpointInput;
use crate::api::error::ApiError;
use crate::api::AppState;
use crate::catalog::builtin_types;
use crate::domain::{App, Endpoint, EndpointId, FormatKind, LabelFilter};
use crate::store::{DeliveryQuery, Page};

/// `GET /ui/apps/{app}/endpoints/{ep}`.
pub async fn endpoint(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Path((_, ep)): Path<(String, String)>,
) -> Response {
    let Ok(id) = EndpointId::parse(&ep) else {
        return layout::not_found();
    };
    let ep = match state.store.get_endpoint(&id).await {
        Ok(Some(ep)) if ep.app_id == app.id => ep,
        Ok(_) => return layout::not_found(),
        Err(e) => return layout::failure(&e.to_string()),
    };
    let q = DeliveryQuery {
        endpoint: Some(id),
        page: Page {
            limit: 50,
            ..Page::default()
        },
        ..DeliveryQuery::default()
    };
    let dls = match state.store.list_deliveries(&app.id, &q).await {
        Ok(d) => d,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        dl.facts {
            dt { "URL" } dd { (ep.url.as_str()) }
            dt { "Format" } dd { (ep.format.as_str()) }
            dt { "Enabled" } dd { (ep.enabled) @if let Some(r) = &ep.disabled_reason { " — " (r) } }
            dt { "Verification" } dd { (status(if ep.verification_state.passes() { "verified" } else { "pending" }))
                @if let Some(r) = &ep.verification_state.reason { " " (r) } }
            dt { "Ordering" } dd { (format!("{:?}", ep.ordering)) }
            dt { "Created" } dd { (time(ep.created_at)) }
        }
        @if !signed.session.read_only { (actions(&app, &ep, &signed)) }
        h2 { "Recent deliveries" }
        div.table-wrap data-live-part="endpoint-deliveries" { table {
            thead { tr { th { "Delivery" } th { "Status" } th { "Attempts" } th { "Created" } } }
            tbody { @for d in &dls { tr {
                td { a href={ "/ui/apps/" (app.id) "/deliveries/" (d.id) } { (d.id) } }
                td { (status(d.status.as_str())) } td { (d.attempt_count) } td { (time(d.created_at)) }
            } } }
        } }
    };
    let title = if ep.name.is_empty() {
        ep.url.as_str().to_owned()
    } else {
        ep.name.clone()
    };
    page(&title, Some(&signed.session), Some(&app.id), body).into_response()
}

/// The endpoint's buttons, each a form with the session's CSRF token.
fn actions(app: &App, ep: &Endpoint, signed: &Signed) -> Markup {
    let at = |action: &str| format!("/ui/apps/{}/endpoints/{}/{action}", app.id, ep.id);
    let types: Vec<&str> = builtin_types(app.preset)
        .map(|t| t.name)
        .filter(|n| !n.starts_with("herald."))
        .collect();
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

fn form(app: &App, signed: &Signed, errors: &[String]) -> Markup {
    let types: Vec<&str> = builtin_types(app.preset)
        .map(|t| t.name)
        .filter(|n| !n.starts_with("herald."))
        .collect();
    html! {
        @if !errors.is_empty() { ul.error role="alert" { @for e in errors { li { (e) } } } }
        form.card method="post" action={ "/ui/apps/" (app.id) "/endpoints/new" } {
            (csrf(&signed.session))
            label for="ep-url" { "URL" } input #ep-url name="url" type="url" required placeholder="https://hooks.example.com/herald";
            label for="ep-name" { "Name" } input #ep-name name="name";
            label for="ep-format" { "Format" }
            select #ep-format name="format" {
                @for f in FormatKind::ALL { option value=(f.as_str()) selected[f == app.preset.default_format()] { (f.as_str()) } }
            }
            fieldset {
                legend { "Events" }
                label { input type="checkbox" name="all_events" value="1" checked; " All events" }
                @for t in &types { label { input type="checkbox" name="events" value=(t); " " (t) } }
            }
            label for="ep-room" { "Only room (room_id)" } input #ep-room name="room_id";
            label for="ep-bot" { "Only bot (bot_id)" } input #ep-bot name="bot_id";
            label for="ep-ordering" { "Ordering" }
            select #ep-ordering name="ordering" { option value="" { "format default" } option value="none" { "none" } option value="per_room" { "per room" } }
            button type="submit" { "Create endpoint" }
        }
    }
}

/// `GET /ui/apps/{app}/endpoints/new`.
pub async fn new_page(InApp { signed, app }: InApp) -> Response {
    page(
        "New endpoint",
        Some(&signed.session),
        None,
        form(&app, &signed, &[]),
    )
    .into_response()
}

/// The form as posted: repeated `events` fields, hence a list of pairs.
pub struct Posted(Vec<(String, String)>);

impl Posted {
    fn get(&self, k: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn input(&self) -> EndpointInput {
        let events: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == "events")
            .map(|(_, v)| v.clone())
            .collect();
        let all = self.get("all_events").is_some() || events.is_empty();
        let labels = [
            ("room_id", self.get("room_id")),
            ("bot_id", self.get("bot_id")),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
        EndpointInput {
            url: self.get("url"),
            name: self.get("name"),
            format: self.get("format"),
            events: Some(if all { vec!["*".to_owned()] } else { events }),
            filter: Some(LabelFilter { labels }),
            ordering: self
                .get("ordering")
                .and_then(|o| serde_json::from_value(serde_json::json!(o)).ok()),
            ..EndpointInput::default()
        }
    }
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
    let built = new_endpoint(&state, &app, posted.input()).await;
    let ep = match built {
        Ok(ep) => ep,
        Err(ApiError::Invalid(errors)) => {
            let msgs: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            return page(
                "New endpoint",
                Some(&signed.session),
                None,
                form(&app, &signed, &msgs),
            )
            .into_response();
        }
        Err(e) => {
            return page(
                "New endpoint",
                Some(&signed.session),
                None,
                form(&app, &signed, &[e.to_string()]),
            )
            .into_response()
        }
    };
    if let Err(e) = state.store.create_endpoint(&ep).await {
        return layout::failure(&e.to_string());
    }
    if let Some(d) = &state.dispatcher {
        d.verify_soon(ep.clone());
    }
    Redirect::to(&format!("/ui/apps/{}/endpoints/{}", app.id, ep.id)).into_response()
}
