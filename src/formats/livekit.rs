//! LiveKit's webhook format: what a LiveKit server sends, so `livekit-api`'s
//! `WebhookReceiver` and `livekit-server-sdk` accept Herald's deliveries unchanged.
//!
//! The body spreads the event's data at the top level beside `event`, `id` and `createdAt`
//! (a string of unix seconds, as protobuf's JSON mapping spells an int64), and the JWT in
//! `Authorization` (no `Bearer`) carries the body's hash.

use chrono::{DateTime, Utc};

use super::{
    jwt, spread_body, Credentials, Defaults, Format, Incoming, Outgoing, RenderError, Rendered,
    VerifyError,
};
use crate::domain::endpoint::Ordering;
use crate::domain::RetrySchedule;

pub struct Livekit;

/// The API key a LiveKit-family endpoint signs as: its own, or a stable default.
pub fn issuer(out: &Outgoing<'_>) -> String {
    out.endpoint
        .api_key
        .clone()
        .unwrap_or_else(|| "herald".to_owned())
}

impl Format for Livekit {
    fn render(&self, out: &Outgoing<'_>) -> Result<Rendered, RenderError> {
        let created = out.event.created_at.timestamp().to_string();
        let tail = vec![
            ("id", out.event.id.as_str().into()),
            ("createdAt", created.into()),
        ];
        let body = spread_body("event", out.event, tail)?;
        let token = jwt::sign(&issuer(out), out.endpoint.secret.expose(), &body, out.now)?;
        Ok(Rendered {
            body,
            headers: vec![
                ("content-type", "application/webhook+json".to_owned()),
                ("authorization", token),
            ],
        })
    }

    fn verify(
        &self,
        req: &Incoming<'_>,
        creds: &Credentials<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let token = req
            .header("authorization")
            .ok_or(VerifyError::MissingHeader("Authorization"))?;
        jwt::verify(token, creds.api_key, creds.secret, req.body, now).map(|_| ())
    }

    fn secret_headers(&self) -> &'static [&'static str] {
        &["authorization"]
    }

    fn defaults(&self) -> Defaults {
        Defaults {
            timeout_ms: 10_000,
            retry_schedule: RetrySchedule::from_trusted(vec![1, 2, 4, 8]),
            ordering: Ordering::None,
        }
    }
}
