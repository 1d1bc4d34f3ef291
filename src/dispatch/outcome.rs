//! What an attempt's result means for its delivery: done, retry when, or give up.
//!
//! Pure: the dispatcher hands in the response and the time, and writes back what comes out.

use chrono::{DateTime, Utc};

use super::client::Response;
use crate::domain::{Attempt, AttemptId, DeliveryStatus, ErrorKind, RetrySchedule, Trigger};
use crate::store::{AttemptOutcome, Job};

/// The delivery's next state after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the endpoint must be disabled, when the receiver asked for it.
    pub disable: Option<&'static str>,
}

/// Turns a response into the attempt record and the delivery's next state.
pub fn decide(
    job: &Job,
    schedule: &RetrySchedule,
    started_at: DateTime<Utc>,
    request_headers: serde_json::Value,
    resp: Response,
) -> AttemptOutcome {
    let verdict = verdict(job, schedule, &resp, Utc::now());
    AttemptOutcome {
        delivery_id: job.delivery_id.clone(),
        attempt: Some(record(job, started_at, request_headers, resp)),
        status: verdict.status,
        next_attempt_at: verdict.next_attempt_at,
        disable_endpoint: verdict
            .disable
            .map(|why| (job.endpoint_id.clone(), why.to_owned())),
        lease_until: None,
        lease_epoch: job.lease_epoch,
    }
}

fn succeeded(resp: &Response) -> bool {
    resp.error.is_none() && resp.status.is_some_and(|s| (200..300).contains(&s))
}

/// The attempt as the delivery log shows it.
fn record(
    job: &Job,
    started_at: DateTime<Utc>,
    request_headers: serde_json::Value,
    resp: Response,
) -> Attempt {
    let error_kind = match &resp.error {
        Some((kind, _)) => Some(*kind),
        None if succeeded(&resp) => None,
        None => Some(ErrorKind::HttpStatus),
    };
    let body = match resp.error {
        Some((_, msg)) if resp.body.is_empty() => msg,
        _ => resp.body,
    };
    Attempt {
        id: AttemptId::new(),
        number: job.attempt_count + 1,
        started_at,
        duration_ms: resp.duration.as_millis() as u64,
        status_code: resp.status,
        error_kind,
        response_body: body,
        request_headers,
        trigger: job.trigger,
        lapsed_lease: false,
    }
}

/// Success ends the delivery; 410 Gone fails it and disables the endpoint; anything else is
/// retried on the endpoint's schedule (a manual resend is one attempt), no sooner than a 429
/// or 503's `Retry-After`, and fails once the schedule is exhausted, or expires when the
/// next attempt would come after the delivery's time to live.
pub fn verdict(
    job: &Job,
    schedule: &RetrySchedule,
    resp: &Response,
    now: DateTime<Utc>,
) -> Verdict {
    let done = |status| Verdict {
        status,
        next_attempt_at: None,
        disable: None,
    };
    if succeeded(resp) {
        return done(DeliveryStatus::Succeeded);
    }
    if resp.status == Some(410) && resp.error.is_none() {
        return Verdict {
            disable: Some("the receiver answered 410 Gone"),
            ..done(DeliveryStatus::Failed)
        };
    }
    let scheduled = match job.trigger {
        Trigger::Scheduled => schedule.next_delay_ms(job.attempt_count + 1),
        Trigger::Manual => None,
    };
    let delay = match (resp.status, resp.retry_after) {
        (Some(429 | 503), Some(after)) => scheduled.map(|d| d.max(after.as_millis() as u64)),
        _ => scheduled,
    };
    let next = delay.map(|ms| now + chrono::Duration::milliseconds(ms as i64));
    match next {
        Some(at) if job.expires_before(at) => done(DeliveryStatus::Expired),
        Some(at) => Verdict {
            next_attempt_at: Some(at),
            ..done(DeliveryStatus::Pending)
        },
        None if job.expired(now) => done(DeliveryStatus::Expired),
        None => done(DeliveryStatus::Failed),
    }
}

/// The outcome for a job past its time to live: expired, without a request.
pub fn expired(job: &Job) -> AttemptOutcome {
    AttemptOutcome {
        status: DeliveryStatus::Expired,
        ..abandoned(job)
    }
}

/// The outcome for a job whose endpoint is gone or disabled: failed, without a request.
pub fn abandoned(job: &Job) -> AttemptOutcome {
    AttemptOutcome {
        delivery_id: job.delivery_id.clone(),
        attempt: None,
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        disable_endpoint: None,
        lease_until: None,
        lease_epoch: job.lease_epoch,
    }
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
