//! The dashboard at `/ui`: server-rendered pages compiled into the binary (markup by `maud`,
//! one stylesheet, one small script), so `herald serve` shows it without a separate build.
//! A person signs in with the admin token or an app key and sees deliveries the way the API
//! does: apps, endpoints and their health, events, each delivery's attempts with Resend,
//! and the history of a room or a bot, live.

mod admin;
mod catalog;
mod endpoint_actions;
mod endpoint_form;
mod endpoint_pages;
mod events_list;
mod glance;
mod layout;
mod live;
mod pages;
pub mod portal;
mod records;
pub mod session;

use axum::routing::{get, post};
use axum::Router;

use crate::api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui", get(pages::home))
        .route(
            "/ui/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/ui/sign-out", post(session::sign_out))
        .route("/ui/portal/{token}", get(portal::enter))
        .route("/ui/apps", get(pages::apps).post(admin::create_app))
        .route("/ui/apps/{app}/keys", post(admin::create_key))
        .route("/ui/apps/{app}/keys/revoke", post(admin::revoke_key))
        .route("/ui/apps/{app}", get(pages::app))
        .route("/ui/apps/{app}/live", get(live::live))
        .route("/ui/apps/{app}/catalog", get(catalog::catalog))
        .route(
            "/ui/apps/{app}/endpoints/new",
            get(endpoint_pages::new_page).post(endpoint_pages::create),
        )
        .route(
            "/ui/apps/{app}/endpoints/{ep}",
            get(endpoint_pages::endpoint),
        )
        .route(
            "/ui/apps/{app}/endpoints/{ep}/edit",
            get(endpoint_pages::edit_page).post(endpoint_pages::edit),
        )
        .merge(endpoint_actions::routes())
        .route("/ui/apps/{app}/events/{evt}", get(records::event))
        .route("/ui/apps/{app}/deliveries/{dlv}", get(records::delivery))
        .route(
            "/ui/apps/{app}/deliveries/{dlv}/resend",
            post(records::resend),
        )
        .route("/ui/apps/{app}/rooms/{room}", get(records::room))
        .route("/ui/apps/{app}/bots/{bot}", get(records::bot))
}
