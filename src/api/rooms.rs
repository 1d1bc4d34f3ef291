//! Rooms and bots as receivers and support see them: a room's events by sequence, so that a
//! receiver that saw 7 after 5 can fetch 6 (catch-up); and ledgers, per room and per bot, so
//! that "did customer X get everything for room Y?" has one answer per endpoint.
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
use crate::store::ledger::{Ledger, Subject};
use crate::store::RoomPage;

/// Most rooms in one answer of the rooms list.
const MAX_ROOMS: u32 = 100;

/// The path's second segment (after the app): the room or the bot, as sent.
fn subject_of(path: &RawPathParams, kind: &str) -> Result<String, ApiError> {
    path.iter()
        .nth(1)
        .map(|(_, v)| v.to_owned())
        .ok_or_else(|| ApiError::NotFound(kind.to_owned()))
}

/// The subject's ledger, or a 404 naming `kind` when it has no events.
async fn ledger_of(
    state: &AppState,
    scoped: &Scoped,
    subject: Subject,
    kind: &str,
) -> ApiResult<Ledger> {
    state
        .store
        .ledger(&scoped.app.id, &subject)
        .await?
        .ok_or_else(|| ApiError::NotFound(kind.to_owned()))
}

/// A room's ledger.
#[derive(Serialize, ToSchema)]
pub struct RoomLedger {
    pub room: String,
    #[serde(flatten)]
    pub ledger: Ledger,
}

/// A bot's ledger.
#[derive(Serialize, ToSchema)]
pub struct BotLedger {
    pub bot: String,
    #[serde(flatten)]
    pub ledger: Ledger,
}

/// The rooms whose last event is the newest, each with its ledger.
#[derive(Serialize, ToSchema)]
pub struct RoomList {
    pub data: Vec<RoomLedger>,
}

/// A room's ledger: its events (count, first, last, last sequence) and, per endpoint, how
/// many of their deliveries succeeded, are pending, failed or expired; `complete` when none
/// is pending.
#[utoipa::path(get, path = "/v1/apps/{app}/rooms/{room}", tag = "rooms",
    params(("app" = String, Path), ("room" = String, Path)),
    responses((status = 200, body = RoomLedger), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn room(
    State(state): State<AppState>,
    scoped: Scoped,
    path: RawPathParams,
) -> ApiResult<Json<RoomLedger>> {
    let room = subject_of(&path, "room")?;
    let ledger = ledger_of(&state, &scoped, Subject::Room(room.clone()), "room").await?;
    Ok(Json(RoomLedger { room, ledger }))
}

/// A bot's ledger, over the events labelled with its `bot_id`.
#[utoipa::path(get, path = "/v1/apps/{app}/bots/{bot}", tag = "rooms",
    params(("app" = String, Path), ("bot" = String, Path)),
    responses((status = 200, body = BotLedger), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn bot(
    State(state): State<AppState>,
    scoped: Scoped,
    path: RawPathParams,
) -> ApiResult<Json<BotLedger>> {
    let bot = subject_of(&path, "bot")?;
    let ledger = ledger_of(&state, &scoped, Subject::Bot(bot.clone()), "bot").await?;
    Ok(Json(BotLedger { bot, ledger }))
}

/// The rooms whose last event is the newest, newest first, `limit` of them (20, at most 100).
#[utoipa::path(get, path = "/v1/apps/{app}/rooms", tag = "rooms",
    params(("app" = String, Path), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = RoomList), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    scoped: Scoped,
    q: QueryPairs,
) -> ApiResult<Json<RoomList>> {
    q.only(&["limit"])?;
    let limit = limit_of(&q, 20, MAX_ROOMS)?;
    let mut data = Vec::new();
    for room in state.store.recent_rooms(&scoped.app.id, limit).await? {
        let subject = Subject::Room(room.clone());
        if let Some(ledger) = state.store.ledger(&scoped.app.id, &subject).await? {
            data.push(RoomLedger { room, ledger });
        }
    }
    Ok(Json(RoomList { data }))
}

/// `limit`: `default` when absent, else 1 to `max`.
pub(super) fn limit_of(q: &QueryPairs, default: u32, max: u32) -> Result<u32, ApiError> {
    match q.get("limit") {
        None | Some("") => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| ApiError::field("limit", format!("must be an integer from 1 to {max}"))),
    }
}

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
    let room = subject_of(&path, "room")?;
    let after = match q.get("after_sequence") {
        None | Some("") => 0,
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::field("after_sequence", "must be a whole number, 0 or more")
        })?,
    };
    let limit = limit_of(&q, DEFAULT_LIMIT, MAX_LIMIT)?;
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
