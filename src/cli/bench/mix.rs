//! `--run w3`: a realistic mix of what an RTC platform sends, beside W1's single stream.
//!
//! W1 measures one endpoint that takes everything; a real app has many endpoints, each
//! taking some types or one room, a few of them ordered. W3 publishes `--w3-events` events
//! of four types over 1,000 rooms from 64 publishers to 20 endpoints: three per type (12),
//! and eight scoped by a label filter to one room each, every third endpoint ordered per
//! room (7 of 20). An event reaches its type's three endpoints, and the room's endpoint when
//! its room has one: about three deliveries per event, the cost the store pays per event
//! when fan-out, filters and ordering all take part.

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;

use super::isolation::{measure, post, Load, Run};
use super::receiver::Recorder;

/// The types W3 publishes, in turn.
pub const TYPES: [&str; 4] = [
    "participant.joined",
    "participant.left",
    "track.published",
    "recording.started",
];
const ROOMS: u64 = 1000;
const PER_TYPE: usize = 3;
/// Rooms with an endpoint of their own (`room-0` to `room-7`).
const ROOM_ENDPOINTS: u64 = 8;
const PUBLISHERS: usize = 64;

/// One endpoint of the mix: what it subscribes to, and whether it is ordered.
#[derive(Debug, PartialEq)]
struct Spec {
    events: Vec<&'static str>,
    room: Option<u64>,
    ordered: bool,
}

/// The 20 endpoints: three per type, then one per room of the first eight; every third
/// ordered per room.
fn specs() -> Vec<Spec> {
    let typed = TYPES
        .iter()
        .flat_map(|t| std::iter::repeat_n(*t, PER_TYPE))
        .map(|t| (vec![t], None));
    let rooms = (0..ROOM_ENDPOINTS).map(|r| (vec!["*"], Some(r)));
    typed
        .chain(rooms)
        .enumerate()
        .map(|(i, (events, room))| Spec {
            events,
            room,
            ordered: i % 3 == 0,
        })
        .collect()
}

/// Deliveries `events` events make: each reaches its type's endpoints, and the room's one
/// when its room has one (the n-th event is in room `n % 1000`).
fn expected(events: u64) -> u64 {
    let full = events / ROOMS * ROOM_ENDPOINTS;
    let rest = (events % ROOMS).min(ROOM_ENDPOINTS);
    events * PER_TYPE as u64 + full + rest
}

/// Runs W3 and prints its line; answers its deliveries per second.
pub async fn run(
    (base, token, hook): (&str, &str, &str),
    events: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(PUBLISHERS)
        .build()?;
    let app = post(
        &client,
        &format!("{base}/v1/apps"),
        token,
        json!({"name": "w3", "preset": "standard"}),
    )
    .await?;
    let app = app["id"].as_str().context("app id")?.to_owned();
    let specs = specs();
    for s in &specs {
        let mut body = json!({"url": hook, "events": s.events});
        if let Some(room) = s.room {
            body["filter"] = json!({"labels": {"room_id": format!("room-{room}")}});
        }
        if s.ordered {
            body["ordering"] = json!("per_room");
        }
        post(
            &client,
            &format!("{base}/v1/apps/{app}/endpoints"),
            token,
            body,
        )
        .await?;
    }
    let load = Load {
        publishers: PUBLISHERS,
        types: &TYPES,
        ..Load::of(events, ROOMS)
    };
    let url = format!("{base}/v1/apps/{app}/events");
    let r: Run = measure(&client, &url, token, load, expected(events), rec).await?;
    let rate = r.delivered as f64 / r.seconds;
    println!(
        "W3: {events} events over {ROOMS} rooms to {} endpoints ({} ordered): {} deliveries in {:.1} s, {rate:.0} deliveries/s, latency p50 {:.1} ms p99 {:.1} ms",
        specs.len(),
        specs.iter().filter(|s| s.ordered).count(),
        r.delivered,
        r.seconds,
        r.p50_ms,
        r.p99_ms
    );
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_endpoints_a_third_ordered() {
        let s = specs();
        assert_eq!(s.len(), 20);
        assert_eq!(s.iter().filter(|s| s.ordered).count(), 7);
        assert_eq!(s.iter().filter(|s| s.room.is_some()).count(), 8);
        for t in TYPES {
            let n = s.iter().filter(|s| s.events == [t]).count();
            assert_eq!(n, PER_TYPE, "{t}");
        }
    }

    #[test]
    fn about_three_deliveries_per_event() {
        assert_eq!(expected(0), 0);
        assert_eq!(expected(5), 5 * 3 + 5);
        assert_eq!(expected(1000), 3000 + 8);
        assert_eq!(expected(100_000), 300_000 + 800);
        assert_eq!(expected(2003), 6009 + 16 + 3);
    }
}
