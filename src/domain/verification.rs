//! Verified endpoints: before Herald sends a customer's events to a URL, the URL proves it
//! belongs to someone holding the endpoint's secret, so a typo or a hostile URL never receives
//! them. `challenge` sends a signed random string the receiver must echo; `zoom` runs Zoom's
//! `endpoint.url_validation` exchange (the receiver answers the hex HMAC-SHA256 of a plain
//! token keyed by the secret), again every 72 hours. Until an endpoint passes, its deliveries
//! wait; the rules of when to check and what a check means live here, the exchange itself in
//! the dispatcher.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::ErrorKind;

/// How often Zoom's exchange is repeated on a verified endpoint.
pub const ZOOM_EVERY: Duration = Duration::hours(72);
/// How long a failed verification waits before it is tried again.
pub const RETRY_AFTER: Duration = Duration::minutes(1);

/// How an endpoint proves it wants what it is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMode {
    #[default]
    None,
    /// Echo a signed random challenge.
    Challenge,
    /// Zoom's `endpoint.url_validation` exchange.
    Zoom,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Nothing to prove (`verification: none`), or proven.
    #[default]
    Verified,
    /// Not checked yet: deliveries wait.
    Pending,
    /// The last check failed (`reason` says how): deliveries wait.
    Failed,
}

/// The last verification request, as the delivery log shows an attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationAttempt {
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub error_kind: Option<ErrorKind>,
    /// The first 4 KiB of the receiver's answer.
    pub response_body: String,
}

/// Where an endpoint stands: whether its deliveries flow, and why not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationState {
    pub status: VerificationStatus,
    /// Why deliveries wait, while they do.
    pub reason: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub checked_at: Option<DateTime<Utc>>,
    pub last_attempt: Option<VerificationAttempt>,
}

impl VerificationState {
    /// The state of an endpoint whose URL or mode just changed.
    pub fn fresh(mode: VerificationMode) -> Self {
        match mode {
            VerificationMode::None => Self::default(),
            _ => Self {
                status: VerificationStatus::Pending,
                reason: Some("waiting for the receiver to pass verification".into()),
                ..Self::default()
            },
        }
    }

    /// Whether deliveries may be sent.
    pub fn passes(&self) -> bool {
        self.status == VerificationStatus::Verified
    }

    /// Whether a check is due at `now`: never verified, failed a while ago, or a Zoom
    /// endpoint verified 72 hours ago.
    pub fn due(&self, mode: VerificationMode, now: DateTime<Utc>) -> bool {
        let since = |t: Option<DateTime<Utc>>, d: Duration| t.is_none_or(|t| t + d <= now);
        match (mode, self.status) {
            (VerificationMode::None, _) => false,
            (_, VerificationStatus::Pending) => true,
            (_, VerificationStatus::Failed) => since(self.checked_at, RETRY_AFTER),
            (VerificationMode::Zoom, VerificationStatus::Verified) => {
                since(self.verified_at, ZOOM_EVERY)
            }
            (VerificationMode::Challenge, VerificationStatus::Verified) => false,
        }
    }

    /// The state after a check at `now` whose verdict is `outcome`.
    pub fn checked(
        &self,
        outcome: Result<(), String>,
        attempt: VerificationAttempt,
        now: DateTime<Utc>,
    ) -> Self {
        let (status, reason, verified_at) = match outcome {
            Ok(()) => (VerificationStatus::Verified, None, Some(now)),
            Err(why) => (VerificationStatus::Failed, Some(why), self.verified_at),
        };
        Self {
            status,
            reason,
            verified_at,
            checked_at: Some(now),
            last_attempt: Some(attempt),
        }
    }
}

/// Hex HMAC-SHA256 of `msg` keyed by the bytes of `secret`, as Zoom computes both its answer
/// and its request signature.
fn hex_hmac(secret: &str, msg: &str) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(msg.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Zoom's answer to a plain token: hex HMAC-SHA256 of it, keyed by the secret's bytes.
pub fn zoom_token(secret: &str, plain: &str) -> String {
    hex_hmac(secret, plain)
}

/// Zoom's request signature, `x-zm-signature`: `v0=` and the hex HMAC-SHA256 of
/// `v0:{timestamp}:{body}`.
pub fn zoom_signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!("v0={}", hex_hmac(secret, &format!("v0:{timestamp}:{body}")))
}

/// Whether an answer echoes `challenge`: the body itself, or a JSON `challenge` field.
pub fn check_challenge(challenge: &str, body: &str) -> Result<(), String> {
    let field = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["challenge"].as_str().map(str::to_owned));
    match body.trim() == challenge || field.as_deref() == Some(challenge) {
        true => Ok(()),
        false => Err("the answer did not echo the challenge".into()),
    }
}

/// Whether an answer is Zoom's: `{"plainToken": <sent>, "encryptedToken": <zoom_token>}`.
pub fn check_zoom(secret: &str, plain: &str, body: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|_| "the answer is not JSON with plainToken and encryptedToken".to_owned())?;
    if v["plainToken"].as_str() != Some(plain) {
        return Err("the answer's plainToken is not the one sent".into());
    }
    let want = zoom_token(secret, plain);
    match v["encryptedToken"].as_str() {
        Some(got) if got.eq_ignore_ascii_case(&want) => Ok(()),
        _ => Err("encryptedToken is not the HMAC-SHA256 of plainToken by the secret".into()),
    }
}

#[cfg(test)]
#[path = "verification_tests.rs"]
mod tests;
