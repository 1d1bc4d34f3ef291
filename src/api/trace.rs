//! A span per API request: which route, which app, what status. The app is filled in by the
//! extractor that resolves it (`auth::Scoped`), the status once the handler has answered.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::field::Empty;
use tracing::Instrument;

pub async fn span(req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let span = tracing::debug_span!(
        "request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = Empty,
        app = Empty,
    );
    let resp = next.run(req).instrument(span.clone()).await;
    span.record(
        "http.response.status_code",
        i64::from(resp.status().as_u16()),
    );
    resp
}

/// Names the app of the request being served, on its span.
pub fn record_app(app: &crate::domain::AppId) {
    tracing::Span::current().record("app", app.as_str());
}
