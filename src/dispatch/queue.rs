//! One queue per endpoint, drained by at most `max_in_flight` workers.
//!
//! Workers exist only while the queue has work, so an idle endpoint costs nothing, and a
//! hanging endpoint ties up its own workers and nobody else's: isolation comes from each
//! endpoint having its own bounded set of requests in flight.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;

use super::{lock, outcome, Dispatcher};
use crate::domain::{Endpoint, EndpointId};
use crate::formats::{format_for, Outgoing};
use crate::store::{AttemptOutcome, Job};

static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Requests in flight across all endpoints of this process.
pub fn active_requests() -> usize {
    ACTIVE.load(Ordering::Relaxed)
}

/// How long an endpoint's cached settings are trusted before they are read again.
const SETTINGS_TTL: Duration = Duration::from_secs(30);

struct State {
    jobs: VecDeque<Job>,
    workers: usize,
    /// The endpoint's settings and when they were read; `None` until a worker reads them.
    endpoint: Option<(Arc<Endpoint>, std::time::Instant)>,
}

pub struct EndpointQueue {
    id: EndpointId,
    state: Mutex<State>,
}

impl EndpointQueue {
    pub fn new(id: EndpointId) -> Self {
        Self {
            id,
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                workers: 0,
                endpoint: None,
            }),
        }
    }

    pub fn invalidate(&self) {
        lock(&self.state).endpoint = None;
    }

    pub fn push(self: &Arc<Self>, dispatcher: Dispatcher, job: Job) {
        lock(&self.state).jobs.push_back(job);
        self.spawn_workers(&dispatcher);
    }

    /// Starts workers while there is queued work and room under `max_in_flight` (one worker
    /// until the settings are known).
    fn spawn_workers(self: &Arc<Self>, dispatcher: &Dispatcher) {
        let mut state = lock(&self.state);
        let limit = state
            .endpoint
            .as_ref()
            .map_or(1, |(ep, _)| ep.max_in_flight.max(1) as usize);
        while state.workers < limit && state.workers < state.jobs.len() {
            state.workers += 1;
            let queue = Arc::clone(self);
            let dispatcher = dispatcher.clone();
            tokio::spawn(async move { queue.work(dispatcher).await });
        }
    }

    async fn settings(&self, dispatcher: &Dispatcher) -> Option<Arc<Endpoint>> {
        if let Some((ep, at)) = &lock(&self.state).endpoint {
            if at.elapsed() < SETTINGS_TTL {
                return Some(Arc::clone(ep));
            }
        }
        match dispatcher.inner.store.get_endpoint(&self.id).await {
            Ok(Some(ep)) => {
                let ep = Arc::new(ep);
                lock(&self.state).endpoint = Some((Arc::clone(&ep), std::time::Instant::now()));
                Some(ep)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(endpoint = %self.id, error = %e, "cannot read endpoint settings");
                None
            }
        }
    }

    async fn work(self: Arc<Self>, dispatcher: Dispatcher) {
        loop {
            let job = {
                let mut state = lock(&self.state);
                let stopping = dispatcher.inner.stopping.load(Ordering::Relaxed);
                match state.jobs.pop_front().filter(|_| !stopping) {
                    Some(job) => job,
                    None => {
                        state.workers -= 1;
                        return;
                    }
                }
            };
            let endpoint = self.settings(&dispatcher).await;
            self.spawn_workers(&dispatcher);
            let outcome = match &endpoint {
                Some(ep) if ep.enabled => attempt(&dispatcher, ep, &job).await,
                _ => outcome::abandoned(&job),
            };
            finish(&dispatcher, &job, outcome).await;
        }
    }
}

async fn attempt(dispatcher: &Dispatcher, ep: &Endpoint, job: &Job) -> AttemptOutcome {
    let Some(format) = format_for(ep.format) else {
        return outcome::abandoned(job);
    };
    let now = Utc::now();
    let rendered = format.render(&Outgoing {
        event: &job.event,
        delivery_id: &job.delivery_id,
        endpoint: ep,
        now,
    });
    let mut headers: Vec<(String, String)> = ep
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    headers.retain(|(k, _)| {
        !rendered
            .headers
            .iter()
            .any(|(r, _)| r.eq_ignore_ascii_case(k))
    });
    headers.extend(
        rendered
            .headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    let logged = redacted(&headers, format.secret_headers());
    ACTIVE.fetch_add(1, Ordering::Relaxed);
    let timeout = Duration::from_millis(ep.timeout_ms as u64);
    let resp = dispatcher
        .inner
        .client
        .post(ep.url.as_str(), &headers, rendered.body, timeout)
        .await;
    ACTIVE.fetch_sub(1, Ordering::Relaxed);
    metrics::histogram!("herald_attempt_duration_seconds").record(resp.duration.as_secs_f64());
    outcome::decide(job, ep, now, logged, resp)
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

async fn finish(dispatcher: &Dispatcher, job: &Job, outcome: AttemptOutcome) {
    let status = outcome.status.as_str();
    metrics::counter!("herald_attempts_total", "status" => status).increment(1);
    if outcome.status != crate::domain::DeliveryStatus::Pending {
        metrics::counter!("herald_deliveries_total", "outcome" => status).increment(1);
    }
    let retry_soon = outcome
        .next_attempt_at
        .is_some_and(|at| at <= Utc::now() + chrono::Duration::milliseconds(50));
    let disabled = outcome.disable_endpoint.is_some();
    // The outcome must be committed before the delivery leaves memory, or the poller could
    // take it again while its result is still unwritten.
    let mut tries = 0;
    while let Err(e) = dispatcher
        .inner
        .store
        .record_attempts(vec![outcome.clone()])
        .await
    {
        tries += 1;
        tracing::error!(delivery = %job.delivery_id, error = %e, "cannot record an attempt");
        if tries >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200 * tries)).await;
    }
    if disabled {
        dispatcher.endpoint_changed(&job.endpoint_id);
        tracing::warn!(endpoint = %job.endpoint_id, "endpoint disabled: the receiver answered 410 Gone");
    }
    dispatcher.release(&job.delivery_id);
    if retry_soon {
        dispatcher.wake();
    }
}
