//! Delivery, signatures, retries and idempotency.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Herald, TempDir};
use crate::receiver::{Received, Receiver, Reply};

/// Runs the `standardwebhooks` library (PyPI) over a received request.
fn verified_by_library(secret: &str, req: &Received, _dir: &std::path::Path) -> (bool, String) {
    crate::harness::python_on_request("verify_standard.py", &[secret], req)
}

#[tokio::test]
async fn published_event_arrives_once_signed_for_standardwebhooks() {
    let dir = TempDir::new("standard");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("digitalsamba").await;
    let (_, secret) = herald
        .create_endpoint(
            &app,
            json!({"url": rx.url, "events": ["*"], "format": "standard"}),
        )
        .await;
    let (status, ack) = herald
        .publish(&app, json!({"type": "participant_joined", "data": {"name": "Ada Lovelace", "city": "Zürich"}, "labels": {"room_id": "r1"}}))
        .await;
    assert_eq!(status, 202, "{ack}");
    assert_eq!(ack["deliveries"], 1);
    let got = rx.wait_count(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.count(), 1, "delivered more than once");
    let req = &got[0];
    assert_eq!(req.json()["type"], "participant_joined");
    assert_eq!(req.json()["data"]["city"], "Zürich");
    assert!(req
        .header("webhook-id")
        .is_some_and(|id| id.starts_with("dlv_")));
    let (ok, out) = verified_by_library(&secret, req, &dir.0);
    assert!(ok, "standardwebhooks rejected a genuine request: {out}");
    // The same library must reject it under another secret: the check can fail.
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (ok, _) = verified_by_library(other, req, &dir.0);
    assert!(!ok, "a wrong secret verified");
    let mut tampered = req.clone();
    tampered.body = br#"{"type":"participant_joined","timestamp":"x","data":{}}"#.to_vec();
    let (ok, _) = verified_by_library(&secret, &tampered, &dir.0);
    assert!(!ok, "a tampered body verified");
}

#[tokio::test]
async fn rotated_secret_signs_with_old_and_new() {
    let dir = TempDir::new("rotate");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    let (ep, old) = herald.create_endpoint(&app, json!({"url": rx.url})).await;
    let (status, _, rotated) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/endpoints/{ep}/secret/rotate"),
            Some(json!({"grace_period_s": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(old, new);
    herald
        .publish(&app, json!({"type": "room.created", "data": {}}))
        .await;
    let got = rx.wait_count(1, Duration::from_secs(10)).await;
    let sigs = got[0]
        .header("webhook-signature")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(sigs.split(' ').count(), 2, "{sigs}");
    assert!(
        verified_by_library(&old, &got[0], &dir.0).0,
        "old secret does not verify"
    );
    assert!(
        verified_by_library(&new, &got[0], &dir.0).0,
        "new secret does not verify"
    );
}

#[tokio::test]
async fn failures_are_retried_with_one_webhook_id_until_success() {
    let dir = TempDir::new("retry");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.script(vec![Reply::Status(500), Reply::Status(503)]);
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(
            &app,
            json!({"url": rx.url, "retry_schedule_s": [0, 1, 1, 1]}),
        )
        .await;
    let (_, ack) = herald
        .publish(&app, json!({"type": "session.started", "data": {"n": 1}}))
        .await;
    let got = rx.wait_count(3, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(rx.count(), 3, "a fourth request after success");
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap_or_default().to_owned())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let event = ack["id"].as_str().expect("event id");
    let list = herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries?event={event}"),
            Duration::from_secs(5),
            |v| v["data"][0]["status"] == "succeeded",
        )
        .await;
    let dlv = list["data"][0]["id"].as_str().expect("delivery id");
    assert_eq!(dlv, ids[0]);
    let (_, _, detail) = herald
        .call("GET", &format!("/v1/apps/{app}/deliveries/{dlv}"), None)
        .await;
    let codes: Vec<_> = detail["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["status_code"].clone())
        .collect();
    assert_eq!(codes, vec![json!(500), json!(503), json!(200)]);
    assert_eq!(detail["attempts"][0]["error_kind"], "http_status");
    assert_eq!(detail["attempts"][2]["error_kind"], serde_json::Value::Null);
    assert_eq!(detail["attempt_count"], 3);
}

/// A retry due at once goes again from memory, without the store's poller: with the poller
/// asleep for ten minutes, the two retries still come, and the log holds all three attempts.
#[tokio::test]
async fn an_immediate_retry_does_not_wait_for_the_poller() {
    let dir = TempDir::new("retry-now");
    let herald = Herald::start_with(&dir.0, &[("HERALD_POLL_INTERVAL_MS", "600000")]);
    let rx = Receiver::start().await;
    rx.script(vec![Reply::Status(500), Reply::Status(502)]);
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(&app, json!({"url": rx.url, "retry_schedule_s": [0, 0]}))
        .await;
    let (_, ack) = herald
        .publish(&app, json!({"type": "session.started", "data": {"n": 1}}))
        .await;
    rx.wait_count(3, Duration::from_secs(30)).await;
    let event = ack["id"].as_str().expect("event id");
    let list = herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries?event={event}"),
            Duration::from_secs(10),
            |v| v["data"][0]["status"] == "succeeded",
        )
        .await;
    assert_eq!(list["data"][0]["attempt_count"], 3, "{list}");
}

#[tokio::test]
async fn same_idempotency_key_yields_one_event_and_one_delivery() {
    let dir = TempDir::new("idem");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    herald.create_endpoint(&app, json!({"url": rx.url})).await;
    let body = json!({"type": "room.created", "data": {"room": "r1"}, "idempotency_key": "room-r1-created"});
    let (s1, first) = herald.publish(&app, body.clone()).await;
    let (s2, second) = herald.publish(&app, body).await;
    assert_eq!((s1, s2), (202, 200));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["duplicate"], true);
    rx.wait_count(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.count(), 1);
    let (_, _, events) = herald
        .call("GET", &format!("/v1/apps/{app}/events"), None)
        .await;
    assert_eq!(events["data"].as_array().map(Vec::len), Some(1));
    let (_, _, dl) = herald
        .call("GET", &format!("/v1/apps/{app}/deliveries"), None)
        .await;
    assert_eq!(dl["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_hanging_endpoint_does_not_delay_another() {
    let dir = TempDir::new("isolation");
    let herald = Herald::start(&dir.0);
    let stuck = Receiver::start().await;
    stuck.set_default(Reply::Hang);
    let healthy = Receiver::start().await;
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(
            &app,
            json!({"url": stuck.url, "timeout_ms": 20000, "max_in_flight": 2}),
        )
        .await;
    herald
        .create_endpoint(&app, json!({"url": healthy.url}))
        .await;
    let started = std::time::Instant::now();
    for n in 0..30 {
        let (s, _) = herald
            .publish(
                &app,
                json!({"type": "participant.joined", "data": {"n": n}}),
            )
            .await;
        assert_eq!(s, 202);
    }
    // Every healthy delivery arrives while the stuck endpoint's first requests still hang
    // (they time out only after 20 s).
    healthy.wait_count(30, Duration::from_secs(15)).await;
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        stuck.count() <= 2,
        "more requests in flight than max_in_flight: {}",
        stuck.count()
    );
}

#[tokio::test]
async fn slow_receiver_times_out_and_is_logged() {
    let dir = TempDir::new("timeout");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.script(vec![Reply::Slow(Duration::from_secs(3), 200)]);
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(
            &app,
            json!({"url": rx.url, "timeout_ms": 500, "retry_schedule_s": [0]}),
        )
        .await;
    herald
        .publish(&app, json!({"type": "room.created", "data": {}}))
        .await;
    let detail = herald.newest_delivery(&app, "succeeded").await;
    assert_eq!(detail["attempts"][0]["error_kind"], "timeout");
    assert_eq!(detail["attempts"][1]["status_code"], 200);
    let headers = &detail["attempts"][0]["request_headers"];
    assert_eq!(headers["webhook-signature"], "[redacted]");
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_logged_as_tls() {
    let dir = TempDir::new("tls-kind");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let url = rx.url.replacen("http://", "https://", 1);
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(&app, json!({"url": url, "retry_schedule_s": [0]}))
        .await;
    herald
        .publish(&app, json!({"type": "room.created", "data": {}}))
        .await;
    let detail = herald.newest_delivery(&app, "failed").await;
    for attempt in detail["attempts"].as_array().expect("attempts") {
        assert_eq!(attempt["error_kind"], "tls", "{attempt}");
    }
    assert_eq!(rx.count(), 0, "a TLS handshake was answered as HTTP");
}

#[tokio::test]
async fn rate_limit_per_endpoint_spaces_out_deliveries() {
    let dir = TempDir::new("ratelimit");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(&app, json!({"url": rx.url, "rate_limit_per_s": 5}))
        .await;
    let started = std::time::Instant::now();
    for n in 0..15 {
        herald
            .publish(&app, json!({"type": "room.created", "data": {"n": n}}))
            .await;
    }
    rx.wait_count(15, Duration::from_secs(20)).await;
    // A bucket of 5 refilled at 5 per second: the last 10 need at least 2 s between them.
    assert!(
        started.elapsed() >= Duration::from_millis(1800),
        "15 deliveries in {:?}",
        started.elapsed()
    );
}
