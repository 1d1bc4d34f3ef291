//! Live pages: `GET /ui/apps/{app}/live` is a stream of server-sent events that says
//! `changed` when the app's newest events or deliveries change, and the page script then
//! reloads the parts marked `data-live-part`. One small read a second per open page, on any
//! node, with no state kept between them.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};

use super::pages::InApp;
use crate::api::AppState;
use crate::domain::AppId;
use crate::store::{DeliveryQuery, EventQuery, Page};

const EVERY: Duration = Duration::from_secs(1);

/// What a page shows of the app, in short: the newest event, and the newest deliveries with
/// their status and attempts.
async fn fingerprint(state: &AppState, app: &AppId) -> String {
    let newest = |limit| Page {
        limit,
        ..Page::default()
    };
    let events = state
        .store
        .list_events(
            app,
            &EventQuery {
                page: newest(1),
                ..Default::default()
            },
        )
        .await;
    let dls = state
        .store
        .list_deliveries(
            app,
            &DeliveryQuery {
                page: newest(50),
                ..Default::default()
            },
        )
        .await;
    let mut out = events
        .ok()
        .and_then(|e| e.first().map(|e| e.id.to_string()))
        .unwrap_or_default();
    for d in dls.into_iter().flatten() {
        out.push_str(&format!(
            "|{}:{}:{}",
            d.id,
            d.status.as_str(),
            d.attempt_count
        ));
    }
    out
}

fn changes(state: AppState, app: AppId) -> impl Stream<Item = Result<Sse, Infallible>> {
    stream::unfold(
        (state, app, None::<String>),
        |(state, app, last)| async move {
            loop {
                let now = fingerprint(&state, &app).await;
                let changed = last.as_ref().is_some_and(|l| *l != now);
                let first = last.is_none();
                if changed || first {
                    let name = if first { "ready" } else { "changed" };
                    // Browsers drop an event without data, so it carries its name again.
                    let event = Sse::default().event(name).data(name);
                    return Some((Ok(event), (state, app, Some(now))));
                }
                tokio::time::sleep(EVERY).await;
            }
        },
    )
}

pub async fn live(State(state): State<AppState>, InApp { app, .. }: InApp) -> Response {
    axum::response::Sse::new(changes(state, app.id))
        .keep_alive(KeepAlive::default())
        .into_response()
}
