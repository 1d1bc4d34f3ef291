//! `/api/v1/event-type`: Svix's event types, which belong to no application.
//!
//! With the admin token they are the environment's catalog, which every app sees beside its
//! preset's types and its own ([`crate::api::event_types::custom_types`]); with an app key,
//! that app's own custom types. A type's one JSON Schema is Svix's `schemas` under version
//! `"1"`; its family is Svix's `groupName`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::shapes::{unsupported, unsupported_list, Page};
use crate::api::auth::Caller;
use crate::api::error::{ApiError, ApiResult};
use crate::api::event_types::{check_schema, custom_types, default_family, environment};
use crate::api::json::{JsonBody, QueryPairs};
use crate::api::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::api::AppState;
use crate::catalog::{builtin_types, schemas};
use crate::domain::{AppId, EventTypeName, FieldError};
use crate::store::CustomEventType;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventTypeIn {
    name: String,
    #[serde(default)]
    description: String,
    archived: Option<bool>,
    deprecated: Option<bool>,
    schemas: Option<BTreeMap<String, Value>>,
    group_name: Option<String>,
    feature_flags: Option<Vec<String>>,
    feature_flag: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeOut {
    name: String,
    description: String,
    archived: bool,
    deprecated: bool,
    schemas: Option<BTreeMap<String, Value>>,
    group_name: String,
    /// Herald keeps no time for a type: the Unix epoch.
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl EventTypeOut {
    fn new(name: &str, family: &str, description: &str, schema: Option<&Value>) -> Self {
        EventTypeOut {
            name: name.to_owned(),
            description: description.to_owned(),
            archived: false,
            deprecated: false,
            schemas: schema.map(|s| BTreeMap::from([("1".to_owned(), s.clone())])),
            group_name: family.to_owned(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    fn custom(t: &CustomEventType) -> Self {
        Self::new(
            t.name.as_str(),
            &t.family,
            &t.description,
            t.schema.as_ref(),
        )
    }
}

/// Where the caller's types live: the environment's catalog for the admin, else its app's.
fn home(caller: &Caller) -> AppId {
    match caller {
        Caller::Admin => environment(),
        Caller::App(app) => app.clone(),
    }
}

/// Every type the caller sees, by name: the environment's for the admin; an app's preset,
/// its own and the environment's for an app key.
async fn visible(state: &AppState, caller: &Caller) -> ApiResult<Vec<EventTypeOut>> {
    let mut out: Vec<EventTypeOut> = Vec::new();
    if let Caller::App(id) = caller {
        if let Some(app) = state.store.get_app(id).await? {
            out.extend(builtin_types(app.preset).map(|t| {
                let schema = schemas::builtin(app.preset, t);
                EventTypeOut::new(t.name, t.family, t.description, Some(&schema))
            }));
        }
    }
    let custom = match caller {
        Caller::Admin => state.store.list_event_types(&environment()).await?,
        Caller::App(id) => custom_types(state, id).await?,
    };
    for t in &custom {
        if !out.iter().any(|o| o.name == t.name.as_str()) {
            out.push(EventTypeOut::custom(t));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(req): JsonBody<EventTypeIn>,
) -> ApiResult<(StatusCode, Json<EventTypeOut>)> {
    let name = EventTypeName::parse("name", &req.name)?;
    let why = "Herald's event types are live until the app goes";
    unsupported("archived", &req.archived.filter(|a| *a), why)?;
    unsupported("deprecated", &req.deprecated.filter(|d| *d), why)?;
    unsupported_list(
        "featureFlags",
        &req.feature_flags,
        "types are visible to all",
    )?;
    unsupported("featureFlag", &req.feature_flag, "types are visible to all")?;
    let mut schemas = req.schemas.unwrap_or_default().into_iter();
    let schema = schemas.next().map(|(_, s)| s);
    if schemas.next().is_some() {
        return Err(ApiError::field(
            "schemas",
            "Herald keeps one schema per event type; send one version",
        ));
    }
    if let Some(schema) = &schema {
        check_schema("schemas", schema)?;
    }
    let taken = visible(&state, &caller).await?;
    if name.as_str() == "*"
        || name.is_operational()
        || taken.iter().any(|t| t.name == name.as_str())
    {
        return Err(ApiError::Conflict(format!(
            "event type '{}' already exists",
            name.as_str()
        )));
    }
    let def = CustomEventType {
        family: req
            .group_name
            .unwrap_or_else(|| default_family(name.as_str())),
        name,
        description: req.description,
        schema,
        ttl_s: None,
    };
    state.store.create_event_type(&home(&caller), &def).await?;
    Ok((StatusCode::CREATED, Json(EventTypeOut::custom(&def))))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: QueryPairs,
) -> ApiResult<Json<Page<EventTypeOut>>> {
    let q = super::herald_page(&q, &["include_archived"], false)?;
    let limit = match q.get("limit") {
        None => DEFAULT_LIMIT as usize,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT as usize).contains(&n) => n,
            _ => {
                let msg = format!("must be an integer from 1 to {MAX_LIMIT}");
                return Err(ApiError::BadParameter(FieldError::new("limit", msg)));
            }
        },
    };
    let after = q.get("after").unwrap_or_default();
    let mut data: Vec<EventTypeOut> = visible(&state, &caller)
        .await?
        .into_iter()
        .filter(|t| t.name.as_str() > after)
        .collect();
    let done = data.len() <= limit;
    data.truncate(limit);
    let iterator = (!done)
        .then(|| data.last().map(|t| t.name.clone()))
        .flatten();
    Ok(Json(Page {
        data,
        iterator,
        prev_iterator: None,
        done,
    }))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<EventTypeOut>> {
    visible(&state, &caller)
        .await?
        .into_iter()
        .find(|t| t.name == name)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("event type '{name}'")))
}
