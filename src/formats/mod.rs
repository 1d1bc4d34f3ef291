//! Wire formats: how one delivery becomes one HTTP request, and how a receiver checks it.
//!
//! Each format is one file implementing [`Format`]. Rendering and verifying live side by side
//! so that `herald verify`, `herald listen` and the tests check a request with the same
//! rules a receiver would, and a format cannot drift from its own verifier.

mod attendee;
pub mod canonical;
mod digitalsamba;
pub mod docs;
#[cfg(test)]
mod fuzz_tests;
pub mod jwt;
mod livekit;
mod plugnmeet;
mod sendbird;
mod standard;

use chrono::{DateTime, Utc};

use crate::domain::endpoint::Ordering;
use crate::domain::{DeliveryId, Endpoint, Event, FormatKind, RetrySchedule};

pub use attendee::Attendee;
pub use digitalsamba::Digitalsamba;
#[cfg(test)]
pub(crate) use fuzz_tests::json_value as fuzz_json;
pub use livekit::Livekit;
pub use plugnmeet::Plugnmeet;
pub use sendbird::Sendbird;
pub use standard::{headers as standard_headers, Standard};

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

/// The headers of a request: the endpoint's static ones, then the format's (which win over a
/// static header of the same name), then `herald-sequence` when the event has a room, on
/// every format, so that a receiver that sees 7 after 5 knows it missed 6.
pub fn request_headers(ep: &Endpoint, event: &Event, rendered: &Rendered) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = ep
        .headers
        .iter()
        .filter(|(k, _)| {
            !rendered
                .headers
                .iter()
                .any(|(r, _)| r.eq_ignore_ascii_case(k))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    headers.extend(
        rendered
            .headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
    );
    if let Some(sequence) = event.sequence {
        headers.push(("herald-sequence".to_owned(), sequence.to_string()));
    }
    headers
}

/// Why a request cannot be built; the attempt fails without sending anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the event's data cannot be parsed: {0}")]
    Data(String),
    #[error("the endpoint's secret cannot sign: {0}")]
    Secret(String),
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
    #[error("the token is expired")]
    Expired,
    #[error("the body was changed: its hash does not match the signed one")]
    BodyChanged,
    #[error("the credential does not match")]
    WrongCredential,
    #[error("invalid secret: {0}")]
    BadSecret(String),
}

/// Per-format defaults an endpoint inherits unless it overrides them.
pub struct Defaults {
    pub timeout_ms: u32,
    pub retry_schedule: RetrySchedule,
    pub ordering: Ordering,
}

/// What a verifier knows: the endpoint's secret, and for the LiveKit family its API key.
pub struct Credentials<'a> {
    pub secret: &'a str,
    pub api_key: Option<&'a str>,
}

pub trait Format: Send + Sync {
    /// Body and signature headers for one attempt.
    fn render(&self, out: &Outgoing<'_>) -> Result<Rendered, RenderError>;

    /// Checks a request against a secret at time `now`.
    fn verify(
        &self,
        req: &Incoming<'_>,
        creds: &Credentials<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError>;

    /// Header names whose values are credentials, redacted in the attempt log.
    fn secret_headers(&self) -> &'static [&'static str];

    fn defaults(&self) -> Defaults;
}

/// The implementation of a format.
pub fn format_for(kind: FormatKind) -> Option<&'static dyn Format> {
    Some(match kind {
        FormatKind::Standard => &Standard,
        FormatKind::Digitalsamba => &Digitalsamba,
        FormatKind::Attendee => &Attendee,
        FormatKind::Livekit => &Livekit,
        FormatKind::Plugnmeet => &Plugnmeet,
        FormatKind::Sendbird => &Sendbird,
    })
}

/// `{"<type_key>": type, ...data, <tail>}`: the LiveKit-family and Sendbird bodies, which
/// spread the event's data at the top level around Herald's own keys.
pub fn spread_body(
    type_key: &str,
    event: &Event,
    tail: Vec<(&str, serde_json::Value)>,
) -> Result<Vec<u8>, RenderError> {
    let mut map = serde_json::Map::new();
    map.insert(
        type_key.to_owned(),
        serde_json::Value::String(event.event_type.as_str().to_owned()),
    );
    if let serde_json::Value::Object(data) = data_value(event)? {
        for (k, v) in data {
            if k != type_key && !tail.iter().any(|(t, _)| *t == k) {
                map.insert(k, v);
            }
        }
    }
    for (k, v) in tail {
        map.insert(k.to_owned(), v);
    }
    serde_json::to_vec(&serde_json::Value::Object(map))
        .map_err(|e| RenderError::Data(e.to_string()))
}

/// The event's data as a tree, numbers as published.
pub fn data_value(event: &Event) -> Result<serde_json::Value, RenderError> {
    event
        .data
        .to_value()
        .map_err(|e| RenderError::Data(e.to_string()))
}

/// Constant-time equality of two strings.
pub fn same(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// The signing vectors computed by independent implementations, kept in the repository at
/// `tests/vectors/signatures.json`.
#[cfg(test)]
pub(crate) mod test_vectors {
    pub fn for_format(format: &str) -> Vec<serde_json::Value> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/signatures.json");
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
