//! One attempt: render, send, decide, and write the outcome back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::client::Response;
use super::{outcome, Dispatcher};
use crate::domain::{Attempt, DeliveryId, DeliveryStatus, Endpoint, ErrorKind, Event, Trigger};
use crate::formats::{format_for, request_headers, Outgoing};
use crate::store::{AttemptOutcome, Job};

/// Counts one delivery as in progress from the moment a worker takes it until its outcome
/// is committed, on its dispatcher's count, so a graceful shutdown waits for both the
/// request and the write (and two dispatchers in one process do not wait for each other).
pub struct InProgress(Arc<AtomicUsize>);

impl InProgress {
    pub fn start(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        InProgress(Arc::clone(count))
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends one request for `job` and turns the answer into an outcome, in a span `attempt`
/// that says which delivery, endpoint and attempt it was, and what came of it.
pub async fn send(dispatcher: &Dispatcher, ep: &Endpoint, job: &Job) -> AttemptOutcome {
    let span = tracing::debug_span!(
        "attempt",
        otel.kind = "client",
        delivery = %job.delivery_id,
        event = %job.event.id,
        endpoint = %job.endpoint_id,
        attempt = i64::from(job.attempt_count + 1),
        outcome = tracing::field::Empty,
        error_kind = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    if let Some(cx) = dispatcher.origin(&job.delivery_id) {
        let _ = span.set_parent(cx);
    }
    let out = attempt(dispatcher, ep, job).instrument(span.clone()).await;
    span.record("outcome", out.status.as_str());
    if let Some(a) = &out.attempt {
        if let Some(code) = a.status_code {
            span.record("http.response.status_code", i64::from(code));
        }
        if let Some(kind) = a.error_kind {
            span.record("error_kind", kind.as_str());
        }
    }
    out
}

async fn attempt(dispatcher: &Dispatcher, ep: &Endpoint, job: &Job) -> AttemptOutcome {
    let Some(format) = format_for(ep.format) else {
        return outcome::abandoned(job);
    };
    let now = Utc::now();
    let rendered = match format.render(&Outgoing {
        event: &job.event,
        delivery_id: &job.delivery_id,
        endpoint: ep,
        now,
    }) {
        Ok(rendered) => rendered,
        Err(e) => {
            tracing::error!(delivery = %job.delivery_id, error = %e, "cannot render a delivery");
            let failed = Response::failed(ErrorKind::Render, e.to_string());
            return outcome::decide(
                job,
                &ep.retry_schedule_s,
                now,
                serde_json::json!({}),
                failed,
            );
        }
    };
    let headers = request_headers(ep, &job.event, &rendered);
    let logged = redacted(&headers, format.secret_headers());
    let timeout = Duration::from_millis(ep.timeout_ms as u64);
    let resp = dispatcher
        .inner
        .client
        .post(ep.url.as_str(), &headers, rendered.body, timeout)
        .await;
    metrics::histogram!("herald_attempt_duration_seconds").record(resp.duration.as_secs_f64());
    outcome::decide(job, &ep.retry_schedule_s, now, logged, resp)
}

/// The request headers as the attempt log shows them: credentials replaced.
fn redacted(headers: &[(String, String)], secret: &[&str]) -> serde_json::Value {
    let map = headers
        .iter()
        .map(|(k, v)| {
            let hide = k.eq_ignore_ascii_case("authorization")
                || secret.iter().any(|s| s.eq_ignore_ascii_case(k));
            let value = if hide {
                "[redacted]".to_owned()
            } else {
                v.clone()
            };
            (k.to_lowercase(), serde_json::Value::String(value))
        })
        .collect();
    serde_json::Value::Object(map)
}

/// Commits the outcome; the delivery may leave memory only after this returns, or the poller
/// could take it again while its result is still unwritten.
pub async fn record(dispatcher: &Dispatcher, job: &Job, outcome: &AttemptOutcome) {
    let status = outcome.status.as_str();
    if outcome.attempt.is_some() {
        metrics::counter!("herald_attempts_total", "status" => status).increment(1);
    }
    if outcome.status != DeliveryStatus::Pending {
        metrics::counter!("herald_deliveries_total", "outcome" => status).increment(1);
    }
    let mut tries = 0;
    while let Err(e) = dispatcher
        .inner
        .store
        .record_attempts(vec![outcome.clone()])
        .await
    {
        tries += 1;
        tracing::error!(delivery = %job.delivery_id, error = %e.chain(), "cannot record an attempt");
        if tries >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200 * tries)).await;
    }
    if outcome.disable_endpoint.is_some() {
        dispatcher.endpoint_changed(&job.endpoint_id);
        tracing::warn!(endpoint = %job.endpoint_id, "endpoint disabled: the receiver answered 410 Gone");
    }
}

impl Dispatcher {
    /// Sends `event` to `ep` once, now, outside the queue (a test event): nothing is stored,
    /// and the answer is the attempt as the delivery log would show it.
    pub async fn send_once(&self, ep: &Endpoint, event: Event) -> Option<Attempt> {
        let job = Job {
            delivery_id: DeliveryId::new(),
            endpoint_id: ep.id.clone(),
            event: Arc::new(event),
            attempt_count: 0,
            trigger: Trigger::Manual,
            ordering_key: None,
            seq: 0,
            expires_at: None,
            polled: false,
        };
        send(self, ep, &job).await.attempt
    }
}
