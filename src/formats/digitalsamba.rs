//! DigitalSamba's webhook format.
//!
//! DigitalSamba does not sign bodies: the endpoint's `authorization_header` secret is sent as
//! a bearer token on every request, and the body carries the room and session the event
//! belongs to. A receiver can check the token, not the body.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{
    same, Credentials, Defaults, Format, Incoming, Outgoing, RenderError, Rendered, VerifyError,
};
use crate::domain::endpoint::Ordering;
use crate::domain::{EventData, RetrySchedule};

pub struct Digitalsamba;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    event_type: &'a str,
    session_id: Option<&'a str>,
    room_id: Option<&'a str>,
    timestamp: i64,
    data: &'a EventData,
}

impl Format for Digitalsamba {
    fn render(&self, out: &Outgoing<'_>) -> Result<Rendered, RenderError> {
        let e = out.event;
        let body = Body {
            event_type: e.event_type.as_str(),
            session_id: e.labels.get("session_id"),
            room_id: e.labels.get("room_id"),
            timestamp: e.occurred_at.timestamp(),
            data: &e.data,
        };
        let mut headers = vec![("content-type", "application/json".to_owned())];
        let token = out.endpoint.secret.expose();
        if !token.is_empty() {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        Ok(Rendered {
            body: serde_json::to_vec(&body).map_err(|e| RenderError::Data(e.to_string()))?,
            headers,
        })
    }

    fn verify(
        &self,
        req: &Incoming<'_>,
        creds: &Credentials<'_>,
        _now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let got = req
            .header("authorization")
            .ok_or(VerifyError::MissingHeader("Authorization"))?;
        if same(got, &format!("Bearer {}", creds.secret)) {
            Ok(())
        } else {
            Err(VerifyError::WrongCredential)
        }
    }

    fn secret_headers(&self) -> &'static [&'static str] {
        &["authorization"]
    }

    fn defaults(&self) -> Defaults {
        Defaults {
            timeout_ms: 10_000,
            retry_schedule: RetrySchedule::standard(),
            ordering: Ordering::None,
        }
    }
}
