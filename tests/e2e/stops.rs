//! Stops in the middle of long-running work: a graceful stop while an endpoint's breaker is
//! cooling down, or while the retention purge is under way, hands everything back, and the
//! next start picks it up.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

/// Stops `herald` with SIGTERM and checks that it exits cleanly.
fn stop(mut herald: Herald) {
    let pid = herald.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    let status = herald.child.wait().expect("wait");
    assert!(status.success(), "herald did not stop cleanly: {status}");
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const BREAKER: [(&str, &str); 3] = [
    ("HERALD_BREAKER_FAILURES", "2"),
    ("HERALD_BREAKER_COOLDOWN", "3s"),
    ("HERALD_BREAKER_COOLDOWN_MAX", "3s"),
];

#[tokio::test]
async fn a_stop_during_a_breaker_cool_down_resumes_on_the_next_start() {
    let dir = TempDir::new("stop-cooldown");
    let rx = Receiver::start().await;
    rx.set_default(Reply::Status(500));
    let herald = Herald::start_with(&dir.0, &BREAKER);
    let app = herald.create_app("standard").await;
    let (ep, _) = herald
        .create_endpoint(
            &app,
            json!({"url": rx.url, "retry_schedule_s": vec![1; 30]}),
        )
        .await;
    for n in 0..10 {
        herald
            .publish(&app, json!({"type": "room.created", "data": {"n": n}}))
            .await;
    }
    let path = format!("/v1/apps/{app}/endpoints/{ep}");
    herald
        .wait_for(&path, Duration::from_secs(20), |v| {
            v["health"]["state"] == "open"
        })
        .await;
    stop(herald);
    rx.set_default(Reply::Status(200));
    let herald = Herald::start_with(&dir.0, &BREAKER);
    wait_until(
        "every held delivery arrives after the restart",
        async || {
            let got: std::collections::HashSet<u64> = rx
                .got()
                .iter()
                .filter(|r| r.replied == 200)
                .filter_map(|r| r.json()["data"]["n"].as_u64())
                .collect();
            got.len() == 10
        },
    )
    .await;
    let (_, _, shown) = herald.call("GET", &path, None).await;
    assert_eq!(shown["health"]["state"], "closed", "{shown}");
}

/// Events purged so far, from `/metrics`.
async fn purged(herald: &Herald) -> u64 {
    let text = herald
        .client
        .get(format!("{}/metrics", herald.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("herald_purged_total{what=\"events\"} "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

async fn event_count(herald: &Herald, app: &str) -> usize {
    let (_, _, list) = herald
        .call("GET", &format!("/v1/apps/{app}/events?limit=250"), None)
        .await;
    list["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_stop_during_a_purge_resumes_on_the_next_start() {
    let dir = TempDir::new("stop-purge");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    for batch in 0..50 {
        let events: Vec<_> = (0..100)
            .map(|n| json!({"type": "room.created", "data": {"n": batch * 100 + n}}))
            .collect();
        let (s, _, _) = herald
            .call(
                "POST",
                &format!("/v1/apps/{app}/events/batch"),
                Some(json!({"events": events})),
            )
            .await;
        assert_eq!(s, 202);
    }
    stop(herald);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let short = [("HERALD_RETENTION_EVENTS", "1s")];
    let herald = Herald::start_with(&dir.0, &short);
    // Stop as soon as the purge has begun.
    wait_until("the purge begins", async || purged(&herald).await > 0).await;
    stop(herald);
    let herald = Herald::start_with(&dir.0, &short);
    wait_until("the next start finishes the purge", async || {
        event_count(&herald, &app).await == 0
    })
    .await;
}
