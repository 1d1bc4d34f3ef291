//! Span export: Herald sends the spans of a publish and of its delivery attempt over OTLP,
//! and a collector built on OpenTelemetry's own protobuf definitions decodes them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{Herald, TempDir};
use crate::receiver::Receiver;

/// The OTLP receiver script, its port, and the spans it has printed so far.
struct Collector {
    child: std::process::Child,
    port: u16,
    spans: Arc<Mutex<Vec<Value>>>,
}

impl Collector {
    fn start() -> Collector {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/otlp_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the OTLP receiver");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the OTLP receiver said {first:?}"));
        let spans = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&spans);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(span) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(span);
                }
            }
        });
        Collector { child, port, spans }
    }

    /// Waits until a span matches `wanted`.
    async fn span(&self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let spans = self.spans.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(found) = spans.iter().find(|s| wanted(s)) {
                return found.clone();
            }
            assert!(Instant::now() < until, "no {what} span among {spans:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_publish_and_its_attempt_reach_an_otlp_collector() {
    let collector = Collector::start();
    let dir = TempDir::new("otlp");
    let traces = format!("http://127.0.0.1:{}/v1/traces", collector.port);
    let herald = Herald::start_with(
        &dir.0,
        &[
            ("HERALD_OTLP_ENDPOINT", &traces),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ],
    );
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    let (ep, _) = herald.create_endpoint(&app, json!({"url": rx.url})).await;
    let (status, ack) = herald
        .publish(&app, json!({"type": "room.created", "data": {"n": 1}}))
        .await;
    assert_eq!(status, 202, "{ack}");
    rx.wait_count(1, Duration::from_secs(10)).await;
    let delivery = herald.newest_delivery(&app, "succeeded").await;

    let publish = collector
        .span("publish request", |s| {
            s["attributes"]["http.route"] == "/v1/apps/{app}/events"
                && s["attributes"]["http.request.method"] == "POST"
        })
        .await;
    assert_eq!(publish["service"], "herald");
    assert_eq!(publish["name"], "POST /v1/apps/{app}/events");
    assert_eq!(publish["attributes"]["http.response.status_code"], 202);
    assert_eq!(publish["attributes"]["app"], app.as_str());

    let attempt = collector
        .span("attempt", |s| {
            s["name"] == "attempt" && s["attributes"]["delivery"] == delivery["id"]
        })
        .await;
    let attrs = &attempt["attributes"];
    assert_eq!(attrs["endpoint"], ep.as_str(), "{attempt}");
    assert_eq!(attrs["event"], ack["id"], "{attempt}");
    assert_eq!(attrs["attempt"], 1, "{attempt}");
    assert_eq!(attrs["outcome"], "succeeded", "{attempt}");
    assert_eq!(attrs["http.response.status_code"], 200, "{attempt}");
    // The attempt is part of the publish's trace: one trace from the request to delivery.
    assert_eq!(attempt["trace_id"], publish["trace_id"], "{attempt}");
    assert_eq!(attempt["parent_span_id"], publish["span_id"], "{attempt}");
}
