//! Endpoints: where an app's events go, in which wire format, and under which limits.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    AppId, EndpointId, EndpointSecret, Event, EventTypeName, FieldError, Health, Labels,
    RetrySchedule,
};
use crate::domain::verification::{VerificationMode, VerificationState};

/// The wire format an endpoint's receiver expects.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FormatKind {
    Standard,
    Digitalsamba,
    Attendee,
    Livekit,
    Plugnmeet,
    Sendbird,
}

impl FormatKind {
    pub const ALL: [FormatKind; 6] = [
        FormatKind::Standard,
        FormatKind::Digitalsamba,
        FormatKind::Attendee,
        FormatKind::Livekit,
        FormatKind::Plugnmeet,
        FormatKind::Sendbird,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FormatKind::Standard => "standard",
            FormatKind::Digitalsamba => "digitalsamba",
            FormatKind::Attendee => "attendee",
            FormatKind::Livekit => "livekit",
            FormatKind::Plugnmeet => "plugnmeet",
            FormatKind::Sendbird => "sendbird",
        }
    }

    pub fn parse(value: &str) -> Option<FormatKind> {
        FormatKind::ALL.into_iter().find(|f| f.as_str() == value)
    }
}

/// An absolute `http` or `https` URL with a host; whether its address may be reached is
/// decided at send time by the SSRF guard, on the address actually connected to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = String)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    pub fn parse(field: &str, raw: &str) -> Result<(Self, url::Url), FieldError> {
        if raw.len() > 2048 {
            return Err(FieldError::new(field, "must be at most 2048 bytes"));
        }
        let url = url::Url::parse(raw)
            .map_err(|e| FieldError::new(field, format!("is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FieldError::new(field, "must use the http or https scheme"));
        }
        if url.host().is_none() {
            return Err(FieldError::new(field, "must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new(
                field,
                "must not carry credentials; use `headers`",
            ));
        }
        Ok((Self(url.as_str().to_owned()), url))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

/// Which event types an endpoint receives: `["*"]` is every type, `[]` none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscription {
    All,
    Types(BTreeSet<EventTypeName>),
}

impl Subscription {
    pub fn matches(&self, event_type: &EventTypeName) -> bool {
        match self {
            Subscription::All => !event_type.is_operational(),
            Subscription::Types(types) => types.contains(event_type),
        }
    }

    pub fn to_list(&self) -> Vec<String> {
        match self {
            Subscription::All => vec!["*".to_owned()],
            Subscription::Types(types) => types.iter().map(|t| t.as_str().to_owned()).collect(),
        }
    }
}

impl Serialize for Subscription {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_list().serialize(s)
    }
}

/// Labels an event must carry, with these exact values, to reach the endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LabelFilter {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl LabelFilter {
    pub fn matches(&self, labels: &Labels) -> bool {
        self.labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v.as_str()))
    }
}

/// How an endpoint receives its events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    /// Herald sends each delivery to the endpoint's URL.
    #[default]
    Push,
    /// Nothing is sent: the consumer pulls its deliveries from `.../poll`, for receivers
    /// behind firewalls that cannot take inbound webhooks. There is no URL.
    Polling,
}

/// How deliveries to one endpoint are ordered relative to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Deliveries proceed in parallel, up to `max_in_flight`.
    None,
    /// Events with the same ordering key are delivered one at a time, in publish order.
    PerRoom,
}

/// A subscriber. The secret is held here but never serialised with it (an ed25519 key shows its
/// public half): it is shown on create, on rotation and through the explicit secret read only.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: EndpointId,
    pub app_id: AppId,
    /// `push` (the default) or `polling`; fixed after creation.
    pub kind: EndpointKind,
    /// Where deliveries are sent; empty for a polling endpoint.
    pub url: EndpointUrl,
    pub name: String,
    pub description: String,
    pub format: FormatKind,
    #[schema(value_type = Vec<String>)]
    pub events: Subscription,
    pub filter: LabelFilter,
    /// Static headers added to every request.
    pub headers: BTreeMap<String, String>,
    pub timeout_ms: u32,
    #[schema(value_type = Vec<u32>)]
    pub retry_schedule_s: RetrySchedule,
    pub max_in_flight: u32,
    pub rate_limit_per_s: Option<u32>,
    pub ordering: Ordering,
    /// The JWT issuer of `livekit` and `plugnmeet` endpoints (the LiveKit API key).
    pub api_key: Option<String>,
    /// `sendbird`: add the room's member list, when the publisher supplied it.
    pub include_members: bool,
    /// `standard`: the body is `data` alone, without the `{type, timestamp, data}` envelope
    /// (what Svix sends, and what endpoints made through its API get).
    pub data_only: bool,
    /// `plugnmeet`: the Content-Type to send.
    pub content_type: Option<String>,
    /// After this time the endpoint receives nothing (a per-room endpoint ends with its room).
    pub expires_at: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Disable the endpoint after it has failed continuously this long; the server's
    /// `disable_after` when unset.
    pub disable_after_s: Option<u32>,
    /// Seconds this endpoint's deliveries stay worth sending, in place of each event's own
    /// (its publish's or its type's); 0 means never expire.
    pub ttl_s: Option<u32>,
    /// The circuit breaker: whether requests flow, and since when the endpoint fails.
    pub health: Health,
    /// `none`, `challenge` or `zoom`: how the URL proves it wants these events.
    pub verification: VerificationMode,
    /// Whether the URL passed verification; deliveries wait until it has, and `reason`
    /// says why they wait.
    pub verification_state: VerificationState,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only the public half is shown: `public_key`, the `whpk_` key of a `standard` endpoint
    /// signing with ed25519 (absent for HMAC secrets, which are never shown here).
    #[serde(rename = "public_key", serialize_with = "super::secret::public_half")]
    #[schema(value_type = Option<String>)]
    pub secret: EndpointSecret,
    /// The key that signed before the last rotation, and until when it still signs.
    #[serde(skip)]
    pub previous_secret: Option<(EndpointSecret, DateTime<Utc>)>,
}

impl Endpoint {
    /// Stops deliveries to this endpoint, saying why (a receiver that answered 410 Gone).
    pub fn disable(&mut self, reason: &str, at: DateTime<Utc>) {
        self.enabled = false;
        self.disabled_reason = Some(reason.to_owned());
        self.updated_at = at;
    }

    /// Whether its deliveries may be sent now: enabled, and verified where asked.
    pub fn deliverable(&self) -> bool {
        self.enabled && self.verification_state.passes()
    }

    /// Whether a freshly published event fans out to this endpoint.
    pub fn wants(&self, event: &Event) -> bool {
        self.enabled
            && self.expires_at.is_none_or(|at| at > event.created_at)
            && self.events.matches(&event.event_type)
            && self.filter.matches(&event.labels)
            && !self.is_subject_of(event)
    }

    /// Whether `event` is an operational event about this endpoint, which it never gets.
    fn is_subject_of(&self, event: &Event) -> bool {
        event.event_type.is_operational()
            && event.labels.get("endpoint_id") == Some(self.id.as_str())
    }

    /// The secrets that sign a request made at `now`: the current one, and the previous one
    /// while its grace period lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&EndpointSecret> {
        let mut secrets = vec![&self.secret];
        if let Some((old, until)) = &self.previous_secret {
            if *until > now {
                secrets.push(old);
            }
        }
        secrets
    }
}
