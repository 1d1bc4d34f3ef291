//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    apps, deliveries, endpoint_secret, endpoint_test, endpoints, event_types, events, ingest, keys,
    ops, poll, rooms, webhook_docs,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Herald", description = "Webhook delivery engine for real-time communication platforms."),
    paths(
        ops::healthz, ops::readyz, ops::metrics,
        apps::create, apps::list, apps::get, apps::update, apps::delete,
        keys::create, keys::list, keys::delete,
        event_types::list, event_types::create, webhook_docs::document,
        endpoints::create, endpoints::list, endpoints::get, endpoints::update, endpoints::delete,
        endpoint_secret::secret, endpoint_secret::rotate, endpoints::recover,
        events::publish, events::publish_batch, events::list, events::get,
        rooms::events, rooms::room, rooms::bot, rooms::list, poll::poll, endpoint_test::test, crate::ui::portal::mint,
        deliveries::list, deliveries::get, deliveries::resend,
        ingest::livekit,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Serves the document at `/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
