//! An endpoint's health: the circuit breaker that backs a failing endpoint off, and the
//! failing period after which it is disabled.
//!
//! Pure rules over one value, [`Health`], which the store keeps on the endpoint so that
//! every process sharing a database sees the same breaker. The dispatcher asks
//! [`Health::gate`] before each request and folds each attempt in with [`Health::after`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most a cool-down is stretched, as a fraction of it.
pub const COOLDOWN_SPREAD: f64 = 0.2;

/// The breaker's position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Requests flow.
    #[default]
    Closed,
    /// Backed off: nothing is sent until `retry_at`, when one probe may go.
    Open,
    /// One probe is out; nothing else is sent until it answers (or `retry_at` passes, when
    /// its sender is taken to have died and another probe may go).
    HalfOpen,
}

/// What the endpoint resource shows as `health`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub state: BreakerState,
    /// Attempts failed in a row.
    pub failures: u32,
    /// When the current run of failures began; none while the last attempt succeeded.
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Open: when the next probe may go. Half-open: until when the probe out is waited for.
    pub retry_at: Option<DateTime<Utc>>,
    /// Probes failed in a row; each doubles the cool-down.
    #[serde(default)]
    pub failed_probes: u32,
}

/// The operator's breaker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures in a row that open the breaker; 0 never opens it.
    pub failures: u32,
    pub cooldown: Duration,
    pub cooldown_max: Duration,
    /// How long an endpoint may fail continuously before it is disabled; `None` never.
    pub disable_after: Option<Duration>,
}

/// What the dispatcher may do with an endpoint's next delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Send,
    /// Send one delivery as the probe, once this process holds the probe.
    Probe,
    /// Send nothing before this time.
    Wait(DateTime<Utc>),
}

/// How an attempt went, as the breaker counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempted<'a> {
    Succeeded,
    Failed(&'a str),
}

impl Health {
    pub fn gate(&self, now: DateTime<Utc>) -> Gate {
        match (self.state, self.retry_at) {
            (BreakerState::Closed, _) => Gate::Send,
            (_, Some(at)) if at > now => Gate::Wait(at),
            _ => Gate::Probe,
        }
    }

    /// Until when no delivery of the endpoint may be claimed; `None` while closed.
    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        match self.state {
            BreakerState::Closed => None,
            _ => self.retry_at,
        }
    }

    /// The health with a probe out until `until`, when the gate allows one; unchanged
    /// otherwise (another process took the probe first).
    pub fn probing(&self, now: DateTime<Utc>, until: DateTime<Utc>) -> Health {
        match self.gate(now) {
            Gate::Probe => Health {
                state: BreakerState::HalfOpen,
                retry_at: Some(until),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// The health after an attempt: a success closes the breaker and ends the failing run;
    /// a failure counts, opens the breaker at the policy's threshold, and reopens it for
    /// twice as long after a failed probe. Each cool-down is stretched by `spread` (0 to 1)
    /// of [`COOLDOWN_SPREAD`], drawn at random by the caller, so that breakers opened
    /// together (a receiver fleet down at once) do not probe together.
    pub fn after(
        &self,
        attempt: Attempted<'_>,
        now: DateTime<Utc>,
        p: &BreakerPolicy,
        spread: f64,
    ) -> Health {
        let Attempted::Failed(error) = attempt else {
            return Health::default();
        };
        let mut next = Health {
            failures: self.failures.saturating_add(1),
            failing_since: self.failing_since.or(Some(now)),
            last_error: Some(error.chars().take(500).collect()),
            ..self.clone()
        };
        let probe_failed = self.state != BreakerState::Closed;
        if probe_failed || (p.failures > 0 && next.failures >= p.failures) {
            next.failed_probes = if probe_failed {
                self.failed_probes + 1
            } else {
                0
            };
            let factor = 2u32.saturating_pow(next.failed_probes.min(20));
            let cooldown = p.cooldown.saturating_mul(factor).min(p.cooldown_max);
            let cooldown = cooldown.mul_f64(1.0 + COOLDOWN_SPREAD * spread.clamp(0.0, 1.0));
            next.state = BreakerState::Open;
            next.retry_at = Some(now + chrono::Duration::from_std(cooldown).unwrap_or_default());
        }
        next
    }

    /// Whether the breaker opened with this change (the endpoint started failing).
    pub fn opened_from(&self, before: &Health) -> bool {
        before.state == BreakerState::Closed && self.state == BreakerState::Open
    }

    /// Whether the endpoint has failed continuously for `disable_after`.
    pub fn overdue(&self, now: DateTime<Utc>, disable_after: Option<Duration>) -> bool {
        match (self.failing_since, disable_after) {
            (Some(since), Some(after)) => {
                now - since >= chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX)
            }
            _ => false,
        }
    }

    /// Whether an attempt's outcome is worth writing down: not a success while closed and
    /// clean (the path almost every delivery takes), and not a failure while open, which is
    /// a request sent before the breaker opened (a hanging endpoint has many of them time
    /// out together) and says nothing new. A probe's answer comes while half-open.
    pub fn worth_recording(&self, failed: bool) -> bool {
        match failed {
            false => *self != Health::default(),
            true => self.state != BreakerState::Open,
        }
    }
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
