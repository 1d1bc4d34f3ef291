//! Attendee's webhook format (meeting bots).
//!
//! The receiver verifies by parsing the body, re-serialising it canonically and comparing
//! the base64 HMAC-SHA256 (keyed by the base64-decoded secret) with `X-Webhook-Signature`.
//! Herald sends exactly the canonical bytes, so a receiver that hashes the raw body agrees.
//! `idempotency_key` is a UUID derived from the delivery id: one per delivery, the same on
//! every retry.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    canonical, data_value, same, Credentials, Defaults, Format, Incoming, Outgoing, RenderError,
    Rendered, VerifyError,
};
use crate::domain::endpoint::Ordering;
use crate::domain::{DeliveryId, RetrySchedule};

pub struct Attendee;

/// The delivery's ULID as a UUID string: stable across retries, unique per delivery.
pub fn uuid_of(id: &DeliveryId) -> String {
    let raw = id.as_str().rsplit('_').next().unwrap_or_default();
    let n = ulid::Ulid::from_string(raw)
        .map(u128::from)
        .unwrap_or_default();
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Base64 HMAC-SHA256 of `body` keyed by the base64-decoded secret.
pub fn sign(secret: &str, body: &[u8]) -> Result<String, VerifyError> {
    let key = B64
        .decode(secret)
        .map_err(|e| VerifyError::BadSecret(format!("not base64: {e}")))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&key).map_err(|e| VerifyError::BadSecret(e.to_string()))?;
    mac.update(body);
    Ok(B64.encode(mac.finalize().into_bytes()))
}

impl Format for Attendee {
    fn render(&self, out: &Outgoing<'_>) -> Result<Rendered, RenderError> {
        let e = out.event;
        let payload = json!({
            "idempotency_key": uuid_of(out.delivery_id),
            "bot_id": e.labels.get("bot_id"),
            "bot_metadata": e.metadata.clone().unwrap_or(Value::Null),
            "trigger": e.event_type.as_str(),
            "data": data_value(e)?,
        });
        let body = canonical::to_string(&payload).into_bytes();
        let signature = sign(out.endpoint.secret.expose(), &body)
            .map_err(|e| RenderError::Secret(e.to_string()))?;
        Ok(Rendered {
            body,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("x-webhook-signature", signature),
            ],
        })
    }

    fn verify(
        &self,
        req: &Incoming<'_>,
        creds: &Credentials<'_>,
        _now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let got = req
            .header("x-webhook-signature")
            .ok_or(VerifyError::MissingHeader("X-Webhook-Signature"))?;
        // As Attendee documents it: over the canonical re-serialisation of the parsed body.
        let parsed: Value =
            serde_json::from_slice(req.body).map_err(|_| VerifyError::BadSignature)?;
        let canonical = canonical::to_string(&parsed);
        if same(got, &sign(creds.secret, canonical.as_bytes())?) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }

    fn secret_headers(&self) -> &'static [&'static str] {
        &["x-webhook-signature"]
    }

    fn defaults(&self) -> Defaults {
        Defaults {
            timeout_ms: 10_000,
            retry_schedule: RetrySchedule::from_trusted(vec![2, 4]),
            ordering: Ordering::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_vectors;

    #[test]
    fn reproduces_shared_vectors_canonically() {
        let vectors = test_vectors::for_format("attendee");
        assert!(!vectors.is_empty());
        for v in vectors {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let body = s("canonical_body");
            assert_eq!(
                sign(&s("secret"), body.as_bytes()).ok(),
                Some(s("X-Webhook-Signature"))
            );
            // Parsing and re-serialising gives back the very same bytes.
            let parsed: Value = serde_json::from_str(&body).unwrap_or_default();
            assert_eq!(canonical::to_string(&parsed), body);
        }
    }

    #[test]
    fn delivery_ids_map_to_stable_uuids() {
        let id = DeliveryId::new();
        let u = uuid_of(&id);
        assert_eq!(u, uuid_of(&id));
        assert_eq!(u.len(), 36);
        assert_ne!(u, uuid_of(&DeliveryId::new()));
    }
}
