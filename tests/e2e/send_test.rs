//! `POST .../endpoints/{ep}/test`: one example event of the app's catalog, sent now and
//! signed like any delivery, answered with the attempt; nothing is stored.

use serde_json::{json, Value};

use crate::harness::{python_on_request, Herald, TempDir};
use crate::receiver::{Receiver, Reply};

async fn test_event(herald: &Herald, app: &str, ep: &str, body: Option<Value>) -> (u16, Value) {
    let path = format!("/v1/apps/{app}/endpoints/{ep}/test");
    let (status, _, v) = herald.call("POST", &path, body).await;
    (status, v)
}

#[tokio::test]
async fn a_test_event_is_sent_signed_and_answered_with_its_attempt() {
    let dir = TempDir::new("send-test");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    let body = json!({"url": rx.url, "events": ["participant.joined"]});
    let (ep, secret) = herald.create_endpoint(&app, body).await;

    let (status, sent) = test_event(&herald, &app, &ep, None).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["type"], "participant.joined", "{sent}");
    assert_eq!(sent["attempt"]["status_code"], 200, "{sent}");
    let got = rx.got();
    assert_eq!(got.len(), 1);
    let (ok, out) = python_on_request("verify_standard.py", &[&secret], &got[0]);
    assert!(ok, "standardwebhooks rejected the test event: {out}");
    let delivered = got[0].json();
    assert_eq!(
        (&delivered["type"], &delivered["data"]["example"]),
        (&json!("participant.joined"), &json!(true))
    );

    let (status, sent) = test_event(
        &herald,
        &app,
        &ep,
        Some(json!({"type": "recording.started"})),
    )
    .await;
    assert_eq!(
        (status, &sent["type"]),
        (200, &json!("recording.started")),
        "{sent}"
    );
    rx.set_default(Reply::Text(500, "not today"));
    let (status, sent) = test_event(&herald, &app, &ep, Some(json!({}))).await;
    assert_eq!(status, 200, "{sent}");
    let attempt = &sent["attempt"];
    assert_eq!(
        (&attempt["status_code"], &attempt["error_kind"]),
        (&json!(500), &json!("http_status")),
        "{sent}"
    );
    assert_eq!(attempt["response_body"], "not today", "{sent}");
    let (_, _, log) = herald
        .call("GET", &format!("/v1/apps/{app}/deliveries"), None)
        .await;
    assert_eq!(log["data"], json!([]), "a test event was stored: {log}");

    let (status, problem) = test_event(
        &herald,
        &app,
        &ep,
        Some(json!({"type": "participant.joind"})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem.to_string().contains("participant.joined"),
        "{problem}"
    );
    let (status, _, poller) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/endpoints"),
            Some(json!({"kind": "polling"})),
        )
        .await;
    assert_eq!(status, 201, "{poller}");
    let polling = poller["id"].as_str().expect("id");
    let (status, problem) = test_event(&herald, &app, polling, None).await;
    assert_eq!(status, 409, "{problem}");
}

#[tokio::test]
async fn every_preset_sends_an_example_its_format_can_render() {
    let dir = TempDir::new("send-test-presets");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    // Each format has a preset of the same name.
    for preset in crate::fidelity::FORMATS {
        let app = herald.create_app(preset).await;
        let (ep, _) = herald.create_endpoint(&app, json!({"url": rx.url})).await;
        let (status, sent) = test_event(&herald, &app, &ep, None).await;
        assert_eq!(status, 200, "{preset}: {sent}");
        assert_eq!(sent["attempt"]["status_code"], 200, "{preset}: {sent}");
    }
    assert_eq!(rx.count(), 6);
}
