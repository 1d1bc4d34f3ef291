//! LiveKit / plugNmeet webhooks in: verify the JWT, map the body onto an event.
//!
//! `event` becomes the type; the room's name (or sid) the `room_id` label; the participant's
//! identity the `participant_id` label; the webhook's `id` the idempotency key (a server that
//! retries a webhook publishes it once); the rest of the body is the event's data, so the
//! `livekit` and `plugnmeet` formats render it back in the shape it arrived in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{
    App, Event, EventData, EventId, EventTypeName, FieldError, IdempotencyKey, Labels,
};
use crate::formats::{jwt, VerifyError};

/// Checks the `Authorization` token against the app's ingest credentials.
pub fn verify(
    app: &App,
    authorization: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    let creds = app.ingest.livekit.as_ref().ok_or_else(|| {
        VerifyError::BadSecret("this app has no ingest.livekit credentials".into())
    })?;
    let token = authorization.ok_or(VerifyError::MissingHeader("Authorization"))?;
    jwt::verify(token, Some(&creds.api_key), &creds.api_secret, body, now).map(|_| ())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Maps a verified webhook body onto an event of `app`.
pub fn to_event(app: &App, body: &[u8]) -> Result<Event, FieldError> {
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("body", format!("is not JSON: {e}")))?;
    let Value::Object(mut map) = parsed else {
        return Err(FieldError::new("body", "must be a JSON object"));
    };
    let kind = map
        .remove("event")
        .and_then(|v| text(&v))
        .ok_or_else(|| FieldError::new("event", "is required"))?;
    let event_type = EventTypeName::parse("event", &kind)?;
    let id = map.remove("id").and_then(|v| text(&v));
    let created = map
        .remove("createdAt")
        .or_else(|| map.remove("created_at"))
        .and_then(|v| text(&v));
    let mut labels = BTreeMap::new();
    let room = &map.get("room").cloned().unwrap_or(Value::Null);
    if let Some(room_id) = text(&room["name"]).or_else(|| text(&room["sid"])) {
        labels.insert("room_id".to_owned(), room_id);
    }
    if let Some(participant) =
        text(&map.get("participant").cloned().unwrap_or(Value::Null)["identity"])
    {
        labels.insert("participant_id".to_owned(), participant);
    }
    let now = Utc::now();
    let occurred_at = created
        .and_then(|c| c.parse::<i64>().ok())
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or(now);
    let data = serde_json::value::to_raw_value(&Value::Object(map))
        .map_err(|e| FieldError::new("body", e.to_string()))?;
    Ok(Event {
        id: EventId::new(),
        app_id: app.id.clone(),
        event_type,
        data: EventData::parse("body", &data)?,
        labels: Labels::parse("labels", labels)?,
        occurred_at,
        idempotency_key: id.map(|k| IdempotencyKey::parse("id", &k)).transpose()?,
        metadata: None,
        ordering_key: None,
        sequence: None,
        ttl_s: None,
        created_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppId, Ingest, LivekitIngest, Preset};

    fn app() -> App {
        App {
            id: AppId::new(),
            name: "lk".into(),
            preset: Preset::Livekit,
            metadata: serde_json::json!({}),
            ingest: Ingest {
                livekit: Some(LivekitIngest {
                    api_key: "APIkey123".into(),
                    api_secret: "secret-0123456789abcdef0123456789".into(),
                }),
            },
            enforce_schemas: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn maps_room_participant_and_id() {
        let body = br#"{"event":"participant_joined","room":{"name":"r1","sid":"RM_1"},"participant":{"identity":"alice","sid":"PA_1"},"id":"EV_9","createdAt":"1795341600"}"#;
        let e = to_event(&app(), body).expect("maps");
        assert_eq!(e.event_type.as_str(), "participant_joined");
        assert_eq!(e.labels.get("room_id"), Some("r1"));
        assert_eq!(e.labels.get("participant_id"), Some("alice"));
        assert_eq!(
            e.idempotency_key.map(|k| k.as_str().to_owned()),
            Some("EV_9".to_owned())
        );
        assert_eq!(e.occurred_at.timestamp(), 1795341600);
        assert!(!e.data.as_str().contains("\"event\""));
    }

    #[test]
    fn only_the_configured_key_verifies() {
        let body = br#"{"event":"room_started"}"#;
        let now = Utc::now();
        let good =
            jwt::sign("APIkey123", "secret-0123456789abcdef0123456789", body, now).expect("signs");
        assert!(verify(&app(), Some(&good), body, now).is_ok());
        let forged =
            jwt::sign("APIkey123", "not-the-secret-at-all-0000000000", body, now).expect("signs");
        assert!(verify(&app(), Some(&forged), body, now).is_err());
        assert!(verify(&app(), None, body, now).is_err());
    }
}
