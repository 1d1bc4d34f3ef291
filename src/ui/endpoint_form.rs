//! The endpoint form, for creating an endpoint and for editing one: every setting a person
//! would change (URL, events from the catalog with "all", one room or one bot, timeout,
//! retry schedule, ordering, limits, headers, the format's options, verification, time to
//! live). What it posts becomes an [`EndpointInput`], checked by the API's own code, so a
//! wrong field comes back named, on the form.

use std::collections::BTreeMap;

use maud::{html, Markup};

use super::layout::csrf;
use super::session::Signed;
use crate::api::endpoint_input::EndpointInput;
use crate::api::AppState;
use crate::catalog::builtin_types;
use crate::domain::endpoint::Subscription;
use crate::domain::{App, Endpoint, FormatKind, LabelFilter};

/// The type names of the app's catalog a person may pick: its preset's (Herald's operational
/// ones included, for a platform's own endpoint) and the app's own.
pub async fn catalog(state: &AppState, app: &App) -> Vec<String> {
    let mut names: Vec<String> = builtin_types(app.preset)
        .map(|t| t.name.to_owned())
        .collect();
    if let Ok(custom) = crate::api::event_types::custom_types(state, &app.id).await {
        names.extend(custom.into_iter().map(|c| c.name.as_str().to_owned()));
    }
    names
}

/// A posted form's field `name`: its first value, trimmed; `None` when absent or empty.
pub fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A posted form: repeated `events` fields, hence a list of pairs.
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn get(&self, k: &str) -> Option<String> {
        field(&self.0, k)
    }

    fn number(&self, k: &str, errors: &mut Vec<String>) -> Option<i64> {
        let raw = self.get(k)?;
        raw.parse()
            .map_err(|_| errors.push(format!("{k}: '{raw}' is not a whole number")))
            .ok()
    }

    fn choice<T: serde::de::DeserializeOwned>(
        &self,
        k: &str,
        errors: &mut Vec<String>,
    ) -> Option<T> {
        let raw = self.get(k)?;
        serde_json::from_value(serde_json::json!(raw))
            .map_err(|_| errors.push(format!("{k}: '{raw}' is not one of the choices")))
            .ok()
    }

    fn schedule(&self, errors: &mut Vec<String>) -> Option<Vec<i64>> {
        let raw = self.get("retry_schedule_s")?;
        let parsed: Result<Vec<i64>, _> = raw.split(',').map(|s| s.trim().parse()).collect();
        parsed
            .map_err(|_| errors.push("retry_schedule_s: seconds separated by commas".to_owned()))
            .ok()
    }

    /// `Name: value` lines.
    fn headers(&self, errors: &mut Vec<String>) -> Option<BTreeMap<String, String>> {
        let raw = self.get("headers")?;
        let mut out = BTreeMap::new();
        for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.split_once(':') {
                Some((k, v)) => {
                    out.insert(k.trim().to_owned(), v.trim().to_owned());
                }
                None => errors.push(format!("headers: '{line}' is not 'Name: value'")),
            }
        }
        Some(out)
    }

    /// The input the form asks for; `creating` adds the fields fixed after creation.
    pub fn input(&self, creating: bool) -> Result<EndpointInput, Vec<String>> {
        let mut errors = Vec::new();
        let events: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == "events")
            .map(|(_, v)| v.clone())
            .collect();
        let all = self.get("all_events").is_some();
        let labels = [
            ("room_id", self.get("room_id")),
            ("bot_id", self.get("bot_id")),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
        let input = EndpointInput {
            url: self.get("url"),
            name: self.get("name"),
            format: self.get("format").filter(|_| creating),
            signing: self.choice("signing", &mut errors).filter(|_| creating),
            events: Some(if all { vec!["*".to_owned()] } else { events }),
            filter: Some(LabelFilter { labels }),
            ordering: self.choice("ordering", &mut errors),
            verification: self.choice("verification", &mut errors),
            timeout_ms: self.number("timeout_ms", &mut errors),
            max_in_flight: self.number("max_in_flight", &mut errors),
            rate_limit_per_s: self.number("rate_limit_per_s", &mut errors),
            ttl_s: self.number("ttl_s", &mut errors),
            retry_schedule_s: self.schedule(&mut errors),
            headers: self.headers(&mut errors),
            authorization_header: self.get("authorization_header"),
            api_key: self.get("api_key"),
            include_members: Some(self.get("include_members").is_some()),
            ..EndpointInput::default()
        };
        match errors.is_empty() {
            true => Ok(input),
            false => Err(errors),
        }
    }
}

fn text(id: &str, label: &str, value: &str, hint: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) name=(id) value=(value) placeholder=(hint);
    }
}

/// The form, empty for a new endpoint or filled with `ep`'s settings; `errors` on top.
pub fn render(
    (app, signed, types): (&App, &Signed, &[String]),
    ep: Option<&Endpoint>,
    errors: &[String],
) -> Markup {
    let action = match ep {
        Some(ep) => format!("/ui/apps/{}/endpoints/{}/edit", app.id, ep.id),
        None => format!("/ui/apps/{}/endpoints/new", app.id),
    };
    let all = ep.is_none_or(|ep| matches!(ep.events, Subscription::All));
    let picked = |t: &str| {
        ep.is_some_and(|ep| {
            ep.events
                .matches(&crate::domain::EventTypeName::from_trusted(t.to_owned()))
        })
    };
    let label = |k: &str| {
        ep.and_then(|ep| ep.filter.labels.get(k).cloned())
            .unwrap_or_default()
    };
    html! {
        @if !errors.is_empty() { ul.error role="alert" { @for e in errors { li { (e) } } } }
        form.card.wide method="post" action=(action) {
            (csrf(&signed.session))
            (text("url", "URL", ep.map(|e| e.url.as_str()).unwrap_or(""), "https://hooks.example.com/herald"))
            (text("name", "Name", ep.map(|e| e.name.as_str()).unwrap_or(""), ""))
            @if ep.is_none() {
                label for="format" { "Format" }
                select #format name="format" {
                    @for f in FormatKind::ALL { option value=(f.as_str()) selected[f == app.preset.default_format()] { (f.as_str()) } }
                }
                label for="signing" { "Signing (standard)" }
                select #signing name="signing" { option value="hmac" { "HMAC (v1)" } option value="ed25519" { "ed25519 (v1a)" } }
            }
            fieldset {
                legend { "Events" }
                label { input type="checkbox" name="all_events" value="1" checked[all]; " All events" }
                @for t in types { label { input type="checkbox" name="events" value=(t) checked[!all && picked(t)]; " " (t) } }
            }
            (text("room_id", "Only room (room_id)", &label("room_id"), ""))
            (text("bot_id", "Only bot (bot_id)", &label("bot_id"), ""))
            label for="ordering" { "Ordering" }
            select #ordering name="ordering" {
                option value="" { "unchanged / the format's default" }
                option value="none" { "none" } option value="per_room" { "per room" }
            }
            label for="verification" { "Verification" }
            select #verification name="verification" {
                option value="" { "unchanged / none" }
                option value="none" { "none" } option value="challenge" { "challenge" } option value="zoom" { "zoom" }
            }
            (settings(ep))
            button type="submit" { @if ep.is_some() { "Save endpoint" } @else { "Create endpoint" } }
        }
    }
}

/// The delivery settings and the format's options, filled with `ep`'s.
fn settings(ep: Option<&Endpoint>) -> Markup {
    let num = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    let schedule = ep.map(|ep| {
        let delays: Vec<String> = ep
            .retry_schedule_s
            .delays()
            .iter()
            .map(u32::to_string)
            .collect();
        delays.join(", ")
    });
    let headers = ep.map(|ep| {
        let lines: Vec<String> = ep
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        lines.join("\n")
    });
    html! {
        (text("timeout_ms", "Timeout (ms)", &num(ep.map(|e| e.timeout_ms)), "the format's default"))
        (text("retry_schedule_s", "Retry schedule (seconds, comma-separated)", &schedule.unwrap_or_default(), "the format's default"))
        (text("max_in_flight", "Requests in flight at most", &num(ep.map(|e| e.max_in_flight)), "50"))
        (text("rate_limit_per_s", "Requests per second at most", &num(ep.and_then(|e| e.rate_limit_per_s)), "none"))
        (text("ttl_s", "Time to live (seconds; 0 never expires)", &num(ep.and_then(|e| e.ttl_s)), "the event type's"))
        label for="headers" { "Static headers (Name: value, one per line)" }
        textarea #headers name="headers" rows="3" { (headers.unwrap_or_default()) }
        (text("authorization_header", "Bearer token (digitalsamba)", "", ""))
        (text("api_key", "API key (livekit, plugnmeet)", ep.and_then(|e| e.api_key.as_deref()).unwrap_or(""), ""))
        label { input type="checkbox" name="include_members" value="1" checked[ep.is_some_and(|e| e.include_members)]; " Include members (sendbird)" }
    }
}
