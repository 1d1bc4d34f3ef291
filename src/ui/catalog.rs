//! `/ui/apps/{app}/catalog`: the webhooks an app's endpoints receive, read from the app's
//! OpenAPI document (`GET /v1/apps/{app}/openapi.json`) so the page and the document never
//! disagree: each type with the formats it goes out in, its description, the headers and
//! signature check, its schema and its example. The admin, the app's key and the consumer
//! portal see it alike.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::Value;

use super::layout::{self, page};
use super::pages::InApp;
use crate::api::webhook_docs;
use crate::api::AppState;

/// `GET /ui/apps/{app}/catalog`.
pub async fn catalog(State(state): State<AppState>, InApp { signed, app }: InApp) -> Response {
    let doc = match webhook_docs::build(&state, &app).await {
        Ok(doc) => doc,
        Err(e) => return layout::failure(&e.to_string()),
    };
    let body = html! {
        p { "What this app's endpoints receive, one entry per event type and format, as the app's OpenAPI document "
            code { "GET /v1/apps/" (app.id) "/openapi.json" } " describes it." }
        @if doc["webhooks"].as_object().is_none_or(|w| w.is_empty()) {
            p.muted { "No endpoint receives anything yet." }
        }
        @for (key, op) in doc["webhooks"].as_object().into_iter().flatten() {
            (entry(key, &op["post"], &doc))
        }
    };
    page("Catalog", Some(&signed.session), None, body).into_response()
}

fn entry(key: &str, op: &Value, doc: &Value) -> Markup {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let component = op["summary"]
        .as_str()
        .map(webhook_docs::component_name)
        .unwrap_or_default();
    let schema = &doc["components"]["schemas"][component.as_str()];
    let example = &schema["examples"][0];
    html! {
        section.type-entry id=(key) {
            h2 { code { (key) } }
            p { (text(&op["description"])) }
            dl.facts {
                @for h in op["parameters"].as_array().into_iter().flatten() {
                    dt { code { (text(&h["name"])) } } dd { (text(&h["description"])) }
                }
            }
            h3 { "Schema of data" } pre.schema { (pretty(schema)) }
            @if !example.is_null() { h3 { "Example data" } pre.example { (pretty(example)) } }
        }
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
