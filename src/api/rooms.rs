//! Rooms as receivers see them: a room's events by sequence, so that a receiver that saw 7
//! after 5 can fetch 6 (catch-up).
//!
//! A room is the key events are numbered by: an event's `ordering_key`, else its `room_id`
//! label. Numbers are given when an event is stored (see `store::sequence`), 1, 2, 3, ...
//! per app and room, without gaps, in commit order, so `after_sequence` is a cursor that
//! stays valid however many events arrive meanwhile.

use axum::extract::{RawPathParams, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Scoped;
use super::error::{ApiError, ApiResult, Problem};
use super::json::QueryPairs;
use super::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use super::AppState;
use crate::domain::Event;
use crate::store::RoomPage;

/// One page of a room's events, in sequence order.
#[derive(Serialize, ToSchema)]
pub struct RoomEvents {
    pub data: Vec<Event>,
    /// Pass as `after_sequence` to get the next page; `null` when this page reached the
    /// room's latest event.
    pub next_after_sequence: Option<i64>,
}

/// A room's events by sequence, oldest first, those after `after_sequence` (default 0).
#[utoipa::path(get, path = "/v1/apps/{app}/rooms/{room}/events", tag = "rooms",
    params(("app" = String, Path), ("room" = String, Path),
        ("after_sequence" = Option<i64>, Query, description = "the last sequence the receiver has; 0 for the room's first event"),
        ("limit" = Option<u32>, Query)),
    responses((status = 200, body = RoomEvents), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    scoped: Scoped,
    path: RawPathParams,
    q: QueryPairs,
) -> ApiResult<Json<RoomEvents>> {
    q.only(&["after_sequence", "limit"])?;
    let room = path
        .iter()
        .nth(1)
        .map(|(_, v)| v.to_owned())
        .ok_or_else(|| ApiError::NotFound("room".into()))?;
    let after = match q.get("after_sequence") {
        None | Some("") => 0,
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::field("after_sequence", "must be a whole number, 0 or more")
        })?,
    };
    let limit = match q.get("limit") {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::field("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))
            })?,
    };
    let page = RoomPage {
        room,
        after,
        limit: limit + 1,
    };
    let mut data = state.store.room_events(&scoped.app.id, &page).await?;
    let next_after_sequence = match data.len() > limit as usize {
        true => {
            data.truncate(limit as usize);
            data.last().and_then(|e| e.sequence)
        }
        false => None,
    };
    Ok(Json(RoomEvents {
        data,
        next_after_sequence,
    }))
}
