//! `outcome::verdict` and `outcome::decide` over every class of answer.

use std::time::Duration;

use chrono::TimeZone;

use super::*;

/// A response with `status`, or with a transport error when `status` is `None`.
fn answered(status: Option<u16>, retry_after: Option<Duration>) -> Response {
    Response {
        status,
        body: String::new(),
        error: status
            .is_none()
            .then(|| (ErrorKind::Connect, "connection refused".to_owned())),
        retry_after,
        duration: Duration::from_millis(3),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("a time")
}

/// Delays of 10 s, then 60 s (each with up to 10% jitter).
fn schedule() -> RetrySchedule {
    RetrySchedule::from_trusted(vec![10, 60])
}

/// The verdict on a job that has made `made` attempts, as seconds until the next one.
fn judged(made: u32, trigger: Trigger, resp: &Response) -> (DeliveryStatus, Option<i64>, bool) {
    let mut job = Job::sample(None, 1);
    job.attempt_count = made;
    job.trigger = trigger;
    let v = verdict(&job, &schedule(), resp, now());
    let wait = v.next_attempt_at.map(|at| (at - now()).num_seconds());
    (v.status, wait, v.disable.is_some())
}

/// A status (or a transport error), its Retry-After, the status it leads to, the least
/// seconds to wait, and whether it disables the endpoint.
type Case = (
    Option<u16>,
    Option<Duration>,
    DeliveryStatus,
    Option<i64>,
    bool,
);

#[test]
fn every_status_class() {
    use DeliveryStatus::{Failed, Pending, Succeeded};
    let secs = Duration::from_secs;
    // (status or transport error, Retry-After, status, seconds to wait at least, disables)
    let cases: [Case; 12] = [
        (Some(200), None, Succeeded, None, false),
        (Some(204), None, Succeeded, None, false),
        (Some(299), None, Succeeded, None, false),
        (Some(301), None, Pending, Some(10), false),
        (Some(400), None, Pending, Some(10), false),
        (Some(410), None, Failed, None, true),
        (Some(429), Some(secs(120)), Pending, Some(120), false),
        (Some(503), Some(secs(2)), Pending, Some(10), false),
        // Retry-After counts only on 429 and 503.
        (Some(500), Some(secs(120)), Pending, Some(10), false),
        (Some(502), None, Pending, Some(10), false),
        (None, None, Pending, Some(10), false),
        (Some(100), None, Pending, Some(10), false),
    ];
    for (status, after, want, wait, disables) in cases {
        let (got, got_wait, got_disable) = judged(0, Trigger::Scheduled, &answered(status, after));
        assert_eq!(got, want, "{status:?}");
        assert_eq!(got_disable, disables, "{status:?}");
        match (wait, got_wait) {
            (None, None) => {}
            // Jitter adds up to 10% of the scheduled delay.
            (Some(w), Some(g)) => assert!(
                (w..=w + w / 10 + 1).contains(&g) || g == w,
                "{status:?}: waits {g}s, not {w}s"
            ),
            other => panic!("{status:?}: {other:?}"),
        }
    }
}

#[test]
fn the_schedule_runs_out_and_a_manual_resend_is_one_attempt() {
    let refused = answered(Some(500), None);
    let (status, wait, _) = judged(1, Trigger::Scheduled, &refused);
    assert_eq!(status, DeliveryStatus::Pending);
    assert!(wait.is_some_and(|w| (60..=66).contains(&w)), "{wait:?}");
    assert_eq!(
        judged(2, Trigger::Scheduled, &refused).0,
        DeliveryStatus::Failed
    );
    assert_eq!(
        judged(0, Trigger::Manual, &refused).0,
        DeliveryStatus::Failed
    );
    assert_eq!(
        judged(0, Trigger::Manual, &answered(Some(200), None)).0,
        DeliveryStatus::Succeeded
    );
    // Even a Retry-After does not extend an exhausted schedule.
    let later = answered(Some(429), Some(Duration::from_secs(5)));
    assert_eq!(
        judged(2, Trigger::Scheduled, &later).0,
        DeliveryStatus::Failed
    );
}

#[test]
fn a_410_to_a_manual_resend_still_disables() {
    let (status, _, disables) = judged(4, Trigger::Manual, &answered(Some(410), None));
    assert_eq!(status, DeliveryStatus::Failed);
    assert!(disables);
}

#[test]
fn decide_records_the_attempt() {
    let mut job = Job::sample(None, 1);
    job.attempt_count = 1;
    let mut resp = answered(None, None);
    resp.duration = Duration::from_millis(1500);
    let out = decide(
        &job,
        &schedule(),
        now(),
        serde_json::json!({"a": "b"}),
        resp,
    );
    let attempt = out.attempt.expect("an attempt");
    assert_eq!(attempt.number, 2);
    assert_eq!(attempt.duration_ms, 1500);
    assert_eq!(attempt.error_kind, Some(ErrorKind::Connect));
    assert_eq!(attempt.response_body, "connection refused");
    assert_eq!(attempt.started_at, now());
    assert_eq!(out.status, DeliveryStatus::Pending);

    let mut gone = answered(Some(410), None);
    gone.body = "bye".into();
    let out = decide(&job, &schedule(), now(), serde_json::json!({}), gone);
    let attempt = out.attempt.expect("an attempt");
    assert_eq!(attempt.error_kind, Some(ErrorKind::HttpStatus));
    assert_eq!(attempt.response_body, "bye");
    assert_eq!(
        out.disable_endpoint.map(|(id, _)| id),
        Some(job.endpoint_id.clone())
    );

    let ok = decide(
        &job,
        &schedule(),
        now(),
        serde_json::json!({}),
        answered(Some(200), None),
    );
    assert_eq!(ok.attempt.expect("an attempt").error_kind, None);
    assert_eq!(ok.next_attempt_at, None);
}

#[test]
fn a_retry_after_the_time_to_live_expires_instead() {
    use DeliveryStatus::{Expired, Failed, Pending};
    let down = answered(None, None);
    let judge = |made: u32, trigger, ttl_s: Option<i64>| {
        let mut job = Job::sample(None, 1);
        job.attempt_count = made;
        job.trigger = trigger;
        job.expires_at = ttl_s.map(|s| now() + chrono::Duration::seconds(s));
        verdict(&job, &schedule(), &down, now()).status
    };
    // The next attempt (10 s, up to 10% jitter) lands before or after the end of its life.
    assert_eq!(judge(0, Trigger::Scheduled, Some(20)), Pending);
    assert_eq!(judge(0, Trigger::Scheduled, Some(5)), Expired);
    assert_eq!(judge(0, Trigger::Scheduled, None), Pending);
    // The schedule ends: failed, or expired when the life is already over.
    assert_eq!(judge(2, Trigger::Scheduled, Some(0)), Expired);
    assert_eq!(judge(2, Trigger::Scheduled, Some(60)), Failed);
    // A person's resend is never expired.
    assert_eq!(judge(0, Trigger::Manual, Some(-5)), Failed);
    let mut job = Job::sample(None, 1);
    job.expires_at = Some(now());
    assert!(job.expired(now()) && !job.expired(now() - chrono::Duration::seconds(1)));
    assert_eq!(expired(&job).status, Expired);
    assert!(expired(&job).attempt.is_none());
}
