//! The HTTP API: axum routes, one file per resource.
//!
//! Handlers parse requests into domain values, call the store, and hand fresh deliveries to
//! the dispatcher. Authentication and tenant scoping are extractors ([`auth`]), errors are
//! problem+json ([`error`]), and the OpenAPI document is generated from the handlers'
//! annotations ([`openapi`]).

pub mod apps;
pub mod auth;
pub mod cache;
mod conn;
mod deadline;
pub mod deliveries;
pub mod endpoint_build;
pub mod endpoint_input;
pub mod endpoint_secret;
pub mod endpoint_test;
pub mod endpoints;
pub mod error;
pub mod event_input;
pub mod event_types;
pub mod events;
#[cfg(test)]
mod fuzz_tests;
pub mod head_limits;
mod head_scan;
pub mod ingest;
pub mod json;
pub mod keys;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod poll;
pub mod provision;
pub mod rate;
pub mod rooms;
pub mod serve;
pub mod svix;
mod trace;
pub mod webhook_docs;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Settings;
use crate::dispatch::Dispatcher;
use crate::domain::ssrf::DestinationPolicy;
use crate::domain::{App, AppId, KeyId};
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Absent when this process runs the API only.
    pub dispatcher: Option<Dispatcher>,
    pub settings: Arc<Settings>,
    /// SHA-256 of the admin token; compared in constant time.
    pub admin_hash: [u8; 32],
    pub policy: Arc<DestinationPolicy>,
    pub metrics: PrometheusHandle,
    pub apps: Arc<cache::TtlCache<AppId, App>>,
    /// Token hash to the key's app and id.
    pub keys: Arc<cache::TtlCache<String, (AppId, KeyId)>>,
    /// Each app key's rate limit.
    pub limits: Arc<rate::KeyLimits>,
}

pub fn router(state: AppState) -> Router {
    let ops = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed);
    let routes = if state.settings.role.serves_api() {
        ops.nest("/v1", v1(&state.settings))
            .nest("/api/v1", svix::routes(&state.settings))
            .route("/openapi.json", get(openapi::serve))
            .merge(crate::ui::routes())
    } else {
        ops
    };
    routes
        .layer(axum::middleware::from_fn(rate::headers))
        .layer(axum::middleware::from_fn(trace::span))
        .layer(axum::middleware::from_fn(head_limits::enforce))
        .with_state(state)
}

/// Endpoints, their secrets, recovery and polling.
fn endpoint_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/apps/{app}/endpoints",
            post(endpoints::create).get(endpoints::list),
        )
        .route(
            "/apps/{app}/endpoints/{ep}",
            get(endpoints::get)
                .patch(endpoints::update)
                .delete(endpoints::delete),
        )
        .route(
            "/apps/{app}/endpoints/{ep}/secret",
            get(endpoint_secret::secret),
        )
        .route(
            "/apps/{app}/endpoints/{ep}/secret/rotate",
            post(endpoint_secret::rotate),
        )
        .route(
            "/apps/{app}/endpoints/{ep}/recover",
            post(endpoints::recover),
        )
        .route("/apps/{app}/endpoints/{ep}/poll", get(poll::poll))
        .route("/apps/{app}/endpoints/{ep}/test", post(endpoint_test::test))
}

/// Rooms and bots: catch-up and ledgers.
fn rooms_routes() -> Router<AppState> {
    Router::new()
        .route("/apps/{app}/rooms", get(rooms::list))
        .route("/apps/{app}/rooms/{room}", get(rooms::room))
        .route("/apps/{app}/rooms/{room}/events", get(rooms::events))
        .route("/apps/{app}/bots/{bot}", get(rooms::bot))
}

/// The `/v1` API, one route per resource and action.
fn v1(settings: &Settings) -> Router<AppState> {
    let event_limit = DefaultBodyLimit::max(settings.max_event_bytes);
    let batch_limit = DefaultBodyLimit::max(settings.max_batch_bytes);
    Router::new()
        .route("/apps", post(apps::create).get(apps::list))
        .route(
            "/apps/{app}",
            get(apps::get).patch(apps::update).delete(apps::delete),
        )
        .route("/apps/{app}/keys", post(keys::create).get(keys::list))
        .route("/apps/{app}/portal-links", post(crate::ui::portal::mint))
        .route(
            "/apps/{app}/keys/{key}",
            axum::routing::delete(keys::delete),
        )
        .route(
            "/apps/{app}/event-types",
            get(event_types::list).post(event_types::create),
        )
        .route("/apps/{app}/openapi.json", get(webhook_docs::document))
        .merge(endpoint_routes())
        .route(
            "/apps/{app}/events",
            post(events::publish).layer(event_limit).get(events::list),
        )
        .route(
            "/apps/{app}/events/batch",
            post(events::publish_batch).layer(batch_limit),
        )
        .route("/apps/{app}/events/{evt}", get(events::get))
        .merge(rooms_routes())
        .route("/apps/{app}/deliveries", get(deliveries::list))
        .route("/apps/{app}/deliveries/{dlv}", get(deliveries::get))
        .route(
            "/apps/{app}/deliveries/{dlv}/resend",
            post(deliveries::resend),
        )
        .route(
            "/apps/{app}/ingest/livekit",
            post(ingest::livekit).layer(DefaultBodyLimit::max(settings.max_event_bytes)),
        )
}
