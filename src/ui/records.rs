//! The record pages a support engineer opens: an event with its delivery to each endpoint, a
//! delivery with every attempt and a Resend button, and a room's or a bot's history in order
//! with each endpoint's delivery status ("why didn't the customer get participant_left?").

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::layout::{self, csrf, page, status, time};
use super::pages::{names, InApp};
use super::session::CsrfForm;
use crate::api::deliveries::resend_now;
use crate::api::AppState;
use crate::domain::{App, Attempt, Delivery, DeliveryId, EventId};
use crate::store::{DeliveryQuery, Page};

fn all(limit: u32) -> Page {
    Page {
        limit,
        ..Page::default()
    }
}

/// The app's endpoint names by id, and its deliveries that `q` selects.
pub(super) async fn deliveries_of(
    state: &AppState,
    app: &App,
    q: DeliveryQuery,
) -> Result<(Vec<Delivery>, std::collections::HashMap<String, String>), Response> {
    let eps = state.store.list_endpoints(&app.id, &all(100)).await;
    let dls = state.store.list_deliveries(&app.id, &q).await;
    match (eps, dls) {
        (Ok(eps), Ok(dls)) => Ok((dls, names(&eps))),
        (Err(e), _) | (_, Err(e)) => Err(layout::failure(&e.to_string())),
    }
}

pub(super) fn delivery_rows(
    app: &App,
    dls: &[Delivery],
    names: &std::collections::HashMap<String, String>,
) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr { th { "Endpoint" } th { "Status" } th { "Attempts" } th { "Updated" } } }
            tbody { @for d in dls { tr {
                td { (names.get(d.endpoint_id.as_str()).cloned().unwrap_or_else(|| d.endpoint_id.to_string())) }
                td { a href={ "/ui/apps/" (app.id) "/deliveries/" (d.id) } { (status(d.status.as_str())) } }
                td { (d.attempt_count) }
                td { (time(d.updated_at)) }
            } } }
        } }
    }
}

/// `GET /ui/apps/{app}/events/{evt}`.
pub async fn event(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Path((_, evt)): Path<(String, String)>,
) -> Response {
    let Ok(id) = EventId::parse(&evt) else {
        return layout::not_found();
    };
    let event = match state.store.get_event(&app.id, &id).await {
        Ok(Some(e)) => e,
        Ok(None) => return layout::not_found(),
        Err(e) => return layout::failure(&e.to_string()),
    };
    let q = DeliveryQuery {
        event: Some(id),
        page: all(100),
        ..DeliveryQuery::default()
    };
    let (dls, names) = match deliveries_of(&state, &app, q).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let payload = serde_json::from_str::<serde_json::Value>(event.data.as_str())
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| event.data.as_str().to_owned());
    let body = html! {
        dl.facts {
            dt { "Type" } dd { (event.event_type.as_str()) }
            dt { "Created" } dd { (time(event.created_at)) }
            @if let Some(n) = event.sequence { dt { "Sequence" } dd { (n) } }
            @for (k, v) in event.labels.iter() { dt { (k) } dd { (v) } }
        }
        h2 { "Payload" } pre { (payload) }
        h2 { "Deliveries" } div data-live-part="deliveries" { (delivery_rows(&app, &dls, &names)) }
    };
    page(
        &format!("Event {}", event.id),
        Some(&signed.session),
        Some(&app.id),
        body,
    )
    .into_response()
}

pub(super) fn attempt_rows(attempts: &[Attempt]) -> Markup {
    html! {
        @for a in attempts {
            article.card {
                dl.facts {
                    dt { "Attempt" } dd { (a.number) " (" (a.trigger.as_str()) ")" }
                    dt { "Started" } dd { (time(a.started_at)) }
                    dt { "Duration" } dd { (a.duration_ms) " ms" }
                    dt { "Status code" } dd { @if let Some(c) = a.status_code { (c) } @else { "—" } }
                    dt { "Error" } dd { @if let Some(k) = a.error_kind { (k.as_str()) } @else { "none" } }
                    @if a.lapsed_lease {
                        dt { "Lease" } dd { "lapsed: sent by a node whose lease had been taken over; it changed nothing" }
                    }
                }
                h3 { "Request headers" } pre { (serde_json::to_string_pretty(&a.request_headers).unwrap_or_default()) }
                h3 { "Response body" } pre.response { (a.response_body) }
            }
        }
    }
}

/// `GET /ui/apps/{app}/deliveries/{dlv}`: every attempt, and Resend.
pub async fn delivery(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Path((_, dlv)): Path<(String, String)>,
) -> Response {
    let Ok(id) = DeliveryId::parse(&dlv) else {
        return layout::not_found();
    };
    let (d, attempts) = match state.store.get_delivery(&app.id, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return layout::not_found(),
        Err(e) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        div data-live-part="delivery" {
            dl.facts {
                dt { "Status" } dd.delivery-status { (status(d.status.as_str())) }
                dt { "Event" } dd { a href={ "/ui/apps/" (app.id) "/events/" (d.event_id) } { (d.event_id) } }
                dt { "Endpoint" } dd { (d.endpoint_id) }
                dt { "Attempts" } dd.attempt-count { (d.attempt_count) }
                @if let Some(t) = d.next_attempt_at { dt { "Next attempt" } dd { (time(t)) } }
            }
            @if !signed.session.read_only {
                form method="post" action={ "/ui/apps/" (app.id) "/deliveries/" (d.id) "/resend" } {
                    (csrf(&signed.session)) button type="submit" { "Resend" }
                }
            }
            h2 { "Attempts" } (attempt_rows(&attempts))
        }
    };
    page(
        &format!("Delivery {}", d.id),
        Some(&signed.session),
        Some(&app.id),
        body,
    )
    .into_response()
}

/// `POST /ui/apps/{app}/deliveries/{dlv}/resend`.
pub async fn resend(
    State(state): State<AppState>,
    InApp { signed, app }: InApp,
    Path((_, dlv)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(resp) = signed.refusal(&form._csrf) {
        return resp;
    }
    let Ok(id) = DeliveryId::parse(&dlv) else {
        return layout::not_found();
    };
    match resend_now(&state, &app.id, &id).await {
        Ok(Some(())) => {
            Redirect::to(&format!("/ui/apps/{}/deliveries/{id}", app.id)).into_response()
        }
        Ok(None) => layout::not_found(),
        Err(e) => layout::refused(&e.to_string()),
    }
}

/// `GET /ui/apps/{app}/rooms/{room}` and `.../bots/{bot}`: what happened there, in order,
/// with each endpoint's delivery status.
/// 100 events a page, newest first; `before` pages back.
async fn subject(
    state: &AppState,
    InApp { signed, app }: InApp,
    (label, value): (&str, &str),
    before: Option<String>,
) -> Response {
    let labels = vec![(label.to_owned(), value.to_owned())];
    let page_q = Page {
        limit: 100,
        before: before.filter(|b| !b.is_empty()),
        ..Page::default()
    };
    let q = crate::store::EventQuery {
        labels: labels.clone(),
        page: page_q,
        ..Default::default()
    };
    let events = match state.store.list_events(&app.id, &q).await {
        Ok(events) => events,
        Err(e) => return layout::failure(&e.to_string()),
    };
    // The deliveries of this page's events: those created in the page's span.
    let span = Page {
        limit: 1000,
        since: events.last().map(|e| e.created_at),
        until: events
            .first()
            .map(|e| e.created_at + chrono::Duration::milliseconds(1)),
        ..Page::default()
    };
    let q = DeliveryQuery {
        labels,
        page: span,
        ..DeliveryQuery::default()
    };
    let (dls, names) = match deliveries_of(state, &app, q).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let mut by_event: BTreeMap<String, Vec<&Delivery>> = BTreeMap::new();
    for d in &dls {
        by_event.entry(d.event_id.to_string()).or_default().push(d);
    }
    let body = html! {
        div.table-wrap data-live-part="history" { table {
            thead { tr { th { "#" } th { "Event" } th { "Created" } th { "Deliveries" } } }
            tbody { @for e in events.iter().rev() { tr {
                td { @if let Some(n) = e.sequence { (n) } }
                td { a href={ "/ui/apps/" (app.id) "/events/" (e.id) } { (e.event_type.as_str()) } }
                td { (time(e.created_at)) }
                td { @for d in by_event.get(e.id.as_str()).into_iter().flatten() {
                    div { a href={ "/ui/apps/" (app.id) "/deliveries/" (d.id) } { (status(d.status.as_str())) }
                        " " (names.get(d.endpoint_id.as_str()).cloned().unwrap_or_default()) }
                } }
            } } }
        } }
        @if let Some(oldest) = events.last().filter(|_| events.len() == 100) {
            p.pager { a href={ "?before=" (oldest.id) } { "Earlier events" } }
        }
    };
    let kind = if label == "bot_id" { "Bot" } else { "Room" };
    page(
        &format!("{kind} {value}"),
        Some(&signed.session),
        Some(&app.id),
        body,
    )
    .into_response()
}

#[derive(serde::Deserialize)]
pub struct Before {
    pub before: Option<String>,
}

pub async fn room(
    State(state): State<AppState>,
    in_app: InApp,
    Path((_, room)): Path<(String, String)>,
    Query(q): Query<Before>,
) -> Response {
    subject(&state, in_app, ("room_id", &room), q.before).await
}

pub async fn bot(
    State(state): State<AppState>,
    in_app: InApp,
    Path((_, bot)): Path<(String, String)>,
    Query(q): Query<Before>,
) -> Response {
    subject(&state, in_app, ("bot_id", &bot), q.before).await
}
