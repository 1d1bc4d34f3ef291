//! Every wire format, checked by an independent receiver where one exists (`livekit-api`)
//! and by the platform's documented algorithm otherwise, and by `herald verify`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::harness::{herald_verify, python_on_request, Herald, TempDir};
use crate::receiver::{Received, Receiver, Reply};

/// `herald verify` accepts the genuine request and rejects a changed one with a reason.
fn cli_accepts_genuine_and_rejects_tampered(
    format: &str,
    secret: &str,
    key: Option<&str>,
    req: &Received,
) {
    let (ok, out) = herald_verify(format, secret, key, &req.headers, &req.body, None);
    assert!(
        ok,
        "{format}: herald verify rejected a genuine delivery: {out}"
    );
    // Change content, not just spacing: Attendee's documented check re-serialises the body.
    let mut tampered = req.body.clone();
    if let Some(i) = tampered.iter().position(|b| *b == b'e') {
        tampered[i] = b'E';
    }
    if format != "digitalsamba" {
        let (ok, out) = herald_verify(format, secret, key, &req.headers, &tampered, None);
        assert!(
            !ok && out.starts_with("invalid:"),
            "{format}: a tampered body verified: {out}"
        );
    }
    // A well-formed secret of the right shape, just not the endpoint's: the signature
    // check itself must catch it, not the secret's parser.
    let wrong = match format {
        "standard" => "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "attendee" => "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        _ => "a-wrong-secret-of-some-length-AAAA",
    };
    let (ok, out) = herald_verify(format, wrong, key, &req.headers, &req.body, None);
    assert!(
        !ok && out.starts_with("invalid:") && !out.contains("invalid secret"),
        "{format}: a wrong secret verified, or was refused for its shape: {out}"
    );
}

async fn one_delivery(
    herald: &Herald,
    preset: &str,
    endpoint: Value,
    event: Value,
) -> (Received, Value) {
    let rx = Receiver::start().await;
    let app = herald.create_app(preset).await;
    let mut endpoint = endpoint;
    endpoint["url"] = json!(rx.url);
    let (status, _, ep) = herald
        .call("POST", &format!("/v1/apps/{app}/endpoints"), Some(endpoint))
        .await;
    assert_eq!(status, 201, "{ep}");
    let (status, ack) = herald.publish(&app, event).await;
    assert_eq!(status, 202, "{ack}");
    let got = rx.wait_count(1, Duration::from_secs(10)).await;
    (got[0].clone(), ep)
}

#[tokio::test]
async fn livekit_and_plugnmeet_verify_with_livekit_api() {
    let dir = TempDir::new("livekit");
    let herald = Herald::start(&dir.0);
    let event = json!({
        "type": "participant_joined",
        "data": {"room": {"name": "r1", "sid": "RM_1"}, "participant": {"identity": "alice", "sid": "PA_1"}},
        "labels": {"room_id": "r1"}
    });
    for format in ["livekit", "plugnmeet"] {
        let secret = "lk-secret-0123456789abcdef0123";
        let endpoint = json!({"format": format, "secret": secret, "api_key": "APIherald"});
        let (req, ep) = one_delivery(&herald, format, endpoint, event.clone()).await;
        assert_eq!(ep["api_key"], "APIherald");
        let auth = req.header("authorization").unwrap_or_default().to_owned();
        assert!(!auth.starts_with("Bearer"), "{auth}");
        if format == "plugnmeet" {
            assert_eq!(req.header("hash-token"), Some(auth.as_str()));
            assert_eq!(ep["ordering"], "per_room");
        } else {
            assert_eq!(req.header("content-type"), Some("application/webhook+json"));
        }
        let (ok, out) =
            python_on_request("livekit_tool.py", &["verify", "APIherald", secret], &req);
        assert!(ok, "{format}: livekit-api rejected it: {out}");
        let line = out.lines().find(|l| l.starts_with('{')).unwrap_or_default();
        let parsed: Value = serde_json::from_str(line).expect("parsed event");
        assert_eq!(parsed["event"], "participant_joined");
        assert_eq!(parsed["room"], "r1");
        assert_eq!(parsed["participant"], "alice");
        assert!(parsed["id"]
            .as_str()
            .unwrap_or_default()
            .starts_with("evt_"));
        let (ok, _) = python_on_request(
            "livekit_tool.py",
            &["verify", "APIherald", "another-secret-0123456789"],
            &req,
        );
        assert!(!ok, "{format}: livekit-api accepted a wrong secret");
        let mut tampered = req.clone();
        tampered.body = req
            .body
            .iter()
            .copied()
            .map(|b| if b == b'1' { b'2' } else { b })
            .collect();
        let (ok, _) = python_on_request(
            "livekit_tool.py",
            &["verify", "APIherald", secret],
            &tampered,
        );
        assert!(!ok, "{format}: livekit-api accepted a tampered body");
        cli_accepts_genuine_and_rejects_tampered(format, secret, Some("APIherald"), &req);
        let later = chrono::Utc::now().timestamp() + 3600;
        let (ok, out) = herald_verify(format, secret, None, &req.headers, &req.body, Some(later));
        assert!(
            !ok && out.contains("expired"),
            "{format}: an expired token verified: {out}"
        );
    }
}

#[tokio::test]
async fn attendee_verifies_by_the_documented_algorithm_and_over_the_raw_body() {
    let dir = TempDir::new("attendee");
    let herald = Herald::start(&dir.0);
    let event = json!({
        "type": "bot.state_change",
        "data": {"new_state": "ended", "old_state": "post_processing", "event_type": "post_processing_completed",
                 "event_sub_type": null, "ratio": 1e-7, "big": 1e21, "zero": -0.0, "name": "Zoë 🚀", "ctl": "tab\there"},
        "labels": {"bot_id": "bot_7"},
        "metadata": {"team": "café"}
    });
    let (req, ep) = one_delivery(&herald, "attendee", json!({}), event).await;
    let secret = ep["secret"].as_str().expect("secret").to_owned();
    let body = req.json();
    assert_eq!(body["trigger"], "bot.state_change");
    assert_eq!(body["bot_id"], "bot_7");
    assert_eq!(body["bot_metadata"]["team"], "café");
    assert_eq!(body["idempotency_key"].as_str().map(str::len), Some(36));
    let (ok, out) = python_on_request("verify_attendee.py", &[&secret], &req);
    assert!(ok, "Attendee's algorithm rejected it: {out}");
    let (ok, _) = python_on_request(
        "verify_attendee.py",
        &["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="],
        &req,
    );
    assert!(!ok, "a wrong secret verified");
    cli_accepts_genuine_and_rejects_tampered("attendee", &secret, None, &req);
}

#[tokio::test]
async fn sendbird_signs_the_raw_body_and_gives_up_after_three_slow_answers() {
    let dir = TempDir::new("sendbird");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.set_default(Reply::Slow(Duration::from_secs(2), 200));
    let app = herald.create_app("sendbird").await;
    let token = "1f2e3d4c5b6a79880796a5b4c3d2e1f0a9b8c7d6";
    let (_, _, ep) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/endpoints"),
            Some(json!({"url": rx.url, "secret": token})),
        )
        .await;
    assert_eq!(
        (ep["format"].as_str(), ep["timeout_ms"].as_u64()),
        (Some("sendbird"), Some(1000))
    );
    let (s, _) = herald
        .publish(&app, json!({"type": "room:participant_enter", "data": {"room_id": "r2", "participant": {"user_id": "u1"}}}))
        .await;
    assert_eq!(s, 202);
    rx.wait_count(3, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let got = rx.got();
    assert_eq!(
        got.len(),
        3,
        "a receiver answering after 2 s must get exactly 3 requests"
    );
    let req = &got[0];
    assert_eq!(req.json()["category"], "room:participant_enter");
    assert_eq!(req.json()["room_id"], "r2");
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("key");
    mac.update(&req.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(req.header("x-sendbird-signature"), Some(hex.as_str()));
    cli_accepts_genuine_and_rejects_tampered("sendbird", token, None, req);
    let list = herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries"),
            Duration::from_secs(5),
            |v| v["data"][0]["status"] == "failed",
        )
        .await;
    assert_eq!(list["data"][0]["attempt_count"], 3);
}

#[tokio::test]
async fn digitalsamba_sends_its_bearer_token_and_body_fields() {
    let dir = TempDir::new("digitalsamba");
    let herald = Herald::start(&dir.0);
    let event = json!({
        "type": "participant_joined",
        "data": {"participantId": "p1", "name": "Ada Lovelace", "role": "moderator"},
        "labels": {"room_id": "r1", "session_id": "s1"},
        "occurred_at": "2026-11-22T10:00:00Z"
    });
    let (req, ep) = one_delivery(
        &herald,
        "digitalsamba",
        json!({"authorization_header": "s3cr3t-token"}),
        event,
    )
    .await;
    assert_eq!(ep["format"], "digitalsamba");
    assert_eq!(req.header("authorization"), Some("Bearer s3cr3t-token"));
    let body = req.json();
    assert_eq!(body["eventType"], "participant_joined");
    assert_eq!(body["roomId"], "r1");
    assert_eq!(body["sessionId"], "s1");
    assert_eq!(body["timestamp"], 1795341600);
    assert_eq!(body["data"]["participantId"], "p1");
    cli_accepts_genuine_and_rejects_tampered("digitalsamba", "s3cr3t-token", None, &req);
}

#[tokio::test]
async fn standard_verify_cli_rejects_an_old_timestamp() {
    let dir = TempDir::new("stdcli");
    let herald = Herald::start(&dir.0);
    let (req, ep) = one_delivery(
        &herald,
        "standard",
        json!({}),
        json!({"type": "room.created", "data": {}}),
    )
    .await;
    let secret = ep["secret"].as_str().expect("secret");
    cli_accepts_genuine_and_rejects_tampered("standard", secret, None, &req);
    let later = chrono::Utc::now().timestamp() + 3600;
    let (ok, out) = herald_verify(
        "standard",
        secret,
        None,
        &req.headers,
        &req.body,
        Some(later),
    );
    assert!(!ok && out.contains("timestamp"), "{out}");
}
