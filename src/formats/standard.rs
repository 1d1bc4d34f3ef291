//! Standard Webhooks 1.0: the format Svix sends under white-label headers.
//!
//! `webhook-id` is the delivery id, so it stays the same across retries and receivers can
//! de-duplicate; the signature covers `{id}.{timestamp}.{body}` with every key that is valid
//! at send time, so a receiver mid-rotation accepts either secret. A `whsec_` secret signs
//! `v1` (HMAC-SHA256), a `whsk_` key signs `v1a` (ed25519, see [`crate::domain::ed25519`]); the
//! scheme follows the key, so a rotation from one to the other sends both during its grace.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::{
    same, Credentials, Defaults, Format, Incoming, Outgoing, RenderError, Rendered, VerifyError,
};
use crate::domain::endpoint::Ordering;
use crate::domain::{ed25519, Endpoint, EventData, RetrySchedule};

/// How far a `webhook-timestamp` may be from the verifier's clock.
pub const TOLERANCE_S: i64 = 300;

pub struct Standard;

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    data: &'a EventData,
    /// The event's place in its room (see `Event::sequence`); absent without a room.
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<i64>,
}

fn key_bytes(secret: &str) -> Result<Vec<u8>, VerifyError> {
    let raw = secret.strip_prefix("whsec_").unwrap_or(secret);
    B64.decode(raw)
        .map_err(|e| VerifyError::BadSecret(format!("not base64 after 'whsec_': {e}")))
}

/// The `webhook-signature` entry of one secret: `v1a,...` for a `whsk_` key, else `v1,...`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, VerifyError> {
    if secret.starts_with(ed25519::SECRET_PREFIX) {
        let key = ed25519::signing_key(secret).map_err(VerifyError::BadSecret)?;
        return Ok(ed25519::sign(&key, id, timestamp, body));
    }
    sign_hmac(secret, id, timestamp, body)
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
fn sign_hmac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, VerifyError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_bytes(secret)?)
        .map_err(|e| VerifyError::BadSecret(e.to_string()))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// The headers of `body` sent as message `id` at `now`, signed by every key of `ep` valid
/// then. Deliveries and the endpoint's verification challenge are signed alike.
pub fn headers(
    ep: &Endpoint,
    id: &str,
    now: DateTime<Utc>,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, RenderError> {
    let ts = now.timestamp();
    let signatures: Vec<String> = ep
        .signing_secrets(now)
        .into_iter()
        .map(|secret| sign(secret.expose(), id, ts, body))
        .collect::<Result<_, _>>()
        .map_err(|e| RenderError::Secret(e.to_string()))?;
    Ok(vec![
        ("content-type", "application/json".to_owned()),
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", signatures.join(" ")),
    ])
}

impl Format for Standard {
    fn render(&self, out: &Outgoing<'_>) -> Result<Rendered, RenderError> {
        if out.endpoint.data_only {
            let body = out.event.data.as_str().as_bytes().to_vec();
            let headers = headers(out.endpoint, out.delivery_id.as_str(), out.now, &body)?;
            return Ok(Rendered { body, headers });
        }
        let body = Body {
            event_type: out.event.event_type.as_str(),
            timestamp: out
                .event
                .occurred_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            data: &out.event.data,
            sequence: out.event.sequence,
        };
        let body = serde_json::to_vec(&body).map_err(|e| RenderError::Data(e.to_string()))?;
        let headers = headers(out.endpoint, out.delivery_id.as_str(), out.now, &body)?;
        Ok(Rendered { body, headers })
    }

    fn verify(
        &self,
        req: &Incoming<'_>,
        creds: &Credentials<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let secret = creds.secret;
        let id = req
            .header("webhook-id")
            .ok_or(VerifyError::MissingHeader("webhook-id"))?;
        let ts_raw = req
            .header("webhook-timestamp")
            .ok_or(VerifyError::MissingHeader("webhook-timestamp"))?;
        let sigs = req
            .header("webhook-signature")
            .ok_or(VerifyError::MissingHeader("webhook-signature"))?;
        let ts: i64 = ts_raw
            .trim()
            .parse()
            .map_err(|_| VerifyError::BadHeader("webhook-timestamp", "not unix seconds".into()))?;
        if (now.timestamp() - ts).abs() > TOLERANCE_S {
            return Err(VerifyError::Timestamp(TOLERANCE_S));
        }
        let found = if secret.starts_with(ed25519::SECRET_PREFIX)
            || secret.starts_with(ed25519::PUBLIC_PREFIX)
        {
            let key = ed25519::verifying_key(secret).map_err(VerifyError::BadSecret)?;
            sigs.split(' ')
                .any(|entry| ed25519::verifies(&key, id, ts, req.body, entry))
        } else {
            let expected = sign_hmac(secret, id, ts, req.body)?;
            sigs.split(' ').any(|candidate| same(candidate, &expected))
        };
        if found {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }

    fn secret_headers(&self) -> &'static [&'static str] {
        &["webhook-signature"]
    }

    fn defaults(&self) -> Defaults {
        Defaults {
            timeout_ms: 15_000,
            retry_schedule: RetrySchedule::standard(),
            ordering: Ordering::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_vectors;

    #[test]
    fn reproduces_shared_vectors() {
        let vectors = test_vectors::for_format("standard");
        assert!(!vectors.is_empty(), "no standard vectors found");
        for v in vectors {
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let ts: i64 = field("webhook-timestamp").parse().unwrap_or_default();
            let got = sign(
                &field("secret"),
                &field("webhook-id"),
                ts,
                field("body").as_bytes(),
            );
            assert_eq!(got.ok(), Some(field("webhook-signature")));
        }
    }

    #[test]
    fn verify_rejects_tampering_wrong_secret_and_old_timestamps() {
        let secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";
        let now = Utc::now();
        let body = br#"{"type":"x","timestamp":"t","data":{}}"#;
        let sig = sign(secret, "dlv_1", now.timestamp(), body).unwrap_or_default();
        let headers = vec![
            ("webhook-id".to_owned(), "dlv_1".to_owned()),
            ("webhook-timestamp".to_owned(), now.timestamp().to_string()),
            ("webhook-signature".to_owned(), sig),
        ];
        let ok = Incoming {
            headers: &headers,
            body,
        };
        let creds = |secret| Credentials {
            secret,
            api_key: None,
        };
        assert_eq!(Standard.verify(&ok, &creds(secret), now), Ok(()));
        let tampered = Incoming {
            headers: &headers,
            body: b"{}",
        };
        let bad = Standard.verify(&tampered, &creds(secret), now);
        assert_eq!(bad, Err(VerifyError::BadSignature));
        let other = "whsec_//////////////////////////////////////////8=";
        assert_eq!(
            Standard.verify(&ok, &creds(other), now),
            Err(VerifyError::BadSignature)
        );
        let later = now + chrono::Duration::seconds(TOLERANCE_S + 1);
        let old = Standard.verify(&ok, &creds(secret), later);
        assert_eq!(old, Err(VerifyError::Timestamp(TOLERANCE_S)));
    }

    #[test]
    fn ed25519_keys_sign_v1a_and_verify_with_the_public_key() {
        let secret = ed25519::generate();
        let public = ed25519::public_key(&secret).unwrap_or_default();
        let now = Utc::now();
        let body = br#"{"type":"x","timestamp":"t","data":{}}"#;
        let sig = sign(&secret, "dlv_1", now.timestamp(), body).unwrap_or_default();
        assert!(sig.starts_with("v1a,"));
        let headers = vec![
            ("webhook-id".to_owned(), "dlv_1".to_owned()),
            ("webhook-timestamp".to_owned(), now.timestamp().to_string()),
            ("webhook-signature".to_owned(), format!("v1,bogus= {sig}")),
        ];
        let creds = |secret| Credentials {
            secret,
            api_key: None,
        };
        let ok = Incoming {
            headers: &headers,
            body,
        };
        assert_eq!(Standard.verify(&ok, &creds(&public), now), Ok(()));
        assert_eq!(Standard.verify(&ok, &creds(&secret), now), Ok(()));
        let tampered = Incoming {
            headers: &headers,
            body: b"{}",
        };
        let bad = Standard.verify(&tampered, &creds(&public), now);
        assert_eq!(bad, Err(VerifyError::BadSignature));
        let other = ed25519::public_key(&ed25519::generate()).unwrap_or_default();
        let wrong = Standard.verify(&ok, &creds(&other), now);
        assert_eq!(wrong, Err(VerifyError::BadSignature));
    }
}
