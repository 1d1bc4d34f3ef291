//! Callers that stop waiting: a client that times out or hangs up while its publish or
//! resend is being committed must not leave what was committed held by a process that never
//! sends it. Here every publish to one ordered room, and every resend, is cut off after a
//! few milliseconds, at random points before and after the commit; whatever the store
//! holds afterwards must reach the receiver, the room must not stall behind a delivery, and
//! nothing may stay pending. The lease is an hour long, so a lost hand-over cannot heal by a
//! lease running out during the test.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{Herald, TempDir, ADMIN};
use crate::receiver::Receiver;

const CALLS: u64 = 150;

/// Sends `CALLS` requests built by `body_of`, each cut off `1 + n % 20` ms after it left;
/// answers how many were answered 202.
async fn cut_short(
    herald: &Herald,
    path: impl Fn(u64) -> String,
    body_of: impl Fn(u64) -> Value,
) -> usize {
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..CALLS {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(1 + n % 20))
            .build()
            .expect("client");
        let req = client
            .post(format!("{}{}", herald.base, path(n)))
            .bearer_auth(ADMIN)
            .json(&body_of(n));
        calls.spawn(async move { req.send().await.map(|r| r.status().as_u16()).ok() });
    }
    let mut acked = 0;
    while let Some(answer) = calls.join_next().await {
        acked += usize::from(matches!(answer, Ok(Some(202))));
    }
    acked
}

/// Waits (60 s at most) until nothing of `app` is pending; answers every delivery.
async fn settled(herald: &Herald, app: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let pending = format!("/v1/apps/{app}/deliveries?status=pending&limit=5");
    loop {
        let (_, _, page) = herald.call("GET", &pending, None).await;
        if page["data"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still pending, held by a process that does not send them: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    herald.list_all(&format!("/v1/apps/{app}/deliveries")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_is_committed_is_delivered_when_the_caller_hangs_up() {
    let dir = TempDir::new("hangups");
    let rx = Receiver::start().await;
    let herald = Herald::start_with(&dir.0, &[("HERALD_LEASE_S", "3600")]);
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(&app, json!({"url": rx.url, "ordering": "per_room"}))
        .await;

    let events = format!("/v1/apps/{app}/events");
    cut_short(
        &herald,
        |_| events.clone(),
        |n| json!({"type": "participant.joined", "data": {"n": n}, "labels": {"room_id": "r1"}}),
    )
    .await;
    // One answered publish last: the room must not stall behind anything committed before it.
    let (status, last) = herald
        .publish(
            &app,
            json!({"type": "participant.left", "labels": {"room_id": "r1"}}),
        )
        .await;
    assert_eq!(status, 202, "{last}");

    let deliveries = settled(&herald, &app).await;
    assert!(
        deliveries.iter().all(|d| d["status"] == "succeeded"),
        "{deliveries:?}"
    );
    let seen: HashSet<String> = rx
        .got()
        .iter()
        .filter_map(|r| r.header("webhook-id").map(str::to_owned))
        .collect();
    let stored: Vec<String> = deliveries
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        stored.iter().all(|id| seen.contains(id)),
        "{} stored, {} seen",
        stored.len(),
        seen.len()
    );

    // Resends cut short: each that was committed goes out, none stays pending.
    let resend = |n: u64| {
        let id = &stored[n as usize % stored.len()];
        format!("/v1/apps/{app}/deliveries/{id}/resend")
    };
    cut_short(&herald, resend, |_| json!({})).await;
    let after = settled(&herald, &app).await;
    assert_eq!(after.len(), stored.len());
}
