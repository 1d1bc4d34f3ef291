//! Sendbird Calls' webhook format.
//!
//! The body is `{"category": <type>, ...data}` and `x-sendbird-signature` is the lowercase hex
//! HMAC-SHA256 of the raw body keyed by the application's API token. Sendbird waits one
//! second for an answer and sends a request up to three times, so those are the defaults.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{
    same, spread_body, Credentials, Defaults, Format, Incoming, Outgoing, RenderError, Rendered,
    VerifyError,
};
use crate::domain::endpoint::Ordering;
use crate::domain::RetrySchedule;

pub struct Sendbird;

/// Lowercase hex HMAC-SHA256 of `body` keyed by the token's bytes.
pub fn sign(token: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(token.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Format for Sendbird {
    fn render(&self, out: &Outgoing<'_>) -> Result<Rendered, RenderError> {
        let mut tail = Vec::new();
        if out.endpoint.include_members {
            if let Some(members) = out.event.metadata.as_ref().and_then(|m| m.get("members")) {
                tail.push(("members", members.clone()));
            }
        }
        let body = spread_body("category", out.event, tail)?;
        let signature = sign(out.endpoint.secret.expose(), &body);
        Ok(Rendered {
            body,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("x-sendbird-signature", signature),
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
            .header("x-sendbird-signature")
            .ok_or(VerifyError::MissingHeader("x-sendbird-signature"))?;
        if same(got, &sign(creds.secret, req.body)) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }

    fn secret_headers(&self) -> &'static [&'static str] {
        &["x-sendbird-signature"]
    }

    fn defaults(&self) -> Defaults {
        Defaults {
            timeout_ms: 1_000,
            retry_schedule: RetrySchedule::from_trusted(vec![1, 1]),
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
        let vectors = test_vectors::for_format("sendbird");
        assert!(!vectors.is_empty());
        for v in vectors {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            assert_eq!(
                sign(&s("secret"), s("body").as_bytes()),
                s("x-sendbird-signature")
            );
        }
    }
}
