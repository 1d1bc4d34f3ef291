//! Receivers that misbehave. In production a customer's endpoint answers 5xx, rate-limits,
//! redirects, refuses, resets, hangs, drips, floods or speaks broken HTTP, and Herald must log
//! each the same way every time, retry it when and only when it should, and stay up. Each case
//! is pinned, against a receiver on raw sockets (`hostile_rx.rs`), so it stays right: the
//! answers with a status code here, the ones below it (connections, timing, bodies, bytes
//! that are not HTTP) in `hostile_wire.rs`.
//!
//! HTTPS to a plain-HTTP port (`tls`) is pinned in `publish.rs`,
//! `https_to_a_plain_http_port_is_logged_as_tls`.
//!
//! Every endpoint retries once, a second after the first attempt (`retry_schedule_s: [1]`), so
//! no endpoint sees more than two attempts. Times are asserted as lower bounds only.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::harness::{Herald, TempDir};
use crate::receiver::Receiver;
use raw::{serve, status};

#[path = "hostile_rx.rs"]
mod raw;
#[path = "hostile_wire.rs"]
mod wire;

/// Herald with one app and one endpoint; fields drop in order, Herald before its directory.
struct Case {
    herald: Herald,
    app: String,
    endpoint: String,
    _dir: TempDir,
}

impl Case {
    /// An endpoint at `url` retrying once after 1 s, with `settings` on top.
    async fn start(name: &str, url: &str, settings: Value) -> Case {
        let dir = TempDir::new(name);
        let herald = Herald::start(&dir.0);
        let app = herald.create_app("standard").await;
        let mut body = json!({"url": url, "retry_schedule_s": [1]});
        if let (Some(b), Some(s)) = (body.as_object_mut(), settings.as_object()) {
            b.extend(s.clone());
        }
        let (endpoint, _) = herald.create_endpoint(&app, body).await;
        Case {
            herald,
            app,
            endpoint,
            _dir: dir,
        }
    }

    /// Publishes one event and waits until its delivery has settled (succeeded or failed);
    /// asserts it settled as `final_status`, and answers it with its attempts.
    async fn deliver(&self, final_status: &str) -> Value {
        let (code, ack) = self
            .herald
            .publish(&self.app, json!({"type": "room.created", "data": {}}))
            .await;
        assert_eq!(code, 202, "{ack}");
        let list = self
            .herald
            .wait_for(
                &format!("/v1/apps/{}/deliveries", self.app),
                Duration::from_secs(30),
                |v| {
                    ["succeeded", "failed"].contains(&v["data"][0]["status"].as_str().unwrap_or(""))
                },
            )
            .await;
        let id = list["data"][0]["id"].as_str().expect("delivery id");
        let path = format!("/v1/apps/{}/deliveries/{id}", self.app);
        let (_, _, detail) = self.herald.call("GET", &path, None).await;
        assert_eq!(detail["status"], final_status, "{detail}");
        detail
    }

    async fn endpoint(&self) -> Value {
        let path = format!("/v1/apps/{}/endpoints/{}", self.app, self.endpoint);
        self.herald.call("GET", &path, None).await.2
    }
}

fn attempts(detail: &Value) -> &Vec<Value> {
    detail["attempts"].as_array().expect("attempts")
}

/// One field of every attempt, in order.
fn each(detail: &Value, field: &str) -> Vec<Value> {
    attempts(detail).iter().map(|a| a[field].clone()).collect()
}

fn started(detail: &Value, n: usize) -> DateTime<Utc> {
    let at = attempts(detail)[n]["started_at"]
        .as_str()
        .expect("started_at");
    DateTime::parse_from_rfc3339(at).expect("RFC 3339").to_utc()
}

/// Milliseconds from the first attempt's start to the second's.
fn gap_ms(detail: &Value) -> i64 {
    (started(detail, 1) - started(detail, 0)).num_milliseconds()
}

/// Both attempts failed as `kind` with `code`, the second at least the schedule's 1 s later.
fn assert_retried_then_failed(detail: &Value, kind: &str, code: Value) {
    assert_eq!(detail["status"], "failed", "{detail}");
    assert_eq!(each(detail, "error_kind"), vec![json!(kind); 2], "{detail}");
    assert_eq!(each(detail, "status_code"), vec![code; 2], "{detail}");
    assert!(
        gap_ms(detail) >= 1000,
        "retried after {} ms",
        gap_ms(detail)
    );
}

#[tokio::test]
async fn a_500_is_retried_on_schedule_then_fails() {
    let rx = serve(vec![status(500, "")]).await;
    let case = Case::start("hostile-500", &rx.url, json!({})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "http_status", json!(500));
    assert_eq!(rx.got().len(), 2);
}

#[tokio::test]
async fn a_429_waits_for_its_retry_after_seconds() {
    let rx = serve(vec![status(429, "Retry-After: 2\r\n"), status(200, "")]).await;
    let case = Case::start("hostile-429", &rx.url, json!({})).await;
    let detail = case.deliver("succeeded").await;
    assert_eq!(each(&detail, "status_code"), vec![json!(429), json!(200)]);
    assert_eq!(
        each(&detail, "error_kind"),
        vec![json!("http_status"), Value::Null]
    );
    assert!(
        gap_ms(&detail) >= 2000,
        "retried after {} ms",
        gap_ms(&detail)
    );
}

#[tokio::test]
async fn a_503_waits_for_its_retry_after_date() {
    // Two to three seconds ahead, in whole seconds as HTTP dates are.
    let at = DateTime::from_timestamp(Utc::now().timestamp() + 3, 0).expect("a time");
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT");
    let rx = serve(vec![
        status(503, &format!("Retry-After: {date}\r\n")),
        status(200, ""),
    ])
    .await;
    let case = Case::start("hostile-503", &rx.url, json!({})).await;
    let detail = case.deliver("succeeded").await;
    assert_eq!(each(&detail, "status_code"), vec![json!(503), json!(200)]);
    let second = started(&detail, 1);
    assert!(
        second >= at - chrono::Duration::seconds(1),
        "retried at {second}, before the Retry-After date {date}"
    );
    assert!(
        gap_ms(&detail) >= 1000,
        "retried after {} ms",
        gap_ms(&detail)
    );
}

#[tokio::test]
async fn a_408_is_retried_on_schedule() {
    let rx = serve(vec![status(408, "")]).await;
    let case = Case::start("hostile-408", &rx.url, json!({})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "http_status", json!(408));
}

#[tokio::test]
async fn a_410_fails_at_once_and_disables_the_endpoint() {
    let rx = serve(vec![status(410, "")]).await;
    let case = Case::start("hostile-410", &rx.url, json!({})).await;
    let detail = case.deliver("failed").await;
    assert_eq!(each(&detail, "status_code"), vec![json!(410)], "{detail}");
    assert_eq!(each(&detail, "error_kind"), vec![json!("http_status")]);
    let ep = case.endpoint().await;
    assert_eq!(ep["enabled"], false, "{ep}");
    let reason = ep["disabled_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("410"), "{ep}");
    // Past the retry the schedule would have made: still one request.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.got().len(), 1, "a 410 was retried");
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let target = Receiver::start().await;
    let rx = serve(vec![status(302, &format!("Location: {}\r\n", target.url))]).await;
    let case = Case::start("hostile-302", &rx.url, json!({})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "http_status", json!(302));
    assert_eq!(target.count(), 0, "Herald followed the redirect");
}
