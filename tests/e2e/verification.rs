//! Verified endpoints: a receiver that answers the challenge, or Zoom's
//! `endpoint.url_validation` by Zoom's documented algorithm, gets its deliveries; one that
//! answers wrongly gets none and the endpoint says why; a new URL is verified again.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::harness::{python_on_request, Herald, TempDir};
use crate::receiver::{Answerer, Receiver, Reply};

/// Zoom's documented answer: hex HMAC-SHA256 of `plainToken` keyed by the secret token.
fn zoom_answer(secret: &str, plain: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(plain.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A receiver that answers verification requests with `answer` and takes everything else.
async fn receiver(answer: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Receiver {
    let rx = Receiver::start().await;
    rx.set_default(Reply::Answer(Answerer(Arc::new(move |body: &[u8]| {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        answer(&v).to_string()
    }))));
    rx
}

async fn endpoint(herald: &Herald, app: &str, body: Value) -> (String, String) {
    let (status, _, ep) = herald
        .call("POST", &format!("/v1/apps/{app}/endpoints"), Some(body))
        .await;
    assert_eq!(status, 201, "{ep}");
    (
        ep["id"].as_str().expect("id").into(),
        ep["secret"].as_str().expect("secret").into(),
    )
}

/// The endpoint once its verification settled (not pending).
async fn settled(herald: &Herald, app: &str, ep: &str) -> Value {
    let path = format!("/v1/apps/{app}/endpoints/{ep}");
    herald
        .wait_for(&path, Duration::from_secs(20), |v| {
            v["verification_state"]["status"] != "pending"
        })
        .await
}

async fn publish(herald: &Herald, app: &str) {
    let (status, ack) = herald
        .publish(
            app,
            json!({"type": "room.created", "data": {"name": "main"}}),
        )
        .await;
    assert_eq!(status, 202, "{ack}");
}

/// The requests `rx` got that were deliveries, not verification.
fn deliveries(rx: &Receiver) -> usize {
    rx.got()
        .iter()
        .filter(|r| r.json()["type"] == "room.created")
        .count()
}

#[tokio::test]
async fn a_challenge_must_be_echoed_before_deliveries_flow() {
    let dir = TempDir::new("verify-challenge");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let good = receiver(|v| json!({"challenge": v["challenge"]})).await;
    let bad = receiver(|_| json!({"challenge": "something else"})).await;
    let (ok_ep, secret) = endpoint(
        &herald,
        &app,
        json!({"url": good.url, "verification": "challenge"}),
    )
    .await;
    let (bad_ep, _) = endpoint(
        &herald,
        &app,
        json!({"url": bad.url, "verification": "challenge"}),
    )
    .await;
    publish(&herald, &app).await;

    let ep = settled(&herald, &app, &ok_ep).await;
    assert_eq!(ep["verification_state"]["status"], "verified", "{ep}");
    let challenge = good.got()[0].clone();
    assert_eq!(challenge.json()["type"], "endpoint.verification");
    let (signed, out) = python_on_request("verify_standard.py", &[&secret], &challenge);
    assert!(
        signed,
        "the challenge was not signed as a delivery is: {out}"
    );
    good.wait_count(2, Duration::from_secs(20)).await;
    assert_eq!(deliveries(&good), 1);

    let ep = settled(&herald, &app, &bad_ep).await;
    let state = &ep["verification_state"];
    assert_eq!(state["status"], "failed", "{ep}");
    assert!(
        state["reason"].as_str().unwrap_or("").contains("challenge"),
        "{ep}"
    );
    assert_eq!(state["last_attempt"]["status_code"], 200, "{ep}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(deliveries(&bad), 0, "an unverified endpoint got a delivery");

    // A new URL starts verification over; the delivery that waited then flows.
    let path = format!("/v1/apps/{app}/endpoints/{bad_ep}");
    let (status, _, ep) = herald
        .call("PATCH", &path, Some(json!({"url": good.url})))
        .await;
    assert_eq!(
        (status, &ep["verification_state"]["status"]),
        (200, &json!("pending")),
        "{ep}"
    );
    let ep = settled(&herald, &app, &bad_ep).await;
    assert_eq!(ep["verification_state"]["status"], "verified", "{ep}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while deliveries(&good) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the waiting delivery never came"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn zoom_url_validation_is_answered_by_the_documented_algorithm() {
    let dir = TempDir::new("verify-zoom");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let secret = "zoom-secret-token-0123456789abcdef";
    let answer = |key: &'static str| {
        move |v: &Value| {
            let plain = v["payload"]["plainToken"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            json!({"plainToken": plain, "encryptedToken": zoom_answer(key, &plain)})
        }
    };
    let good = receiver(answer(secret)).await;
    let bad = receiver(answer("not-the-secret-token-0123456789")).await;
    let body = |url: &str| json!({"url": url, "verification": "zoom", "format": "sendbird", "secret": secret});
    let (ok_ep, _) = endpoint(&herald, &app, body(&good.url)).await;
    let (bad_ep, _) = endpoint(&herald, &app, body(&bad.url)).await;
    publish(&herald, &app).await;

    let ep = settled(&herald, &app, &ok_ep).await;
    assert_eq!(ep["verification_state"]["status"], "verified", "{ep}");
    let validation = good.got()[0].clone();
    assert_eq!(validation.json()["event"], "endpoint.url_validation");
    // Zoom signs the request: v0=hex HMAC-SHA256(secret, "v0:{timestamp}:{body}").
    let ts = validation
        .header("x-zm-request-timestamp")
        .expect("timestamp");
    let signed = format!("v0:{ts}:{}", String::from_utf8_lossy(&validation.body));
    let want = format!("v0={}", zoom_answer(secret, &signed));
    assert_eq!(validation.header("x-zm-signature"), Some(want.as_str()));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while good.count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery after verification"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let ep = settled(&herald, &app, &bad_ep).await;
    let state = &ep["verification_state"];
    assert_eq!(state["status"], "failed", "{ep}");
    assert!(
        state["reason"]
            .as_str()
            .unwrap_or("")
            .contains("encryptedToken"),
        "{ep}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        bad.count(),
        1,
        "an unverified endpoint got more than its validation"
    );
}
