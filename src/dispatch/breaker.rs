//! The dispatcher's side of each endpoint's circuit breaker (the rules are in
//! `domain::health`): before a request it asks whether the endpoint may be sent to now,
//! after an attempt it folds the outcome into the endpoint's stored health, and it disables
//! an endpoint that has failed for too long and says so with an operational event.
//!
//! While a breaker is open the endpoint's deliveries wait in the store, unleased and with
//! their schedule untouched: claims skip the endpoint until its cool-down ends, publishes
//! do not take its deliveries into memory, and what memory held goes back. When the
//! cool-down ends, one process takes the probe (atomically, in the store) and sends one
//! delivery; the others keep waiting until it answers.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::queue::EndpointQueue;
use super::{lock, notices, Dispatcher};
use crate::domain::{Attempted, BreakerState, Endpoint, ErrorKind, Gate};
use crate::store::{AttemptOutcome, Changed, HealthUpdate, Job};

/// How long past its timeout a probe is waited for before another process may take over.
const PROBE_GRACE: Duration = Duration::from_secs(5);

/// What to do with a job whose endpoint is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admit {
    Send,
    /// Back to the store: the endpoint is backed off, disabled, or its state is unknown.
    HandBack,
    /// The endpoint is gone: the delivery is settled without a request.
    Abandon,
}

impl EndpointQueue {
    /// Whether a delivery may go to `ep` now: always while the breaker is closed; as the one
    /// probe when the cool-down is over and this process takes the probe first.
    pub(super) async fn admit(&self, d: &Dispatcher, ep: &Endpoint) -> Admit {
        if !ep.deliverable() {
            return Admit::HandBack;
        }
        let now = Utc::now();
        match ep.health.gate(now) {
            Gate::Send => Admit::Send,
            Gate::Wait(_) => Admit::HandBack,
            Gate::Probe => {
                let timeout = Duration::from_millis(u64::from(ep.timeout_ms)) + PROBE_GRACE;
                let until = now + chrono::Duration::from_std(timeout).unwrap_or_default();
                let change = Arc::new(move |e: &Endpoint| Changed {
                    health: e.health.probing(now, until),
                    disable: None,
                });
                match d.inner.store.update_health(&ep.id, change).await {
                    Ok(Some(u)) => {
                        let won = u.before.gate(now) == Gate::Probe
                            && u.endpoint.health.state == BreakerState::HalfOpen;
                        self.remember(d, u.endpoint);
                        if won {
                            Admit::Send
                        } else {
                            Admit::HandBack
                        }
                    }
                    Ok(None) => Admit::Abandon,
                    Err(e) => {
                        tracing::warn!(endpoint = %ep.id, error = %e.chain(), "cannot take the probe");
                        Admit::HandBack
                    }
                }
            }
        }
    }

    /// After an attempt's outcome is written: counts it on the endpoint's health (a success
    /// of a healthy endpoint changes nothing and writes nothing), and announces what that
    /// changed.
    pub(super) async fn fold(
        &self,
        d: &Dispatcher,
        ep: &Endpoint,
        job: &Job,
        result: &AttemptOutcome,
    ) {
        if let Some((_, why)) = &result.disable_endpoint {
            let mut gone = ep.clone();
            gone.disable(why, Utc::now());
            self.remember(d, gone.clone());
            return notices::disabled(d, &gone).await;
        }
        notices::exhausted(d, ep, job, result).await;
        let Some(failure) = counted(result) else {
            return;
        };
        // The health as this process knows it now, which may have moved on since the
        // request went out.
        let current = lock(&self.state)
            .endpoint
            .as_ref()
            .map_or_else(|| ep.health.clone(), |(e, _)| e.health.clone());
        if !current.worth_recording(failure.is_some()) {
            return;
        }
        let (policy, now, spread) = (d.inner.breaker, Utc::now(), rand::random::<f64>());
        let change = Arc::new(move |e: &Endpoint| {
            let attempted = match &failure {
                None => Attempted::Succeeded,
                Some(error) => Attempted::Failed(error),
            };
            let health = e.health.after(attempted, now, &policy, spread);
            let after = e
                .disable_after_s
                .map(|s| Duration::from_secs(s.into()))
                .or(policy.disable_after);
            let disable = health.overdue(now, after).then(|| {
                format!(
                    "failing continuously since {}; last error: {}",
                    health.failing_since.unwrap_or(now).to_rfc3339(),
                    health.last_error.as_deref().unwrap_or("unknown")
                )
            });
            Changed { health, disable }
        });
        match d.inner.store.update_health(&ep.id, change).await {
            Ok(Some(u)) => self.changed(d, u).await,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(endpoint = %ep.id, error = %e.chain(), "cannot record the endpoint's health")
            }
        }
    }

    async fn changed(&self, d: &Dispatcher, u: HealthUpdate) {
        let (before, ep) = (u.before.clone(), u.endpoint.clone());
        self.remember(d, u.endpoint);
        if ep.health.opened_from(&before) {
            tracing::warn!(endpoint = %ep.id, error = ep.health.last_error.as_deref().unwrap_or(""), "endpoint failing: its circuit breaker opened");
            notices::failing(d, &ep).await;
        }
        if u.disabled {
            tracing::warn!(endpoint = %ep.id, reason = ep.disabled_reason.as_deref().unwrap_or(""), "endpoint disabled");
            notices::disabled(d, &ep).await;
        }
        if before.state != BreakerState::Closed && ep.health.state == BreakerState::Closed {
            tracing::info!(endpoint = %ep.id, "endpoint recovered: its circuit breaker closed");
            d.wake();
        }
    }
}

/// How an attempt counts on the breaker: `Some(None)` a success, `Some(Some(error))` a
/// failure; `None` when nothing was sent, or when the request could not be built (Herald's
/// failure, not the receiver's).
pub(super) fn counted(result: &AttemptOutcome) -> Option<Option<String>> {
    let attempt = result.attempt.as_ref()?;
    match (attempt.error_kind, attempt.status_code) {
        (None, _) => Some(None),
        (Some(ErrorKind::Render), _) => None,
        (Some(ErrorKind::HttpStatus), Some(code)) => Some(Some(format!("HTTP {code}"))),
        (Some(kind), _) => {
            let detail: String = attempt.response_body.chars().take(200).collect();
            Some(Some(format!("{}: {detail}", kind.as_str())))
        }
    }
}
