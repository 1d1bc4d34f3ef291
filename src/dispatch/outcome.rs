//! What an attempt's result means for its delivery: done, retry when, or give up.

use chrono::{DateTime, Utc};

use super::client::Response;
use crate::domain::{Attempt, AttemptId, DeliveryStatus, Endpoint, ErrorKind, Trigger};
use crate::store::{AttemptOutcome, Job};

/// Turns a response into the attempt record and the delivery's next state.
pub fn decide(
    job: &Job,
    endpoint: &Endpoint,
    started_at: DateTime<Utc>,
    request_headers: serde_json::Value,
    resp: Response,
) -> AttemptOutcome {
    let number = job.attempt_count + 1;
    let status_code = resp.status;
    let success = resp.error.is_none() && status_code.is_some_and(|s| (200..300).contains(&s));
    let mut error_kind = resp.error.as_ref().map(|(k, _)| *k);
    if error_kind.is_none() && !success {
        error_kind = Some(ErrorKind::HttpStatus);
    }
    let mut body = resp.body;
    if let Some((_, msg)) = &resp.error {
        if body.is_empty() {
            body = msg.clone();
        }
    }
    let attempt = Attempt {
        id: AttemptId::new(),
        number,
        started_at,
        duration_ms: resp.duration.as_millis() as u64,
        status_code,
        error_kind,
        response_body: body,
        request_headers,
        trigger: job.trigger,
    };
    let mut outcome = AttemptOutcome {
        delivery_id: job.delivery_id.clone(),
        attempt: Some(attempt),
        status: DeliveryStatus::Succeeded,
        next_attempt_at: None,
        disable_endpoint: None,
        lease_until: None,
    };
    if success {
        return outcome;
    }
    if status_code == Some(410) {
        outcome.status = DeliveryStatus::Failed;
        outcome.disable_endpoint = Some((
            endpoint.id.clone(),
            "the receiver answered 410 Gone".to_owned(),
        ));
        return outcome;
    }
    // A manual resend is one attempt; the schedule continues only for scheduled ones.
    let scheduled = match job.trigger {
        Trigger::Scheduled => endpoint.retry_schedule_s.next_delay_ms(number),
        Trigger::Manual => None,
    };
    let honoured = match (status_code, resp.retry_after) {
        (Some(429 | 503), Some(after)) => scheduled.map(|d| d.max(after.as_millis() as u64)),
        _ => scheduled,
    };
    match honoured {
        Some(delay_ms) => {
            outcome.status = DeliveryStatus::Pending;
            outcome.next_attempt_at =
                Some(Utc::now() + chrono::Duration::milliseconds(delay_ms as i64));
        }
        None => outcome.status = DeliveryStatus::Failed,
    }
    outcome
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
    }
}
