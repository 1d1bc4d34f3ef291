//! Wire formats: how one delivery becomes one HTTP request, and how a receiver checks it.
//!
//! Each format is one file implementing [`Format`]. Rendering and verifying live side by side
//! so that `herald verify`, `herald listen` and the tests check a request with the same
//! rules a receiver would, and a format cannot drift from its own verifier.

mod standard;

use chrono::{DateTime, Utc};

use crate::domain::{DeliveryId, Endpoint, Event, FormatKind, RetrySchedule};

pub use standard::Standard;

/// Everything a format may put on the wire for one attempt.
pub struct Outgoing<'a> {
    pub event: &'a Event,
    pub delivery_id: &'a DeliveryId,
    pub endpoint: &'a Endpoint,
    /// The time of this attempt (signatures carry it; bodies carry the event's own time).
    pub now: DateTime<Utc>,
}

/// A rendered request: body bytes and headers (the format's own, before static headers).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// A received request, as a verifier sees it.
pub struct Incoming<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Incoming<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request does not verify, in words a receiver's operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("malformed header {0}: {1}")]
    BadHeader(&'static str, String),
    #[error("timestamp outside the tolerance of {0} seconds")]
    Timestamp(i64),
    #[error("no signature matches: the body was changed or the secret is wrong")]
    BadSignature,
    #[error("invalid secret: {0}")]
    BadSecret(String),
}

/// Per-format defaults an endpoint inherits unless it overrides them.
pub struct Defaults {
    pub timeout_ms: u32,
    pub retry_schedule: RetrySchedule,
}

pub trait Format: Send + Sync {
    /// Body and signature headers for one attempt.
    fn render(&self, out: &Outgoing<'_>) -> Rendered;

    /// Checks a request against a secret at time `now`.
    fn verify(
        &self,
        req: &Incoming<'_>,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError>;

    /// Header names whose values are credentials, redacted in the attempt log.
    fn secret_headers(&self) -> &'static [&'static str];

    fn defaults(&self) -> Defaults;
}

/// The implementation of a format, or `None` where this build does not speak it yet.
pub fn format_for(kind: FormatKind) -> Option<&'static dyn Format> {
    match kind {
        FormatKind::Standard => Some(&Standard),
        _ => None,
    }
}

/// The shared signing vectors, read from `../shared/vectors/signatures.json` beside the repo.
#[cfg(test)]
pub(crate) mod test_vectors {
    pub fn for_format(format: &str) -> Vec<serde_json::Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/signatures.json"
        );
        let raw = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let doc: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
        doc["vectors"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|v| v["format"] == format)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}
