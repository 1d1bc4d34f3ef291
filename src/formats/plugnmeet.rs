//! plugNmeet's webhook format: LiveKit's security pattern with plugNmeet's body.
//!
//! The same JWT goes in `Authorization` and `Hash-Token`; `created_at` is a number; the
//! Content-Type is the endpoint's choice (`application/webhook+json` as documented, while
//! current plugNmeet servers send `application/json`). plugNmeet delivers each room's events
//! in order, so endpoints of this format default to per-room ordering.

use chrono::{DateTime, Utc};

use super::livekit::issuer;
use super::{
    jwt, spread_body, Credentials, Defaults, Format, Incoming, Outgoing, RenderError, Rendered,
    VerifyError,
};
use crate::domain::endpoint::Ordering;
use crate::domain::RetrySchedule;

pub struct Plugnmeet;

pub const DEFAULT_CONTENT_TYPE: &str = "application/webhook+json";

impl Format for Plugnmeet {
    fn render(&self, out: &Outgoing<'_>) -> Result<Rendered, RenderError> {
        let created = out.event.created_at.timestamp();
        let tail = vec![
            ("id", out.event.id.as_str().into()),
            ("created_at", created.into()),
        ];
        let body = spread_body("event", out.event, tail)?;
        let token = jwt::sign(&issuer(out), out.endpoint.secret.expose(), &body, out.now)?;
        let content_type = out
            .endpoint
            .content_type
            .clone()
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        Ok(Rendered {
            body,
            headers: vec![
                ("content-type", content_type),
                ("authorization", token.clone()),
                ("hash-token", token),
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
            .header("hash-token")
            .or_else(|| req.header("authorization"))
            .ok_or(VerifyError::MissingHeader("Hash-Token"))?;
        jwt::verify(token, creds.api_key, creds.secret, req.body, now).map(|_| ())
    }

    fn secret_headers(&self) -> &'static [&'static str] {
        &["authorization", "hash-token"]
    }

    fn defaults(&self) -> Defaults {
        Defaults {
            timeout_ms: 10_000,
            retry_schedule: RetrySchedule::from_trusted(vec![1, 2]),
            ordering: Ordering::PerRoom,
        }
    }
}
