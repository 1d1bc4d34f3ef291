//! `/v1/apps/{app}/event-types`: the app's catalog (its preset's types plus custom ones), and
//! the check every publish and subscription goes through.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::DateTime;
use jsonschema::Validator;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Scoped;
use super::error::{ApiError, ApiResult, Problem};
use super::json::JsonBody;
use super::AppState;
use crate::catalog::{
    builtin_types, close_matches, default_ttl_s, schemas, EventType, EventTypeDef,
};
use crate::domain::{App, AppId, EventTypeName, FieldError};
use crate::store::CustomEventType;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEventType {
    pub name: String,
    pub family: Option<String>,
    pub description: Option<String>,
    /// An optional JSON Schema documenting `data`.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<serde_json::Value>,
    /// Seconds a delivery of this type stays worth sending (1 to 31,536,000); never when
    /// omitted.
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub ttl_s: Option<i64>,
}

#[derive(serde::Serialize, ToSchema)]
pub struct Catalog {
    pub data: Vec<EventType>,
}

/// Lists every event type of the app: Sendbird's `all_webhook_categories`, DigitalSamba's
/// event list, or whatever the preset brings, plus custom types.
#[utoipa::path(get, path = "/v1/apps/{app}/event-types", tag = "event-types", params(("app" = String, Path)),
    responses((status = 200, body = Catalog)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, scoped: Scoped) -> ApiResult<Json<Catalog>> {
    let preset = scoped.app.preset;
    let mut data: Vec<EventType> = builtin_types(preset)
        .map(|def| EventType::builtin(preset, def))
        .collect();
    let custom = custom_types(&state, &scoped.app.id).await?;
    data.extend(custom.into_iter().map(EventType::custom));
    Ok(Json(Catalog { data }))
}

/// Registers a custom event type.
#[utoipa::path(post, path = "/v1/apps/{app}/event-types", tag = "event-types", params(("app" = String, Path)),
    request_body = CreateEventType,
    responses((status = 201, body = EventType), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    scoped: Scoped,
    JsonBody(req): JsonBody<CreateEventType>,
) -> ApiResult<(StatusCode, Json<EventType>)> {
    let name = EventTypeName::parse("name", &req.name)?;
    let registered = custom_types(&state, &scoped.app.id).await?;
    if name.as_str() == "*"
        || name.is_operational()
        || builtin_types(scoped.app.preset).any(|t| t.name == name.as_str())
        || registered.iter().any(|t| t.name == name)
    {
        return Err(ApiError::Conflict(format!(
            "event type '{}' is already in the catalog",
            name.as_str()
        )));
    }
    if let Some(schema) = &req.schema {
        check_schema("schema", schema)?;
    }
    let ttl_s = req.ttl_s.map(ttl("ttl_s")).transpose()?;
    let family = req.family.unwrap_or_else(|| default_family(name.as_str()));
    let def = CustomEventType {
        name,
        family,
        description: req.description.unwrap_or_default(),
        schema: req.schema,
        ttl_s,
    };
    state.store.create_event_type(&scoped.app.id, &def).await?;
    Ok((StatusCode::CREATED, Json(EventType::custom(def))))
}

/// Refuses a registered schema that is not one, so that no publish meets it first.
pub fn check_schema(field: &str, schema: &serde_json::Value) -> ApiResult<()> {
    if !schema.is_object() {
        return Err(ApiError::field(field, "must be a JSON Schema object"));
    }
    schemas::compile(schema)
        .map(|_| ())
        .map_err(|why| ApiError::field(field, format!("is not a valid JSON Schema: {why}")))
}

/// The key the environment's catalog is stored under: types every app sees beside its
/// preset's and its own (Svix's event types, which belong to no application). No app has
/// this id, as ids are minted from the clock.
pub fn environment() -> AppId {
    AppId::floor(DateTime::UNIX_EPOCH)
}

/// The custom types `app` sees: its own, then the environment's not shadowed by them.
pub async fn custom_types(state: &AppState, app: &AppId) -> ApiResult<Vec<CustomEventType>> {
    let mut types = state.store.list_event_types(app).await?;
    let shared = state.store.list_event_types(&environment()).await?;
    for t in shared {
        if !types.iter().any(|own| own.name == t.name) {
            types.push(t);
        }
    }
    Ok(types)
}

/// `room.created` -> `room`, `room:create` -> `room`, `participant_joined` -> `participant`.
pub fn default_family(name: &str) -> String {
    name.split(['.', ':', '_'])
        .next()
        .unwrap_or(name)
        .to_owned()
}

/// Checks that every name in `wanted` is in the app's catalog; `field` is the JSON path of
/// the list (or of the single type), and each unknown one is named with close matches.
/// A time to live in seconds, as the API takes it: 1 s to a year.
pub fn ttl(field: &str) -> impl Fn(i64) -> Result<u32, ApiError> + '_ {
    move |s| match (1..=31_536_000).contains(&s) {
        true => Ok(s as u32),
        false => Err(ApiError::field(
            field,
            "must be between 1 and 31536000 seconds",
        )),
    }
}

/// Refuses types outside the app's catalog, naming close matches.
pub async fn check_known(
    state: &AppState,
    app: &App,
    field: &str,
    wanted: &[(String, EventTypeName)],
) -> ApiResult<()> {
    known_types(state, app, field, wanted).await.map(|_| ())
}

/// The error for a type outside the catalog, with the closest of its `names` as hints.
fn unknown<'a>(at: &str, name: &EventTypeName, names: impl Iterator<Item = &'a str>) -> FieldError {
    let suggestions = close_matches(name.as_str(), names);
    let hint = if suggestions.is_empty() {
        "register it with POST /v1/apps/{app}/event-types".to_owned()
    } else {
        format!("did you mean {}?", suggestions.join(", "))
    };
    let message = format!(
        "unknown event type '{}' in this app's catalog; {hint}",
        name.as_str()
    );
    FieldError::new(at, message)
}

/// What a publish needs of a type in the catalog: its time to live, and its schema when the
/// app enforces schemas and the type has one.
pub struct Known {
    pub ttl_s: Option<u32>,
    pub schema: Option<Arc<Validator>>,
}

/// Refuses types outside the app's catalog, and answers what is known of each wanted type
/// (in the order of `wanted`). The store is asked only when a type is not built in.
pub async fn known_types(
    state: &AppState,
    app: &App,
    field: &str,
    wanted: &[(String, EventTypeName)],
) -> ApiResult<Vec<Known>> {
    let preset: Vec<&EventTypeDef> = builtin_types(app.preset).collect();
    let builtin = |name: &EventTypeName| preset.iter().find(|t| t.name == name.as_str()).copied();
    let custom = match wanted.iter().all(|(_, name)| builtin(name).is_some()) {
        true => Vec::new(),
        false => custom_types(state, &app.id).await?,
    };
    let enforced = |schema: Option<Arc<Validator>>| schema.filter(|_| app.enforce_schemas);
    let mut known = Vec::with_capacity(wanted.len());
    let mut errors = Vec::new();
    for (path, name) in wanted {
        if let Some(def) = builtin(name) {
            let schema = enforced(schemas::builtin_validator(app.preset, def));
            known.push(Known {
                ttl_s: default_ttl_s(def),
                schema,
            });
            continue;
        }
        if let Some(c) = custom.iter().find(|c| c.name == *name) {
            let schema = enforced(c.schema.as_ref().and_then(schemas::custom_validator));
            known.push(Known {
                ttl_s: c.ttl_s,
                schema,
            });
            continue;
        }
        let names = preset
            .iter()
            .map(|t| t.name)
            .chain(custom.iter().map(|c| c.name.as_str()));
        let at = if path.is_empty() { field } else { path };
        errors.push(unknown(at, name, names));
    }
    if errors.is_empty() {
        Ok(known)
    } else {
        Err(ApiError::Invalid(errors))
    }
}
