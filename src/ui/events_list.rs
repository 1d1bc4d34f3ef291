//! An app's event list: the filters (type, room, session, bot, time range, delivery status),
//! kept across pages, and the list they select: the events, newest first, or the deliveries
//! in a status.

use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, time};
use crate::api::AppState;
use crate::domain::{App, DeliveryStatus, Event};
use crate::store::{DeliveryQuery, EventQuery, Page};

#[derive(Deserialize, Default)]
pub struct EventFilter {
    #[serde(rename = "type", default)]
    pub event_type: String,
    #[serde(default)]
    pub room_id: String,
    #[serde(default)]
    pub session_id: String,
    #[serde(default)]
    pub bot_id: String,
    /// A delivery status: the deliveries in it instead of the events.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub endpoints_before: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub before: String,
}

/// An RFC 3339 time from a filter field; `Err` names the field.
fn when(field: &str, raw: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    match raw.is_empty() {
        true => Ok(None),
        false => chrono::DateTime::parse_from_rfc3339(raw)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|_| format!("{field}: '{raw}' is not a date and time")),
    }
}

impl EventFilter {
    /// The query string of this filter, paging back from `before`.
    fn link(&self, before: &str) -> String {
        let pairs = [
            ("type", &self.event_type),
            ("room_id", &self.room_id),
            ("session_id", &self.session_id),
            ("bot_id", &self.bot_id),
            ("since", &self.since),
            ("until", &self.until),
        ];
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.into_iter().filter(|(_, v)| !v.is_empty()) {
            q.append_pair(k, v);
        }
        q.append_pair("before", before);
        q.finish()
    }

    fn query(&self) -> Result<EventQuery, String> {
        let labels = [
            ("room_id", &self.room_id),
            ("session_id", &self.session_id),
            ("bot_id", &self.bot_id),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
        let before = Some(self.before.clone()).filter(|b| !b.is_empty());
        let mut page = Page {
            limit: 50,
            before,
            ..Page::default()
        };
        page.since = when("since", &self.since)?;
        page.until = when("until", &self.until)?;
        Ok(EventQuery {
            event_type: Some(self.event_type.clone()).filter(|t| !t.is_empty()),
            labels,
            page,
        })
    }
}

/// The filtered list: the events, or with a delivery `status` the deliveries in that status.
pub async fn listed(state: &AppState, app: &App, filter: &EventFilter) -> Result<Markup, Response> {
    let query = match filter.query() {
        Ok(q) => q,
        Err(why) => return Ok(html! { p.error role="alert" { (why) } }),
    };
    if !filter.status.is_empty() {
        let Some(status) = DeliveryStatus::parse(&filter.status) else {
            return Ok(
                html! { p.error role="alert" { "status: '" (filter.status) "' is not a delivery status" } },
            );
        };
        let q = DeliveryQuery {
            status: Some(status),
            labels: query.labels,
            page: query.page,
            ..DeliveryQuery::default()
        };
        let (dls, names) = super::records::deliveries_of(state, app, q).await?;
        return Ok(
            html! { div data-live-part="events" { (super::records::delivery_rows(app, &dls, &names)) } },
        );
    }
    let events = state
        .store
        .list_events(&app.id, &query)
        .await
        .map_err(|e| layout::failure(&e.to_string()))?;
    Ok(html! {
        div data-live-part="events" { (event_table(app, &events)) }
        @if let Some(last) = events.last().filter(|_| events.len() == 50) {
            p.pager { a href={ "/ui/apps/" (app.id) "?" (filter.link(last.id.as_str())) } { "Older events" } }
        }
    })
}

pub fn filter_form(app: &App, f: &EventFilter) -> Markup {
    html! {
        form.card.filters method="get" action={ "/ui/apps/" (app.id) } {
            div { label for="f-type" { "Type" } input #f-type name="type" value=(f.event_type); }
            div { label for="f-room" { "Room" } input #f-room name="room_id" value=(f.room_id); }
            div { label for="f-session" { "Session" } input #f-session name="session_id" value=(f.session_id); }
            div { label for="f-bot" { "Bot" } input #f-bot name="bot_id" value=(f.bot_id); }
            div { label for="f-since" { "From" } input #f-since type="datetime-local" name="since"; }
            div { label for="f-until" { "Until" } input #f-until type="datetime-local" name="until"; }
            div { label for="f-status" { "Delivery status" } select #f-status name="status" {
                option value="" { "any (events)" }
                @for s in ["pending", "succeeded", "failed", "expired", "cancelled"] { option value=(s) selected[f.status == s] { (s) } }
            } }
            div { button type="submit" { "Filter" } }
        }
    }
}

pub fn event_table(app: &App, events: &[Event]) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr { th { "Event" } th { "Type" } th { "Room" } th { "Created" } } }
            tbody { @for e in events { tr {
                td { a href={ "/ui/apps/" (app.id) "/events/" (e.id) } { (e.id) } }
                td { (e.event_type.as_str()) }
                td { @if let Some(room) = e.labels.get("room_id") {
                    a href={ "/ui/apps/" (app.id) "/rooms/" (room) } { (room) }
                    @if let Some(n) = e.sequence { span.muted { " #" (n) } } } }
                td { (time(e.created_at)) }
            } } }
        } }
    }
}
