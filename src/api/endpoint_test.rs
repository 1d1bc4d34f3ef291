//! `POST /v1/apps/{app}/endpoints/{ep}/test`: sends one example event of the app's catalog to
//! the endpoint, now, and answers with the attempt: the first thing a developer wiring a
//! receiver wants to see. Nothing is stored; the example is the type's (see
//! `catalog::examples`).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Child, Scoped};
use super::endpoints::load;
use super::error::{ApiError, ApiResult, Problem};
use super::event_types::check_known;
use super::json::{parse_json, RawBody};
use super::AppState;
use crate::catalog::{builtin_types, examples, payload, standard, EventType};
use crate::domain::endpoint::{EndpointKind, Subscription};
use crate::domain::{App, Attempt, Endpoint, EndpointId, Event, EventTypeName, Labels};

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// A type of the app's catalog; the endpoint's first subscribed type when omitted.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
}

/// What was sent, and what came of it.
#[derive(Serialize, ToSchema)]
pub struct TestResult {
    #[serde(rename = "type")]
    pub event_type: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub attempt: Attempt,
}

/// Sends one example event to the endpoint and answers with the attempt (whatever the
/// receiver answered: the attempt says it).
#[utoipa::path(post, path = "/v1/apps/{app}/endpoints/{ep}/test", tag = "endpoints",
    params(("app" = String, Path), ("ep" = String, Path)), request_body = TestRequest,
    responses((status = 200, body = TestResult), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn test(
    State(state): State<AppState>,
    scoped: Scoped,
    child: Child<EndpointId>,
    RawBody(body): RawBody,
) -> ApiResult<Json<TestResult>> {
    let ep = load(&state, &scoped.app, &child).await?;
    let req: TestRequest = match body.is_empty() {
        true => TestRequest::default(),
        false => parse_json(&body)?,
    };
    Ok(Json(
        send_test(&state, &scoped.app, &ep, req.event_type).await?,
    ))
}

/// Sends one example of `wanted` (or of the endpoint's first type) to `ep` now.
pub async fn send_test(
    state: &AppState,
    app: &App,
    ep: &Endpoint,
    wanted: Option<String>,
) -> ApiResult<TestResult> {
    let refused = match (ep.kind, ep.verification_state.passes()) {
        (EndpointKind::Polling, _) => Some("a polling endpoint is not sent to; poll it"),
        (_, false) => Some("the endpoint has not passed verification; see verification_state"),
        _ => None,
    };
    if let Some(why) = refused {
        return Err(ApiError::Conflict(why.to_owned()));
    }
    let dispatcher = state.dispatcher.as_ref().ok_or_else(|| {
        ApiError::Conflict("this node runs the API only and sends nothing".to_owned())
    })?;
    let name = type_to_send(state, app, ep, wanted).await?;
    let (data, family) = example_of(state, app, &name).await?;
    let (data, labels) = examples::example(data, &family);
    let labels = Labels::parse("labels", labels)?;
    let event = Event::internal(app.id.clone(), name.as_str(), &data, labels);
    let attempt = dispatcher
        .send_once(ep, event)
        .await
        .ok_or_else(|| ApiError::Internal("the test request was not attempted".into()))?;
    Ok(TestResult {
        event_type: name.as_str().to_owned(),
        data,
        attempt,
    })
}

/// The type asked for, checked against the catalog; else the endpoint's first subscribed
/// type; else the catalog's first.
async fn type_to_send(
    state: &AppState,
    app: &App,
    ep: &Endpoint,
    wanted: Option<String>,
) -> ApiResult<EventTypeName> {
    if let Some(raw) = wanted {
        let name = EventTypeName::parse("type", &raw)?;
        check_known(state, app, "type", &[(String::new(), name.clone())]).await?;
        return Ok(name);
    }
    if let Subscription::Types(set) = &ep.events {
        if let Some(first) = set.iter().next() {
            return Ok(first.clone());
        }
    }
    let first = builtin_types(app.preset).find(|t| !t.name.starts_with("herald."));
    match first {
        Some(t) => Ok(EventTypeName::from_trusted(t.name.to_owned())),
        None => Err(ApiError::field(
            "type",
            "the app's catalog has no type to send; name one",
        )),
    }
}

/// The example data of a type and its family: a built-in type's documented payload, a custom
/// type's schema example, else the standard shape of its family.
async fn example_of(
    state: &AppState,
    app: &App,
    name: &EventTypeName,
) -> ApiResult<(serde_json::Value, String)> {
    if let Some(t) = builtin_types(app.preset).find(|t| t.name == name.as_str()) {
        return Ok((payload(app.preset, t), t.family.to_owned()));
    }
    let custom = super::event_types::custom_types(state, &app.id).await?;
    let Some(found) = custom.into_iter().find(|c| c.name == *name) else {
        return Ok((standard::shape(name.as_str(), ""), String::new()));
    };
    let family = found.family.clone();
    let shown = EventType::custom(found);
    let data = shown
        .example
        .unwrap_or_else(|| standard::shape(name.as_str(), &family));
    Ok((data, family))
}
