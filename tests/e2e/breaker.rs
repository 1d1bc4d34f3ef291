//! The circuit breaker end to end: a failing endpoint is backed off to probes while its
//! backlog waits, is disabled once it has failed for `disable_after`, the app's operational
//! endpoint is told each step, and enabling it again delivers what it held, in order.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

const ROOMS: usize = 10;
const PER_ROOM: usize = 2;

async fn endpoint(herald: &Herald, app: &str, ep: &str) -> Value {
    herald
        .call("GET", &format!("/v1/apps/{app}/endpoints/{ep}"), None)
        .await
        .2
}

/// Waits until the operational endpoint has received an event of `kind`; answers its data.
async fn told(ops: &Receiver, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(event) = ops
            .got()
            .iter()
            .map(|r| r.json())
            .find(|e| e["type"] == kind)
        {
            return event["data"].clone();
        }
        assert!(Instant::now() < deadline, "never told {kind}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start() -> (TempDir, Herald) {
    let dir = TempDir::new("breaker");
    let herald = Herald::start_with(
        &dir.0,
        &[
            ("HERALD_BREAKER_FAILURES", "3"),
            ("HERALD_BREAKER_COOLDOWN", "1s"),
            ("HERALD_BREAKER_COOLDOWN_MAX", "2s"),
            ("HERALD_DISABLE_AFTER", "8s"),
        ],
    );
    (dir, herald)
}

#[tokio::test]
async fn a_failing_endpoint_is_backed_off_disabled_and_resumed_in_order() {
    let (_dir, herald) = start().await;
    let (bad, ops) = (Receiver::start().await, Receiver::start().await);
    bad.set_default(Reply::Status(500));
    let app = herald.create_app("standard").await;
    let kinds = [
        "herald.endpoint.failing",
        "herald.endpoint.disabled",
        "herald.endpoint.enabled",
    ];
    let (ops_ep, _) = herald
        .create_endpoint(&app, json!({"url": ops.url, "events": kinds}))
        .await;
    let schedule = vec![1; 30];
    let (ep, _) = herald
        .create_endpoint(
            &app,
            json!({"url": bad.url, "ordering": "per_room", "retry_schedule_s": schedule}),
        )
        .await;
    for n in 0..ROOMS * PER_ROOM {
        let room = format!("r{}", n % ROOMS);
        let body = json!({"type": "room.created", "data": {"n": n}, "labels": {"room_id": room}});
        assert_eq!(herald.publish(&app, body).await.0, 202);
    }
    let failing = told(&ops, "herald.endpoint.failing").await;
    assert_eq!(failing["endpoint_id"], ep.as_str());
    let health = &endpoint(&herald, &app, &ep).await["health"];
    assert!(
        health["state"] == "open" || health["state"] == "half_open",
        "{health}"
    );
    assert_eq!(health["last_error"], "HTTP 500");
    assert!(health["failing_since"].is_string());
    // Open: ten room heads would retry every second; the breaker lets one probe through per
    // cool-down (1 s, then 2 s) instead.
    let before = bad.count();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let probes = bad.count() - before;
    assert!(
        probes <= 3,
        "{probes} requests in 3 s while the breaker was open"
    );
    let disabled = told(&ops, "herald.endpoint.disabled").await;
    assert!(disabled["reason"]
        .as_str()
        .unwrap_or_default()
        .contains("failing continuously"));
    let shown = endpoint(&herald, &app, &ep).await;
    assert_eq!(shown["enabled"], false, "{shown}");
    let (_, _, list) = herald
        .call(
            "GET",
            &format!("/v1/apps/{app}/deliveries?endpoint={ep}&status=pending"),
            None,
        )
        .await;
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(ROOMS * PER_ROOM),
        "the backlog waits"
    );
    resume_in_order(&herald, &app, &ep, &bad, &ops).await;
    assert!(ops
        .got()
        .iter()
        .all(|r| r.json()["data"]["endpoint_id"] != ops_ep.as_str()));
}

/// Enabling the endpoint again delivers everything it held, each room in publish order.
async fn resume_in_order(herald: &Herald, app: &str, ep: &str, bad: &Receiver, ops: &Receiver) {
    bad.set_default(Reply::Status(200));
    let (s, _, shown) = herald
        .call(
            "PATCH",
            &format!("/v1/apps/{app}/endpoints/{ep}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, 200, "{shown}");
    assert_eq!(shown["health"]["state"], "closed");
    assert_eq!(
        told(ops, "herald.endpoint.enabled").await["endpoint_id"],
        ep
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let delivered = loop {
        let ok: Vec<Value> = bad
            .got()
            .iter()
            .filter(|r| r.replied == 200)
            .map(|r| r.json())
            .collect();
        if ok.len() >= ROOMS * PER_ROOM {
            break ok;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} delivered",
            ok.len(),
            ROOMS * PER_ROOM
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for room in 0..ROOMS {
        let order: Vec<u64> = delivered
            .iter()
            .filter_map(|e| e["data"]["n"].as_u64())
            .filter(|n| *n as usize % ROOMS == room)
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "room r{room} out of order");
    }
}

#[tokio::test]
async fn an_exhausted_delivery_is_announced_to_the_operational_endpoint_only() {
    let (_dir, herald) = start().await;
    let (bad, ops) = (Receiver::start().await, Receiver::start().await);
    bad.set_default(Reply::Status(503));
    let app = herald.create_app("standard").await;
    let (ops_ep, _) = herald
        .create_endpoint(
            &app,
            json!({"url": ops.url, "events": ["herald.delivery.exhausted"]}),
        )
        .await;
    let (ep, _) = herald
        .create_endpoint(&app, json!({"url": bad.url, "retry_schedule_s": []}))
        .await;
    let (_, published) = herald
        .publish(&app, json!({"type": "room.created", "data": {}}))
        .await;
    let exhausted = told(&ops, "herald.delivery.exhausted").await;
    assert_eq!(exhausted["endpoint_id"], ep.as_str());
    assert_eq!(exhausted["event_id"], published["id"]);
    assert_eq!(exhausted["attempts"], 1);
    assert_eq!(exhausted["last_status_code"], 503);
    // The failing endpoint does not get the news about itself, even subscribed to "*".
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bad.count(), 1);
    assert!(ops
        .got()
        .iter()
        .all(|r| r.json()["data"]["endpoint_id"] != ops_ep.as_str()));
    let (s, problem) = herald
        .publish(
            &app,
            json!({"type": "herald.endpoint.disabled", "data": {}}),
        )
        .await;
    assert_eq!(s, 422, "{problem}");
}
