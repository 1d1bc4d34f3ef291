//! Isolation under load: endpoints that hang hold their own share of the dispatch window and
//! nothing else, so the healthy endpoints beside them deliver as fast as without them.
//!
//! The run publishes three times as many deliveries as the default window (20,000) holds,
//! so that, without per-endpoint shares, the hanging endpoints' deliveries would fill it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::harness::{Herald, TempDir, ADMIN};
use crate::receiver::{Received, Receiver, Reply};

const ENDPOINTS: usize = 100;
const EVENTS: usize = 300;
const PUBLISHERS: usize = 8;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Publishes `EVENTS` events from `PUBLISHERS` tasks, each stamped with its publish time.
async fn publish_all(herald: &Herald, app: &str) {
    let url = Arc::new(format!("{}/v1/apps/{app}/events", herald.base));
    let mut tasks = Vec::new();
    for p in 0..PUBLISHERS {
        let (client, url) = (herald.client.clone(), Arc::clone(&url));
        tasks.push(tokio::spawn(async move {
            for n in (p..EVENTS).step_by(PUBLISHERS) {
                let body =
                    json!({"type": "participant.joined", "data": {"n": n, "sent_ms": now_ms()}});
                let resp = client
                    .post(url.as_str())
                    .bearer_auth(ADMIN)
                    .json(&body)
                    .send()
                    .await;
                let status = resp.map(|r| r.status().as_u16()).unwrap_or(0);
                assert_eq!(status, 202, "publish {n}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("publisher");
    }
}

/// Publish-to-receipt latencies in milliseconds, sorted.
fn latencies(got: &[Received]) -> Vec<u64> {
    let mut out: Vec<u64> = got
        .iter()
        .map(|r| {
            let sent = r.json()["data"]["sent_ms"].as_u64().unwrap_or(0);
            let at =
                r.at.duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
            at.saturating_sub(sent)
        })
        .collect();
    out.sort_unstable();
    out
}

fn p99(sorted: &[u64]) -> u64 {
    sorted
        .get((sorted.len() * 99 / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0)
}

/// One run: an app with `ENDPOINTS` healthy endpoints, plus as many hanging ones when
/// `hanging` is given; answers the healthy deliveries' p99 latency.
async fn run(herald: &Herald, hanging: Option<&Receiver>) -> u64 {
    let healthy = Receiver::start().await;
    let app = herald.create_app("standard").await;
    for _ in 0..ENDPOINTS {
        herald
            .create_endpoint(&app, json!({"url": healthy.url, "events": ["*"]}))
            .await;
        if let Some(stuck) = hanging {
            let body = json!({"url": stuck.url, "events": ["*"], "timeout_ms": 60_000});
            herald.create_endpoint(&app, body).await;
        }
    }
    publish_all(herald, &app).await;
    let got = healthy
        .wait_count(ENDPOINTS * EVENTS, Duration::from_secs(120))
        .await;
    if let Some(stuck) = hanging {
        // Every hanging request is still hanging: the healthy deliveries did not wait for
        // any of them to time out, and no endpoint exceeded its `max_in_flight` of 50.
        assert!(stuck.got().iter().all(|r| r.replied == 0));
        assert!(
            stuck.count() <= ENDPOINTS * 50,
            "{} in flight",
            stuck.count()
        );
    }
    p99(&latencies(&got))
}

#[tokio::test]
async fn hanging_endpoints_do_not_slow_healthy_ones() {
    let dir = TempDir::new("isolation-load");
    let herald = Herald::start(&dir.0);
    let stuck = Receiver::start().await;
    stuck.set_default(Reply::Hang);
    let alone = run(&herald, None).await;
    let beside_hanging = run(&herald, Some(&stuck)).await;
    eprintln!("healthy p99: {alone} ms alone, {beside_hanging} ms beside 100 hanging endpoints");
    assert!(
        beside_hanging <= (3 * alone).max(alone + 1000),
        "p99 {beside_hanging} ms beside hanging endpoints, {alone} ms without"
    );
}
