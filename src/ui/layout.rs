//! The page shell every dashboard page shares (head, navigation, sign-out), and the few
//! answers that are not pages: refusals, failures, the sign-in form. Markup is written with
//! `maud`, which escapes everything it interpolates, so a payload or a receiver's answer
//! shown on a page cannot inject markup.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::session::Session;
use crate::domain::AppId;

const CSS: &str = include_str!("static/herald.css");
const JS: &str = include_str!("static/herald.js");

/// A full page: `title`, the session's navigation, and `body`; `live` names the app whose
/// changes reload the page's live parts.
pub fn page(title: &str, session: Option<&Session>, live: Option<&AppId>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Herald" }
                style { (PreEscaped(CSS)) }
            }
            body data-live=[live.map(|a| format!("/ui/apps/{a}/live"))] {
                header.top {
                    a.brand href="/ui" { "Herald" }
                    @if let Some(s) = session {
                        nav {
                            @if s.is_admin() { a href="/ui/apps" { "Apps" } }
                            @if let Some(app) = &s.app { a href={ "/ui/apps/" (app) } { "My app" } }
                            @if s.read_only { span.badge { "read-only" } }
                            form.inline method="post" action="/ui/sign-out" {
                                input type="hidden" name="_csrf" value=(s.csrf);
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
                script { (PreEscaped(JS)) }
            }
        }
    }
}

/// A time the browser shows in its own zone (UTC until the script runs).
pub fn time(t: DateTime<Utc>) -> Markup {
    let iso = t.to_rfc3339_opts(SecondsFormat::Millis, true);
    html! { time datetime=(iso) { (iso) } }
}

/// The hidden CSRF field every form carries.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="_csrf" value=(session.csrf); }
}

/// The status of a delivery, coloured.
pub fn status(s: &str) -> Markup {
    html! { span class={ "status " (s) } { (s) } }
}

pub fn sign_in(error: Option<&str>) -> Markup {
    page(
        "Sign in",
        None,
        None,
        html! {
            form.card method="post" action="/ui/sign-in" {
                p { "Sign in with the admin token, or with an app key to see that app only." }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                label for="token" { "Token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                button type="submit" { "Sign in" }
            }
        },
    )
}

fn plain(code: StatusCode, title: &str, msg: &str) -> Response {
    let body = page(title, None, None, html! { p.error role="alert" { (msg) } });
    (code, body).into_response()
}

/// 403: the action is not allowed (no CSRF token, a read-only session).
pub fn refused(msg: &str) -> Response {
    plain(StatusCode::FORBIDDEN, "Not allowed", msg)
}

/// 404, the same for what does not exist and what the session may not see.
pub fn not_found() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing here, or nothing you may see.",
    )
}

/// 500 or 503: the store failed; the message names it.
pub fn failure(msg: &str) -> Response {
    plain(StatusCode::SERVICE_UNAVAILABLE, "Something failed", msg)
}
