//! Room sequences and catch-up: every event of a room is numbered 1, 2, 3, ... without a gap
//! or a repeat, across nodes on PostgreSQL, and a receiver that lost deliveries rebuilds each
//! room's history by sequence through `GET /v1/apps/{app}/rooms/{room}/events`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use crate::db::on_postgres;
use crate::harness::{Herald, TempDir, ADMIN};
use crate::receiver::Receiver;

const ROOMS: u64 = 50;
const PUBLISHERS: u64 = 8;
/// Events each publisher sends; the odd publishers send them in batches of five.
const EACH: u64 = 40;

/// Publishes `EACH` events for publisher `p` to `base`, over the rooms in turn, and answers
/// what each publish acknowledged (the batches' items one by one).
async fn publish_all(client: reqwest::Client, base: String, app: String, p: u64) -> Vec<Value> {
    let event = |i: u64| {
        let room = (p * EACH + i) % ROOMS;
        json!({"type": "participant.joined", "data": {"p": p, "i": i},
               "labels": {"room_id": format!("room-{room}")},
               "idempotency_key": format!("p{p}-{i}")})
    };
    let mut acks = Vec::new();
    let mut i = 0;
    while i < EACH {
        let (path, body, n) = match p % 2 {
            0 => ("events", event(i), 1),
            _ => {
                let batch: Vec<Value> = (i..i + 5).map(event).collect();
                ("events/batch", json!({"events": batch}), 5)
            }
        };
        let resp = client
            .post(format!("{base}/v1/apps/{app}/{path}"))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .expect("publish");
        assert_eq!(resp.status().as_u16(), 202);
        let ack: Value = resp.json().await.expect("ack");
        match n {
            1 => acks.push(ack),
            _ => acks.extend(ack["data"].as_array().cloned().unwrap_or_default()),
        }
        i += n;
    }
    acks
}

/// Every event of `room`, through the catch-up route, from `after` on, page by page.
pub async fn catch_up(node: &Herald, app: &str, room: &str, mut after: i64) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let path = format!("/v1/apps/{app}/rooms/{room}/events?after_sequence={after}&limit=7");
        let (s, _, page) = node.call("GET", &path, None).await;
        assert_eq!(s, 200, "{page}");
        out.extend(page["data"].as_array().cloned().unwrap_or_default());
        match page["next_after_sequence"].as_i64() {
            Some(next) => after = next,
            None => return out,
        }
    }
}

#[tokio::test]
async fn room_sequences_have_no_gap_or_repeat_across_nodes() {
    let dir = TempDir::new("sequences");
    // Three nodes share a PostgreSQL database; SQLite serves one process.
    let nodes: Vec<Herald> = match on_postgres() {
        true => (0..3).map(|_| Herald::start(&dir.0)).collect(),
        false => vec![Herald::start(&dir.0)],
    };
    let app = nodes[0].create_app("standard").await;
    let mut tasks = Vec::new();
    for p in 0..PUBLISHERS {
        let node = &nodes[p as usize % nodes.len()];
        let (client, base) = (node.client.clone(), node.base.clone());
        tasks.push(tokio::spawn(publish_all(client, base, app.clone(), p)));
    }
    let mut acks = Vec::new();
    for t in tasks {
        acks.extend(t.await.expect("publisher"));
    }
    // A publish repeated under its idempotency key takes no number.
    let (s, again) = nodes[0]
        .publish(
            &app,
            json!({"type": "participant.joined", "data": {"p": 0, "i": 0},
            "labels": {"room_id": "room-0"}, "idempotency_key": "p0-0"}),
        )
        .await;
    assert_eq!((s, &again["duplicate"]), (200, &json!(true)), "{again}");

    let mut by_room: HashMap<String, Vec<i64>> = HashMap::new();
    for room in 0..ROOMS {
        let room = format!("room-{room}");
        let node = &nodes[room.len() % nodes.len()];
        let events = catch_up(node, &app, &room, 0).await;
        let seqs: Vec<i64> = events
            .iter()
            .filter_map(|e| e["sequence"].as_i64())
            .collect();
        assert_eq!(
            seqs,
            (1..=events.len() as i64).collect::<Vec<_>>(),
            "{room}"
        );
        let times: Vec<&str> = events
            .iter()
            .filter_map(|e| e["created_at"].as_str())
            .collect();
        let parsed: Vec<chrono::DateTime<chrono::Utc>> =
            times.iter().filter_map(|t| t.parse().ok()).collect();
        assert_eq!(parsed.len(), events.len(), "{times:?}");
        assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "{room}: {times:?}");
        by_room.insert(room, seqs);
    }
    let total: usize = by_room.values().map(Vec::len).sum();
    assert_eq!(total as u64, PUBLISHERS * EACH);
    // Each acknowledgement names the number the room's log has for that event.
    for ack in &acks {
        let seq = ack["sequence"].as_i64().expect("a sequence");
        let path = format!("/v1/apps/{app}/events/{}", ack["id"].as_str().unwrap_or(""));
        let (_, _, event) = nodes[0].call("GET", &path, None).await;
        assert_eq!(event["sequence"], json!(seq), "{event}");
    }
}

#[tokio::test]
async fn a_receiver_that_lost_deliveries_rebuilds_each_room_by_sequence() {
    let dir = TempDir::new("catch-up");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(&app, json!({"url": rx.url, "ordering": "per_room"}))
        .await;
    let rooms = ["a", "b", "c"];
    let mut published: HashMap<&str, Vec<u64>> = HashMap::new();
    for i in 0..45u64 {
        let room = rooms[i as usize % 3];
        let (s, ack) = herald
            .publish(
                &app,
                json!({"type": "participant.joined", "data": {"i": i},
                "labels": {"room_id": room}}),
            )
            .await;
        assert_eq!(s, 202, "{ack}");
        published.entry(room).or_default().push(i);
    }
    let got = rx.wait_count(45, Duration::from_secs(30)).await;

    // The receiver keeps four deliveries of five: what it has, by room and sequence.
    let mut kept: HashMap<&str, BTreeMap<i64, u64>> = HashMap::new();
    for (n, r) in got.iter().enumerate().filter(|(n, _)| n % 5 != 4) {
        let body = r.json();
        let header: i64 = r
            .header("herald-sequence")
            .and_then(|h| h.parse().ok())
            .unwrap_or(-1);
        assert_eq!(body["sequence"], json!(header), "request {n}: {body}");
        let i = body["data"]["i"].as_u64().unwrap_or(u64::MAX);
        kept.entry(rooms[i as usize % 3])
            .or_default()
            .insert(header, i);
    }
    for room in rooms {
        let mut history = kept.remove(room).unwrap_or_default();
        // It asks for everything after the last number it has without a gap before it.
        let first_gap = (1..).find(|s| !history.contains_key(s)).unwrap_or(1);
        for e in catch_up(&herald, &app, room, first_gap - 1).await {
            let seq = e["sequence"].as_i64().unwrap_or(0);
            history.insert(seq, e["data"]["i"].as_u64().unwrap_or(u64::MAX));
        }
        let seqs: Vec<i64> = history.keys().copied().collect();
        assert_eq!(seqs, (1..=15).collect::<Vec<_>>(), "{room}");
        let events: Vec<u64> = history.into_values().collect();
        assert_eq!(events, published[room], "{room}");
    }
}
