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
use crate::store::{AttemptOutcome, HeldLease, Job};

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

/// Most tries of a write the store refuses for its data (see
/// [`crate::store::StoreError::may_pass_later`]); a store that is away, full or read-only
/// is waited out, however long it lasts.
const RECORD_TRIES: u32 = 5;

/// Commits the outcome; the delivery may leave memory, or go again, only after this
/// returns: otherwise the poller could take it again while its result is unwritten, or a
/// retry could reach the receiver with no row in the log for the attempt before it. While
/// the store cannot take the row (a full disk, a database restarting), this waits for it.
/// Answers whether the outcome changed the delivery: not when it came under a lease that
/// lapsed, which is counted and named.
pub async fn record(dispatcher: &Dispatcher, job: &Job, outcome: &AttemptOutcome) -> bool {
    let status = outcome.status.as_str();
    if outcome.attempt.is_some() {
        metrics::counter!("herald_attempts_total", "status" => status).increment(1);
    }
    let mut tries = 0;
    let stale = loop {
        let written = dispatcher
            .inner
            .store
            .record_attempts(vec![outcome.clone()])
            .await;
        let e = match written {
            Ok(stale) => break !stale.is_empty(),
            Err(e) => e,
        };
        tries += 1;
        tracing::error!(delivery = %job.delivery_id, tries, error = %e.chain(), "cannot record an attempt; the delivery waits for the store");
        if tries >= RECORD_TRIES && !e.may_pass_later() {
            tracing::error!(delivery = %job.delivery_id, "gave up recording an attempt; the delivery goes back to the store, to be sent again");
            dispatcher.give_back(HeldLease::of(job)).await;
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(tries.min(10)))).await;
    };
    if stale {
        metrics::counter!("herald_stale_outcomes_total").increment(1);
        tracing::warn!(delivery = %job.delivery_id, epoch = job.lease_epoch, "an outcome came under a lapsed lease: its attempt is logged as such and the delivery is left as its new holder has it");
        return false;
    }
    if outcome.status != DeliveryStatus::Pending {
        metrics::counter!("herald_deliveries_total", "outcome" => status).increment(1);
    }
    if outcome.disable_endpoint.is_some() {
        dispatcher.endpoint_changed(&job.endpoint_id);
        tracing::warn!(endpoint = %job.endpoint_id, "endpoint disabled: the receiver answered 410 Gone");
    }
    true
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
            lease_epoch: 0,
        };
        send(self, ep, &job).await.attempt
    }
}
