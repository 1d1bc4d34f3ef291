//! `/api/v1`: the Svix API, spoken on top of Herald's own.
//!
//! A platform that already sends its webhooks through Svix moves to Herald by changing its
//! client's server URL: the official client libraries call these routes unchanged. Each
//! handler translates the Svix request into Herald's (`ApplicationIn` into an app,
//! `EndpointIn` into an endpoint, `MessageIn` into an event) and calls the same function
//! Herald's `/v1` route calls, so every rule (the catalog check, tenant scoping, the SSRF
//! guard, idempotency) has one home; only the shapes differ. Errors keep their meaning and
//! take Svix's shape ([`errors`]). What Herald cannot do answers a 422 naming the field.
//!
//! Endpoints made here sign as Standard Webhooks (Svix's scheme), so `svix.Webhook`
//! verifies them.

mod apps;
mod attempts;
mod endpoints;
mod errors;
mod event_types;
mod messages;
mod shapes;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use super::json::QueryPairs;
use super::AppState;
use crate::config::Settings;

/// Every Svix route Herald answers.
pub fn routes(settings: &Settings) -> Router<AppState> {
    let event_limit = DefaultBodyLimit::max(settings.max_event_bytes);
    Router::new()
        .route("/app", get(apps::list).post(apps::create))
        .route(
            "/app/{app}",
            get(apps::get)
                .put(apps::update)
                .patch(apps::update)
                .delete(apps::delete),
        )
        .route(
            "/event-type",
            get(event_types::list).post(event_types::create),
        )
        .route("/event-type/{name}", get(event_types::get))
        .merge(endpoints::routes())
        .route(
            "/app/{app}/msg",
            post(messages::create)
                .layer(event_limit)
                .get(messages::list),
        )
        .route("/app/{app}/msg/{msg}", get(messages::get))
        .route("/app/{app}/attempt/msg/{msg}", get(attempts::of_message))
        .route(
            "/app/{app}/attempt/endpoint/{ep}",
            get(attempts::of_endpoint),
        )
        .fallback(super::ops::not_found)
        .method_not_allowed_fallback(super::ops::method_not_allowed)
        .layer(axum::middleware::from_fn(errors::reshape))
}

/// Svix's `limit`, `iterator` and, where the list has `times`, its bounds (`before`,
/// `after`) as Herald's `limit`, `after`, `until` and `since`, refusing any other parameter
/// than those in `also` (which the caller takes over).
fn herald_page(
    q: &QueryPairs,
    also: &[&str],
    times: bool,
) -> Result<QueryPairs, super::error::ApiError> {
    let mut out = Vec::new();
    for (k, v) in &q.0 {
        match k.as_str() {
            "limit" => out.push(("limit".to_owned(), v.clone())),
            "iterator" => out.push(("after".to_owned(), v.clone())),
            "before" if times => out.push(("until".to_owned(), v.clone())),
            "after" if times => out.push(("since".to_owned(), v.clone())),
            // Svix's clients ask whether to include payloads (Herald always does) and for
            // Svix's finer attempt statuses (Herald's are success and failure only).
            "with_content" | "expanded_statuses" => {}
            other if also.contains(&other) => {}
            other => {
                return Err(super::error::ApiError::BadParameter(
                    crate::domain::FieldError::new(other, "is not supported by Herald's Svix API"),
                ))
            }
        }
    }
    Ok(QueryPairs(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> QueryPairs {
        QueryPairs(
            raw.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn svix_paging_becomes_heralds() {
        let q = pairs(&[
            ("limit", "10"),
            ("iterator", "evt_x"),
            ("after", "2026-01-01T00:00:00Z"),
            ("with_content", "false"),
        ]);
        let herald = herald_page(&q, &[], true).expect("pages");
        assert_eq!(herald.get("limit"), Some("10"));
        assert_eq!(herald.get("after"), Some("evt_x"));
        assert_eq!(herald.get("since"), Some("2026-01-01T00:00:00Z"));
        assert_eq!(herald.get("with_content"), None);
    }

    #[test]
    fn parameters_without_meaning_here_are_refused() {
        assert!(herald_page(&pairs(&[("order", "ascending")]), &[], true).is_err());
        assert!(herald_page(&pairs(&[("before", "x")]), &[], false).is_err());
        let kept = herald_page(&pairs(&[("status", "0")]), &["status"], false).expect("kept");
        assert_eq!(kept.get("status"), None);
    }
}
