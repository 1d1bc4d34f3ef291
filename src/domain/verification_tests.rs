//! The verification rules: when a check is due, what it concludes, and the two answers.

use chrono::TimeZone;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("a time")
}

fn attempt() -> VerificationAttempt {
    VerificationAttempt {
        started_at: now(),
        duration_ms: 3,
        status_code: Some(200),
        error_kind: None,
        response_body: String::new(),
    }
}

#[test]
fn a_fresh_endpoint_waits_until_it_passes() {
    assert!(VerificationState::fresh(VerificationMode::None).passes());
    let fresh = VerificationState::fresh(VerificationMode::Challenge);
    assert!(!fresh.passes() && fresh.due(VerificationMode::Challenge, now()));
    let passed = fresh.checked(Ok(()), attempt(), now());
    assert!(passed.passes() && passed.reason.is_none());
    assert!(!passed.due(VerificationMode::Challenge, now() + Duration::days(365)));
    let failed = fresh.checked(Err("wrong".into()), attempt(), now());
    assert!(!failed.passes());
    assert_eq!(failed.reason.as_deref(), Some("wrong"));
    assert!(!failed.due(VerificationMode::Challenge, now()));
    assert!(failed.due(VerificationMode::Challenge, now() + RETRY_AFTER));
}

#[test]
fn zoom_is_checked_again_every_72_hours_and_keeps_flowing_meanwhile() {
    let passed = VerificationState::fresh(VerificationMode::Zoom).checked(Ok(()), attempt(), now());
    assert!(!passed.due(
        VerificationMode::Zoom,
        now() + ZOOM_EVERY - Duration::seconds(1)
    ));
    assert!(passed.due(VerificationMode::Zoom, now() + ZOOM_EVERY));
    assert!(
        passed.passes(),
        "a due re-check does not stop deliveries by itself"
    );
    assert!(!passed.due(VerificationMode::None, now() + ZOOM_EVERY));
}

#[test]
fn zoom_answers_are_the_hex_hmac_of_the_plain_token() {
    // The documented exchange: HMAC-SHA256(secret token, plainToken), hex.
    let token = zoom_token("secret", "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let good = format!(r#"{{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"{token}"}}"#);
    assert_eq!(
        check_zoom("secret", "qgg8vlvZRS6UYooatFL8Aw", &good),
        Ok(())
    );
    assert!(check_zoom("other", "qgg8vlvZRS6UYooatFL8Aw", &good).is_err());
    assert!(check_zoom("secret", "another", &good).is_err());
    assert!(check_zoom("secret", "x", "not json").is_err());
}

#[test]
fn a_challenge_is_echoed_as_the_body_or_a_json_field() {
    assert_eq!(check_challenge("abc", "abc\n"), Ok(()));
    assert_eq!(check_challenge("abc", r#"{"challenge":"abc"}"#), Ok(()));
    assert!(check_challenge("abc", r#"{"challenge":"abd"}"#).is_err());
    assert!(check_challenge("abc", "").is_err());
}
