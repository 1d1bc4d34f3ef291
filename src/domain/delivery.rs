//! Deliveries (one event to one endpoint) and their attempts (one HTTP request each).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AttemptId, DeliveryId, EndpointId, EventId, Labels};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
    Cancelled,
    /// Not succeeded within its event's time to live: no longer worth sending.
    Expired,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
            DeliveryStatus::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Succeeded,
            Self::Failed,
            Self::Cancelled,
            Self::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// Why an attempt did not succeed, as a receiver's operator would look for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Timeout,
    Connect,
    Dns,
    Tls,
    Blocked,
    HttpStatus,
    InvalidResponse,
    /// The request could not be built (the stored event cannot be rendered in the
    /// endpoint's format, or its secret cannot sign); nothing was sent.
    Render,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Blocked => "blocked",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Render => "render",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Timeout,
            Self::Connect,
            Self::Dns,
            Self::Tls,
            Self::Blocked,
            Self::HttpStatus,
            Self::InvalidResponse,
            Self::Render,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }
}

/// What started an attempt: the schedule, or a person asking for a resend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Scheduled,
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Scheduled => "scheduled",
            Trigger::Manual => "manual",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Trigger::Scheduled, Trigger::Manual]
            .into_iter()
            .find(|t| t.as_str() == value)
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub endpoint_id: EndpointId,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub labels: Labels,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the delivery stops being worth sending (its event's time to live), if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Attempt {
    pub id: AttemptId,
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub status_code: Option<u16>,
    pub error_kind: Option<ErrorKind>,
    /// The first 4 KiB of the receiver's answer.
    pub response_body: String,
    /// The request's headers, secrets redacted.
    #[schema(value_type = Object)]
    pub request_headers: serde_json::Value,
    pub trigger: Trigger,
    /// The request went out under a lease this process no longer held (it was paused past
    /// it, and another took the delivery over): the receiver saw it, but it changed nothing
    /// in the delivery's state.
    pub lapsed_lease: bool,
}
