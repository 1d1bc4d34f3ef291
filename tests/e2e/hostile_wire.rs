//! Misbehaviour below the status code: refused and reset connections, silence, a dripping
//! body, a flood, and bytes that are not HTTP.

use std::time::Duration;

use serde_json::{json, Value};

use super::raw::{serve, Behaviour};
use super::{assert_retried_then_failed, attempts, each, Case};

/// Bytes of an answer Herald keeps (`RESPONSE_CAP` in src/dispatch/client.rs).
const RESPONSE_CAP: usize = 4096;

#[tokio::test]
async fn a_refused_connection_is_connect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let case = Case::start("hostile-refused", &format!("http://{addr}/hook"), json!({})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "connect", Value::Null);
}

#[tokio::test]
async fn a_reset_in_the_headers_is_invalid_response() {
    let partial = b"HTTP/1.1 200 OK\r\nContent-Type: text/pl".to_vec();
    let rx = serve(vec![Behaviour::Reset(partial)]).await;
    let case = Case::start("hostile-reset", &rx.url, json!({})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "invalid_response", Value::Null);
}

#[tokio::test]
async fn an_answer_that_never_starts_times_out() {
    let rx = serve(vec![Behaviour::Silent]).await;
    let case = Case::start("hostile-silent", &rx.url, json!({"timeout_ms": 500})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "timeout", Value::Null);
    for ms in each(&detail, "duration_ms") {
        assert!(ms.as_u64().expect("duration_ms") >= 500, "{detail}");
    }
    assert_eq!(rx.got().len(), 2);
}

#[tokio::test]
async fn a_body_dripping_past_the_timeout_times_out_keeping_what_arrived() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n".to_vec();
    let rx = serve(vec![Behaviour::Drip(head, Duration::from_millis(200))]).await;
    let case = Case::start("hostile-drip", &rx.url, json!({"timeout_ms": 1000})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "timeout", json!(200));
    for a in attempts(&detail) {
        let body = a["response_body"].as_str().expect("response_body");
        assert!(!body.is_empty() && body.len() < 1000, "{a}");
        assert!(
            body.bytes().all(|b| b == b'x'),
            "not the bytes that arrived: {a}"
        );
        assert!(
            a["duration_ms"].as_u64().expect("duration_ms") >= 1000,
            "{a}"
        );
    }
}

/// The peak resident memory of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn a_50_mb_answer_is_read_to_the_cap_in_flat_memory() {
    let rx = serve(vec![Behaviour::Huge(50 * 1024 * 1024)]).await;
    let case = Case::start("hostile-huge", &rx.url, json!({})).await;
    let before = peak_rss_kib(case.herald.child.id());
    let detail = case.deliver("succeeded").await;
    let after = peak_rss_kib(case.herald.child.id());
    assert_eq!(each(&detail, "status_code"), vec![json!(200)]);
    let body = attempts(&detail)[0]["response_body"]
        .as_str()
        .expect("body");
    assert_eq!(body.len(), RESPONSE_CAP, "{} bytes kept", body.len());
    assert!(
        after.saturating_sub(before) < 40 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB ({} bytes sent)",
        rx.huge_written()
    );
}

#[tokio::test]
async fn a_malformed_status_line_is_invalid_response() {
    let rx = serve(vec![Behaviour::Answer(b"HTTP/1.1 abc\r\n\r\n".to_vec())]).await;
    let case = Case::start("hostile-malformed", &rx.url, json!({})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "invalid_response", Value::Null);
}

#[tokio::test]
async fn garbage_instead_of_http_is_invalid_response() {
    let garbage = b"\x00\x7f\xfe SSH-2.0-nope \x01\x02\r\n\r\n".to_vec();
    let rx = serve(vec![Behaviour::Answer(garbage)]).await;
    let case = Case::start("hostile-garbage", &rx.url, json!({})).await;
    let detail = case.deliver("failed").await;
    assert_retried_then_failed(&detail, "invalid_response", Value::Null);
}

#[tokio::test]
async fn an_http_1_0_answer_ended_by_close_succeeds() {
    let rx = serve(vec![Behaviour::Answer(
        b"HTTP/1.0 200 OK\r\n\r\nhello".to_vec(),
    )])
    .await;
    let case = Case::start("hostile-http10", &rx.url, json!({})).await;
    let detail = case.deliver("succeeded").await;
    assert_eq!(each(&detail, "status_code"), vec![json!(200)]);
    assert_eq!(each(&detail, "error_kind"), vec![Value::Null]);
    assert_eq!(attempts(&detail)[0]["response_body"], "hello");
}
