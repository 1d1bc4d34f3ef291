//! `GET /v1/apps/{app}/openapi.json`: the webhooks an app's customers receive, as an OpenAPI
//! 3.1 document their code generators and API tools read. Its `webhooks` has one operation
//! per event type an endpoint of the app can receive and per format its endpoints use, with
//! the body's schema (the type's `data` schema inside the format's envelope), the headers
//! and how to check the signature. It is built from the catalog and the formats' own
//! descriptions on each request, so it never lags behind a new type or endpoint.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

use super::auth::Scoped;
use super::error::{ApiResult, Problem};
use super::event_types::custom_types;
use super::AppState;
use crate::catalog::{builtin_types, EventType};
use crate::domain::endpoint::{EndpointKind, Subscription};
use crate::domain::{App, Endpoint, FormatKind};
use crate::formats::docs::{body_schema, describe};
use crate::store::at_rest::all_endpoints;

/// A format as the app's endpoints use it: the Standard Webhooks body may be `data` alone.
type InUse = (FormatKind, bool);

/// The app's webhooks as an OpenAPI 3.1 document.
#[utoipa::path(get, path = "/v1/apps/{app}/openapi.json", tag = "event-types",
    params(("app" = String, Path)),
    responses((status = 200, description = "An OpenAPI 3.1 document of the app's webhooks", body = Object),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn document(State(state): State<AppState>, scoped: Scoped) -> ApiResult<Json<Value>> {
    build(&state, &scoped.app).await.map(Json)
}

/// The document of `app`, as served and as the dashboard's catalog page shows it.
pub async fn build(state: &AppState, app: &App) -> ApiResult<Value> {
    let catalog = catalog(state, app).await?;
    let endpoints = all_endpoints(state.store.as_ref(), app).await?;
    let received = received(&endpoints, &catalog);
    let mut webhooks = Map::new();
    let mut components = Map::new();
    let mut security = Map::new();
    for ((kind, data_only), names) in &received {
        let format = describe(*kind);
        let scheme = format!("{}-signature", kind.as_str());
        security.insert(scheme.clone(), signature_scheme(*kind));
        for t in catalog.iter().filter(|t| names.contains(t.name.as_str())) {
            let component = component_name(&t.name);
            let data = json!({"$ref": format!("#/components/schemas/{component}")});
            let body = body_schema(*kind, *data_only, &t.name, data);
            let headers: Vec<Value> = format
                .headers
                .iter()
                .map(|(name, what)| {
                    json!({"name": name, "in": "header", "required": true, "description": what,
                    "schema": {"type": "string"}})
                })
                .collect();
            let shape = if *data_only { " (data only)" } else { "" };
            let key = format!("{} [{}{shape}]", t.name, kind.as_str());
            let op = json!({"post": {
                "operationId": format!("{}_{}{}", component, kind.as_str(),
                    if *data_only { "_data_only" } else { "" }),
                "summary": t.name,
                "description": format!("{}\n\nSigned as {}", t.description, format.signature),
                "tags": [t.family],
                "parameters": headers,
                "requestBody": {"required": true, "content": {format.content_type: {"schema": body}}},
                "security": [{scheme.as_str(): []}],
                "responses": {"2XX": {"description": "Received: any 2xx ends the delivery."},
                    "default": {"description": "Anything else, or no answer in time, is retried on the endpoint's schedule."}},
            }});
            webhooks.insert(key, op);
            components.insert(component, data_schema(t));
        }
    }
    Ok(json!({
        "openapi": "3.1.0",
        "info": {"title": format!("{} webhooks", app.name), "version": app.updated_at.to_rfc3339(),
            "description": format!("The webhooks that app {} sends to its endpoints, one operation per event type and format in use.", app.id)},
        "webhooks": webhooks,
        "components": {"schemas": components, "securitySchemes": security},
    }))
}

/// Every type of the app's catalog, with its schema and example.
async fn catalog(state: &AppState, app: &App) -> ApiResult<Vec<EventType>> {
    let mut all: Vec<EventType> = builtin_types(app.preset)
        .map(|def| EventType::builtin(app.preset, def))
        .collect();
    let custom = custom_types(state, &app.id).await?;
    all.extend(custom.into_iter().map(EventType::custom));
    Ok(all)
}

/// Per format in use, the names of the types some endpoint of that format receives. A
/// polling endpoint is read, not sent to, so it has no webhook.
fn received<'c>(
    endpoints: &[Endpoint],
    catalog: &'c [EventType],
) -> BTreeMap<InUse, BTreeSet<&'c str>> {
    let mut out: BTreeMap<InUse, BTreeSet<&str>> = BTreeMap::new();
    for ep in endpoints.iter().filter(|e| e.kind != EndpointKind::Polling) {
        let names = out.entry((ep.format, ep.data_only)).or_default();
        for t in catalog {
            let subscribed = match &ep.events {
                Subscription::All => !t.name.starts_with("herald."),
                Subscription::Types(set) => set.iter().any(|n| n.as_str() == t.name),
            };
            if subscribed {
                names.insert(t.name.as_str());
            }
        }
    }
    out
}

/// A type's `data` schema as a component: a custom type without one admits any object.
fn data_schema(t: &EventType) -> Value {
    let mut schema = t
        .schema
        .clone()
        .unwrap_or_else(|| json!({"type": "object"}));
    if let Some(obj) = schema.as_object_mut() {
        // The document's dialect is 2020-12 already; a component is not a schema resource.
        obj.remove("$schema");
        obj.remove("$id");
        obj.entry("description").or_insert(json!(t.description));
    }
    if let (Some(obj), Some(example)) = (schema.as_object_mut(), &t.example) {
        obj.entry("examples").or_insert(json!([example]));
    }
    schema
}

/// OpenAPI names components `^[a-zA-Z0-9._-]+$`: `room:create` becomes `room_create`.
pub fn component_name(name: &str) -> String {
    name.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                true => c,
                false => '_',
            },
        )
        .collect()
}

/// The signature header of a format as a security scheme, its check in the description.
fn signature_scheme(kind: FormatKind) -> Value {
    let format = describe(kind);
    let header = format
        .headers
        .iter()
        .find(|(name, _)| name.contains("signature") || *name == "authorization")
        .map_or("authorization", |(name, _)| name);
    json!({"type": "apiKey", "in": "header", "name": header, "description": format.signature})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_names_keep_to_openapi_characters() {
        assert_eq!(
            component_name("room:participant_enter"),
            "room_participant_enter"
        );
        assert_eq!(component_name("participant.joined"), "participant.joined");
    }

    #[test]
    fn a_schema_loses_its_dialect_and_gains_its_example() {
        let t = EventType::custom(crate::store::CustomEventType {
            name: crate::domain::EventTypeName::parse("t", "caption.line").expect("a name"),
            family: "caption".into(),
            description: "A line".into(),
            schema: Some(json!({"$schema": crate::catalog::schemas::DRAFT, "type": "object"})),
            ttl_s: None,
        });
        let shown = data_schema(&t);
        assert_eq!(shown, json!({"type": "object", "description": "A line"}));
    }
}
