//! The circuit breaker across two nodes on one PostgreSQL database: once it opens, neither
//! node sends more than the one probe per cool-down between them, both show the same
//! `health`, and when the endpoint recovers both deliver what waited.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::db::needs_postgres;
use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

const BREAKER: [(&str, &str); 3] = [
    ("HERALD_BREAKER_FAILURES", "3"),
    ("HERALD_BREAKER_COOLDOWN", "2s"),
    ("HERALD_BREAKER_COOLDOWN_MAX", "2s"),
];

#[tokio::test]
async fn cluster_nodes_share_one_breaker() {
    if !needs_postgres() {
        return;
    }
    let dir = TempDir::new("cluster-breaker");
    let nodes = [
        Herald::start_with(&dir.0, &BREAKER),
        Herald::start_with(&dir.0, &BREAKER),
    ];
    let rx = Receiver::start().await;
    rx.set_default(Reply::Status(500));
    let app = nodes[0].create_app("standard").await;
    let (ep, _) = nodes[0]
        .create_endpoint(
            &app,
            json!({"url": rx.url, "retry_schedule_s": vec![1; 50]}),
        )
        .await;
    for n in 0..40u64 {
        let body = json!({"type": "room.created", "data": {"n": n}});
        assert_eq!(nodes[n as usize % 2].publish(&app, body).await.0, 202);
    }
    let path = format!("/v1/apps/{app}/endpoints/{ep}");
    for node in &nodes {
        node.wait_for(&path, Duration::from_secs(20), |v| {
            v["health"]["state"] != "closed"
        })
        .await;
    }
    // Both nodes have read the open breaker (settings are trusted 2 s); from then on one
    // probe per 2 s cool-down goes out between them, where 40 deliveries would retry every
    // second.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = rx.count();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let sent = rx.count() - before;
    assert!(
        sent <= 5,
        "{sent} requests in 6 s from two nodes while the breaker was open"
    );
    rx.set_default(Reply::Status(200));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok: std::collections::HashSet<u64> = rx
            .got()
            .iter()
            .filter(|r| r.replied == 200)
            .filter_map(|r| r.json()["data"]["n"].as_u64())
            .collect();
        if ok.len() == 40 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 40 delivered after recovery",
            ok.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for node in &nodes {
        let (_, _, shown) = node.call("GET", &path, None).await;
        assert_eq!(shown["health"]["state"], "closed", "{shown}");
    }
}
