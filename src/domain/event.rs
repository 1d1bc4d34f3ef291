//! Events and the parsed values they are made of.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{AppId, EventId, FieldError, OrderingKey};

/// An event type name as catalogs spell them: `participant_joined`, `bot.state_change`,
/// `room:participant_enter`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[schema(value_type = String)]
pub struct EventTypeName(String);

impl EventTypeName {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-');
        if value.is_empty() || value.len() > 128 {
            return Err(FieldError::new(field, "must be 1 to 128 characters"));
        }
        if !value.chars().all(ok_char) {
            return Err(FieldError::new(
                field,
                "may contain only letters, digits, '_', '.', ':' and '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    /// Herald's own operational events (`herald.endpoint.disabled`, ...): published by
    /// Herald only, and received only by endpoints that name them.
    pub fn is_operational(&self) -> bool {
        self.0.starts_with("herald.")
    }
}

/// The caller's key that makes publishing idempotent within an app.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[schema(value_type = String)]
pub struct IdempotencyKey(String);

/// A caller's key (idempotency, ordering): 1 to 256 bytes, without control characters.
pub(super) fn key_text(field: &str, value: &str) -> Result<String, FieldError> {
    if value.is_empty() || value.len() > 256 {
        return Err(FieldError::new(field, "must be 1 to 256 bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

impl IdempotencyKey {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        key_text(field, value).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

/// Labels place an event in the platform's world (`room_id`, `session_id`, `bot_id`, ...);
/// endpoints filter on them and the delivery log is searched by them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = HashMap<String, String>)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    pub const MAX: usize = 32;

    /// Checks label names and values; `field` is the JSON path of the whole map.
    pub fn parse(field: &str, raw: BTreeMap<String, String>) -> Result<Self, FieldError> {
        if raw.len() > Self::MAX {
            return Err(FieldError::new(
                field,
                format!("at most {} labels", Self::MAX),
            ));
        }
        for (key, value) in &raw {
            Self::check_key(&format!("{field}.{key}"), key)?;
            if value.len() > 256 {
                return Err(FieldError::new(
                    format!("{field}.{key}"),
                    "must be at most 256 bytes",
                ));
            }
        }
        Ok(Self(raw))
    }

    /// A label name: lowercase letters, digits, `_`, `.` and `-`, up to 64 bytes.
    pub fn check_key(field: &str, key: &str) -> Result<(), FieldError> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
        if key.is_empty() || key.len() > 64 || !key.chars().all(ok_char) {
            return Err(FieldError::new(
                field,
                "label names are 1 to 64 of a-z, 0-9, '_', '.', '-'",
            ));
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// Reads labels back from the store, where only parsed labels were written.
    pub fn from_stored(raw: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(raw).map(Self)
    }
}

/// An event's `data`: a JSON object, kept as the exact text the publisher sent.
///
/// Herald never needs to look inside `data` to store or sign a Standard Webhooks body, so it
/// is parsed once for validity and then carried as text: no tree is built per event, and the
/// receiver gets the publisher's bytes (key order, number spelling) unchanged.
#[derive(Clone, Debug, PartialEq, Eq, ToSchema)]
#[schema(value_type = Object)]
pub struct EventData(Box<str>);

impl EventData {
    /// Accepts a JSON object that every format can carry faithfully (see
    /// [`super::json`]), keeping its text.
    pub fn parse(field: &str, raw: &serde_json::value::RawValue) -> Result<Self, FieldError> {
        let text = raw.get().trim();
        if !text.starts_with('{') {
            return Err(FieldError::new(field, "must be a JSON object"));
        }
        super::json::parse_faithful(field, text)?;
        Ok(Self(text.into()))
    }

    pub fn empty() -> Self {
        Self("{}".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed object, numbers as written, for formats that rearrange `data`. Fails only
    /// for text stored by a version that accepted what the formats cannot carry.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// Rebuilds data read back from the store, where only parsed objects were written.
    pub fn from_trusted(text: String) -> Self {
        Self(text.into_boxed_str())
    }
}

impl Serialize for EventData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::value::RawValue::from_string(self.0.to_string()) {
            Ok(raw) => raw.serialize(s),
            Err(_) => serde_json::json!({}).serialize(s),
        }
    }
}

/// One thing that happened on the platform.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Event {
    pub id: EventId,
    pub app_id: AppId,
    #[serde(rename = "type")]
    pub event_type: EventTypeName,
    pub data: EventData,
    pub labels: Labels,
    pub occurred_at: DateTime<Utc>,
    pub idempotency_key: Option<IdempotencyKey>,
    /// Context some formats carry beside `data` (Attendee's `bot_metadata`, Sendbird's
    /// `members`); a JSON object when present.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Overrides the `room_id` label as the key of per-room ordering.
    pub ordering_key: Option<OrderingKey>,
    /// The event's place among its room's events (1, 2, 3, ... per app and room, without
    /// gaps, in commit order), given when it is stored; `null` for an event with no room.
    pub sequence: Option<i64>,
    /// Seconds its deliveries stay worth sending (the publish's `ttl_s`, else its type's in
    /// the catalog). Read at fan-out, where each delivery takes its own `expires_at`; not
    /// kept with the event.
    #[serde(skip)]
    pub ttl_s: Option<u32>,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// An event Herald makes itself (an operational event, a verification challenge): of
    /// type `event_type` with `data`, now, with no idempotency key, room or time to live.
    pub fn internal(
        app_id: AppId,
        event_type: &str,
        data: &serde_json::Value,
        labels: Labels,
    ) -> Event {
        let now = Utc::now();
        Event {
            id: EventId::new(),
            app_id,
            event_type: EventTypeName::from_trusted(event_type.to_owned()),
            data: EventData::from_trusted(data.to_string()),
            labels,
            occurred_at: now,
            idempotency_key: None,
            metadata: None,
            ordering_key: None,
            sequence: None,
            ttl_s: None,
            created_at: now,
        }
    }

    /// The key per-room ordering uses: `ordering_key`, else the `room_id` label.
    pub fn order_key(&self) -> Option<OrderingKey> {
        self.ordering_key.clone().or_else(|| {
            self.labels
                .get("room_id")
                .map(|room| OrderingKey::from_trusted(room.to_owned()))
        })
    }
}
