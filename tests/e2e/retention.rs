//! Retention: with its periods shortened to seconds, Herald purges old events with their
//! deliveries and attempts, blanks old response bodies, and keeps every event that still
//! has a delivery pending.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

async fn deliveries_of(herald: &Herald, app: &str, event: &str) -> Vec<Value> {
    let (_, _, list) = herald
        .call(
            "GET",
            &format!("/v1/apps/{app}/deliveries?event={event}"),
            None,
        )
        .await;
    list["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn old_events_go_and_pending_ones_stay() {
    let dir = TempDir::new("retention");
    let herald = Herald::start_with(
        &dir.0,
        &[
            ("HERALD_RETENTION_EVENTS", "3s"),
            ("HERALD_RETENTION_ATTEMPT_BODIES", "2s"),
        ],
    );
    let (ok, failing) = (Receiver::start().await, Receiver::start().await);
    ok.set_default(Reply::Text(200, "thanks, got it"));
    failing.set_default(Reply::Text(500, "down"));
    let app = herald.create_app("standard").await;
    herald.create_endpoint(&app, json!({"url": ok.url})).await;
    // Only room r1 reaches the failing endpoint, which retries in an hour: pending.
    herald
        .create_endpoint(
            &app,
            json!({"url": failing.url, "retry_schedule_s": [3600],
                   "filter": {"labels": {"room_id": "r1"}}}),
        )
        .await;
    let publish = |room: &'static str| {
        let body = json!({"type": "room.created", "data": {}, "labels": {"room_id": room}});
        async {
            herald.publish(&app, body).await.1["id"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    let kept = publish("r1").await;
    let gone = publish("r2").await;
    ok.wait_count(2, Duration::from_secs(10)).await;
    failing.wait_count(1, Duration::from_secs(10)).await;
    let events = format!("/v1/apps/{app}/events/{gone}");
    herald
        .wait_for(&events, Duration::from_secs(30), |v| v["status"] == 404)
        .await;
    assert!(deliveries_of(&herald, &app, &gone).await.is_empty());
    let (status, _, _) = herald
        .call("GET", &format!("/v1/apps/{app}/events/{kept}"), None)
        .await;
    assert_eq!(status, 200, "an event with a pending delivery was purged");
    let kept_deliveries = deliveries_of(&herald, &app, &kept).await;
    assert_eq!(kept_deliveries.len(), 2);
    assert!(kept_deliveries.iter().any(|d| d["status"] == "pending"));
    for d in &kept_deliveries {
        let path = format!(
            "/v1/apps/{app}/deliveries/{}",
            d["id"].as_str().expect("id")
        );
        let detail = herald
            .wait_for(&path, Duration::from_secs(10), |v| {
                v["attempts"][0]["response_body"] == ""
            })
            .await;
        assert!(detail["attempts"][0]["status_code"].is_number(), "{detail}");
    }
    let metrics = herald
        .client
        .get(format!("{}/metrics", herald.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("herald_purged_total{what=\"events\"} 1"),
        "{metrics}"
    );
    // The label index lost the purged event's rows and kept the others.
    for (room, rows) in [("r2", "0"), ("r1", "1")] {
        let sql = format!("SELECT count(*) FROM event_labels WHERE value = '{room}'");
        assert_eq!(dir.1.scalar(&sql), rows, "{sql}");
    }
    let (_, _, by_room) = herald
        .call(
            "GET",
            &format!("/v1/apps/{app}/events?label.room_id=r1"),
            None,
        )
        .await;
    assert_eq!(by_room["data"][0]["id"], kept.as_str(), "{by_room}");
}
