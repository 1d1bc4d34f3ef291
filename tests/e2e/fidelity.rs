//! Data fidelity: every format delivers exactly the value published, or the publish is
//! refused with a 422 naming the field. `standard` and `digitalsamba` must carry the
//! published bytes; the formats that rearrange `data` must carry the same value as Python's
//! `json.loads` reads it, and Attendee's signature must verify by its documented algorithm.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{rand_suffix, Herald, TempDir, ADMIN};
use crate::receiver::Receiver;

pub const FORMATS: [&str; 6] = [
    "standard",
    "digitalsamba",
    "attendee",
    "livekit",
    "plugnmeet",
    "sendbird",
];

/// Each value published as `data.v`, and the refusal expected, if any.
fn cases() -> Vec<(String, Option<&'static str>)> {
    let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    vec![
        ("1e999".into(), Some("data.v: number out of range")),
        ("-0".into(), None),
        ("-0.0".into(), None),
        ("1.0".into(), None),
        ("1e21".into(), None),
        ("1e-7".into(), None),
        ("9007199254740993".into(), None),
        ("18446744073709551617".into(), None),
        ("-9223372036854775809".into(), None),
        // `data` is one level; 63 arrays inside it make 64, the limit.
        (nested(63), None),
        (nested(64), Some("data: nested deeper than 64 levels")),
        (nested(300), Some("data: nested deeper than 64 levels")),
        (r#"{"a": 1, "a": 2}"#.into(), None),
        (r#""nul\u0000byte""#.into(), None),
        ("\"\\ud83d\\ude00 \u{1F600} \u{10FFFF}\"".into(), None),
        (r#""\ud800""#.into(), Some("data.v")),
    ]
}

#[tokio::test]
async fn every_format_delivers_the_value_published_or_refuses_it() {
    let dir = TempDir::new("fidelity");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let mut receivers = Vec::new();
    for format in FORMATS {
        let rx = Receiver::start().await;
        let body =
            json!({"url": rx.url, "format": format, "events": ["*"], "api_key": "APIfidelity"});
        let (_, secret) = herald.create_endpoint(&app, body).await;
        receivers.push((format, rx, secret));
    }
    let mut accepted = Vec::new();
    for (i, (value, refusal)) in cases().into_iter().enumerate() {
        let data = format!("{{\"case\": {i}, \"v\": {value}}}");
        let body = format!(
            r#"{{"type": "participant.joined", "data": {data}, "labels": {{"room_id": "r{i}", "bot_id": "b1"}}}}"#
        );
        let resp = herald
            .client
            .post(format!("{}/v1/apps/{app}/events", herald.base))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("publish");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        match refusal {
            Some(named) => {
                assert_eq!(status, 422, "case {i} ({value:.40}): {text}");
                assert!(
                    text.contains(named),
                    "case {i}: {text} does not name {named}"
                );
            }
            None => {
                assert_eq!(status, 202, "case {i} ({value:.40}): {text}");
                accepted.push(data);
            }
        }
    }
    let mut checks = Vec::new();
    for (format, rx, secret) in &receivers {
        let got = rx.wait_count(accepted.len(), Duration::from_secs(30)).await;
        assert_eq!(got.len(), accepted.len(), "{format}: retried or duplicated");
        for req in got {
            let body = String::from_utf8(req.body.clone()).expect("utf-8 body");
            let case = req.json();
            let case = case["data"]["case"]
                .as_u64()
                .or_else(|| case["case"].as_u64())
                .expect("case number") as usize;
            let published = &accepted[accepted
                .iter()
                .position(|d| d.starts_with(&format!("{{\"case\": {case},")))
                .expect("case")];
            if matches!(*format, "standard" | "digitalsamba") {
                assert!(
                    body.contains(published.as_str()),
                    "{format}: {body} lost the bytes of {published}"
                );
            }
            checks.push(json!({
                "format": format, "published": published, "body": body,
                "signature": req.header("x-webhook-signature"), "secret": secret,
            }));
        }
    }
    let path = std::env::temp_dir().join(format!("herald-fidelity-{}.json", rand_suffix()));
    std::fs::write(&path, Value::Array(checks).to_string()).expect("write cases");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/fidelity_check.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3");
    let _ = std::fs::remove_file(&path);
    let said = String::from_utf8_lossy(&out.stdout);
    eprintln!("{said}");
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
