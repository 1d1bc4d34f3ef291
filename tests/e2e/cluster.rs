//! Several Herald processes on one PostgreSQL database: roles split the work, every node
//! reads the same logs, per-room ordering holds across nodes, and a node killed with SIGKILL
//! loses nothing. These run only when `HERALD_TEST_DATABASE_URL` names a PostgreSQL server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use serde_json::{json, Value};

use crate::db::needs_postgres;
use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};
use crate::rooms::first_successes;

/// Short, so that a killed node's work is taken over within the test.
const LEASE_S: u64 = 3;

fn node(dir: &TempDir, role: &str) -> Herald {
    Herald::start_with(
        &dir.0,
        &[
            ("HERALD_ROLE", role),
            ("HERALD_LEASE_S", &LEASE_S.to_string()),
        ],
    )
}

#[tokio::test]
async fn cluster_nodes_split_roles_agree_on_logs_and_keep_room_order() {
    if !needs_postgres() {
        return;
    }
    let dir = TempDir::new("cluster-roles");
    let api = node(&dir, "api");
    let sender = node(&dir, "dispatcher");
    let both = node(&dir, "all");

    let (s, ct, _) = sender.call("GET", "/v1/apps", None).await;
    assert_eq!((s, ct.as_str()), (404, "application/problem+json"));
    assert_eq!(sender.call("GET", "/healthz", None).await.0, 200);

    let rx = Receiver::start().await;
    rx.set_default(Reply::Flaky(20));
    let app = api.create_app("standard").await;
    api.create_endpoint(
        &app,
        json!({"url": rx.url, "ordering": "per_room", "retry_schedule_s": vec![0; 12]}),
    )
    .await;
    // One room, published alternately on a node that cannot send and one that can.
    let mut ids = Vec::new();
    for seq in 0..40u64 {
        let publisher = if seq % 2 == 0 { &api } else { &both };
        let (s, ack) = publisher
            .publish(&app, json!({"type": "participant.joined", "data": {"seq": seq, "room": 1}, "labels": {"room_id": "r1"}}))
            .await;
        assert_eq!(s, 202, "{ack}");
        ids.push(ack["id"].as_str().expect("id").to_owned());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while first_successes(&rx.got()).get(&1).map_or(0, Vec::len) < 40 {
        assert!(
            Instant::now() < deadline,
            "not delivered: {:?}",
            first_successes(&rx.got())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        first_successes(&rx.got())[&1],
        (0..40).collect::<Vec<u64>>()
    );
    assert!(
        rx.got().iter().any(|r| r.replied == 500),
        "the receiver never failed"
    );

    // Both API nodes answer the same about every event and delivery.
    for id in ids.iter().step_by(7) {
        for path in [
            format!("/v1/apps/{app}/events/{id}"),
            format!("/v1/apps/{app}/deliveries?event={id}"),
        ] {
            let (_, _, a) = api.call("GET", &path, None).await;
            let (_, _, b) = both.call("GET", &path, None).await;
            assert_eq!(a, b, "{path}");
            assert_ne!(a, Value::Null);
        }
        let (_, _, list) = api
            .call(
                "GET",
                &format!("/v1/apps/{app}/deliveries?event={id}"),
                None,
            )
            .await;
        let dlv = list["data"][0]["id"].as_str().expect("delivery").to_owned();
        let path = format!("/v1/apps/{app}/deliveries/{dlv}");
        let (_, _, a) = api.call("GET", &path, None).await;
        let (_, _, b) = both.call("GET", &path, None).await;
        assert_eq!(a, b);
        assert_eq!(a["status"], "succeeded", "{a}");
    }
}

/// How many times one (endpoint, event) arrived, and when first.
type Receipts = (u32, Instant);

/// Counts what each endpoint path received, by the event number in the body, with the
/// time of the first receipt.
#[derive(Clone, Default)]
struct Tally {
    seen: Arc<Mutex<HashMap<(u32, u64), Receipts>>>,
    requests: Arc<AtomicUsize>,
}

async fn tally(
    State(t): State<Tally>,
    Path(ep): Path<u32>,
    body: axum::body::Bytes,
) -> &'static str {
    let n = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["n"].as_u64());
    if let Some(n) = n {
        t.seen
            .lock()
            .expect("lock")
            .entry((ep, n))
            .or_insert((0, Instant::now()))
            .0 += 1;
    }
    t.requests.fetch_add(1, Ordering::Relaxed);
    "ok"
}

async fn start_tally() -> (Tally, String) {
    let t = Tally::default();
    let app = axum::Router::new()
        .route("/e/{ep}", axum::routing::post(tally))
        .with_state(t.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (t, format!("http://{addr}"))
}

const EVENTS: u64 = 20_000;
const ENDPOINTS: u32 = 10;
const MAX_IN_FLIGHT: u32 = 8;
const BATCH: u64 = 100;

#[tokio::test]
async fn cluster_loses_nothing_when_one_of_three_nodes_is_killed() {
    if !needs_postgres() {
        return;
    }
    let dir = TempDir::new("cluster-kill");
    let mut nodes: Vec<Herald> = (0..3).map(|_| node(&dir, "all")).collect();
    let (tally, base) = start_tally().await;
    let app = nodes[0].create_app("standard").await;
    for ep in 0..ENDPOINTS {
        nodes[0]
            .create_endpoint(
                &app,
                json!({"url": format!("{base}/e/{ep}"), "max_in_flight": MAX_IN_FLIGHT}),
            )
            .await;
    }
    let urls: Arc<Vec<String>> = Arc::new(nodes.iter().map(|n| n.base.clone()).collect());
    let client = nodes[0].client.clone();
    let (next, acked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let batches = (EVENTS / BATCH) as usize;
    let mut publishers = Vec::new();
    for _ in 0..4 {
        let (urls, client, app) = (Arc::clone(&urls), client.clone(), app.clone());
        let (next, acked) = (Arc::clone(&next), Arc::clone(&acked));
        publishers.push(tokio::spawn(async move {
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return;
                }
                let events: Vec<Value> = (b as u64 * BATCH..(b as u64 + 1) * BATCH)
                    .map(|n| json!({"type": "participant.joined", "data": {"n": n}, "idempotency_key": format!("e-{n}")}))
                    .collect();
                // A batch whose answer was lost is sent again, to another node: the
                // idempotency keys make that safe, as they would for any client.
                for attempt in 0.. {
                    let url = &urls[(b + attempt) % urls.len()];
                    let sent = client
                        .post(format!("{url}/v1/apps/{app}/events/batch"))
                        .bearer_auth(crate::harness::ADMIN)
                        .json(&json!({"events": events}))
                        .send()
                        .await;
                    if matches!(&sent, Ok(r) if r.status().is_success()) {
                        acked.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    assert!(attempt < 20, "batch {b} never acknowledged: {sent:?}");
                }
            }
        }));
    }
    while acked.load(Ordering::Relaxed) < batches / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    nodes[1].kill();
    let killed_at = Instant::now();
    for p in publishers {
        p.await.expect("publisher");
    }
    let expected = EVENTS as usize * ENDPOINTS as usize;
    let deadline = Instant::now() + Duration::from_secs(600);
    while tally.seen.lock().expect("lock").len() < expected {
        assert!(
            Instant::now() < deadline,
            "delivered {} of {expected}",
            tally.seen.lock().expect("lock").len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let requests = tally.requests.load(Ordering::Relaxed);
    let duplicates = requests - expected;
    eprintln!(
        "all {expected} deliveries made {:?} after the kill; {duplicates} duplicates",
        killed_at.elapsed()
    );
    // Only what the killed node had in flight can be sent twice: per endpoint, its
    // requests under way and the outcomes it had not yet written, each at most
    // max_in_flight. And each one sent twice was first sent before the kill (the other
    // nodes take over only after the lease period).
    assert!(
        duplicates <= (2 * ENDPOINTS * MAX_IN_FLIGHT) as usize,
        "{duplicates} duplicates"
    );
    let late: Vec<_> = tally
        .seen
        .lock()
        .expect("lock")
        .iter()
        .filter(|(_, (count, first))| *count > 1 && *first > killed_at + Duration::from_secs(1))
        .map(|(k, _)| *k)
        .collect();
    assert!(
        late.is_empty(),
        "sent twice, first after the kill: {late:?}"
    );
    // The last requests' outcomes may still be on their way to the database; within the
    // lease period every delivery has settled.
    let survivor = &nodes[0];
    let settled_by = Instant::now() + Duration::from_secs(LEASE_S + 10);
    for status in ["pending", "failed"] {
        loop {
            let (_, _, left) = survivor
                .call(
                    "GET",
                    &format!("/v1/apps/{app}/deliveries?status={status}&limit=5"),
                    None,
                )
                .await;
            if left["data"] == json!([]) {
                break;
            }
            assert!(Instant::now() < settled_by, "{status}: {left}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
