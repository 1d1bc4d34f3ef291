//! Apps (tenants) and the catalog preset each one is created with.
//!
//! The preset decides two things a customer would otherwise have to configure by hand: which
//! event types exist, and which wire format a new endpoint speaks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppId, FormatKind};

/// The platform whose catalog and wire format an app starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Digitalsamba,
    Attendee,
    Plugnmeet,
    Livekit,
    Sendbird,
    Standard,
    None,
}

impl Preset {
    pub const ALL: [Preset; 7] = [
        Preset::Digitalsamba,
        Preset::Attendee,
        Preset::Plugnmeet,
        Preset::Livekit,
        Preset::Sendbird,
        Preset::Standard,
        Preset::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Digitalsamba => "digitalsamba",
            Preset::Attendee => "attendee",
            Preset::Plugnmeet => "plugnmeet",
            Preset::Livekit => "livekit",
            Preset::Sendbird => "sendbird",
            Preset::Standard => "standard",
            Preset::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.as_str() == value)
    }

    /// The wire format a new endpoint of this app speaks unless it asks for another.
    pub fn default_format(self) -> FormatKind {
        match self {
            Preset::Digitalsamba => FormatKind::Digitalsamba,
            Preset::Attendee => FormatKind::Attendee,
            Preset::Plugnmeet => FormatKind::Plugnmeet,
            Preset::Livekit => FormatKind::Livekit,
            Preset::Sendbird => FormatKind::Sendbird,
            Preset::Standard | Preset::None => FormatKind::Standard,
        }
    }
}

/// The credentials a LiveKit or plugNmeet server signs its webhooks with, so Herald can accept
/// them on `POST /v1/apps/{app}/ingest/livekit`. The secret is never shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LivekitIngest {
    pub api_key: String,
    #[serde(skip_serializing)]
    pub api_secret: String,
}

impl std::fmt::Debug for LivekitIngest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivekitIngest")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

/// Inbound adapters configured on an app.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ingest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub livekit: Option<LivekitIngest>,
}

impl Ingest {
    /// The stored form, secret included.
    pub fn to_store(&self) -> String {
        match &self.livekit {
            Some(lk) => {
                serde_json::json!({"livekit": {"api_key": lk.api_key, "api_secret": lk.api_secret}})
                    .to_string()
            }
            None => "{}".to_owned(),
        }
    }

    /// Reads the stored form back; a document that does not parse is an error, never an
    /// app without ingest.
    pub fn from_store(raw: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Stored {
            livekit: Option<LivekitIngest>,
        }
        let stored: Stored = serde_json::from_str(raw)?;
        Ok(Self {
            livekit: stored.livekit,
        })
    }
}

/// A tenant: one customer of the platform, owning endpoints, events and keys.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct App {
    pub id: AppId,
    pub name: String,
    pub preset: Preset,
    /// Free-form JSON the platform keeps with the app (its own customer id, plan, ...).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub ingest: Ingest,
    /// Whether a publish whose `data` breaks its type's JSON Schema is refused (422 naming
    /// the path and the rule). On unless the app turns it off.
    pub enforce_schemas: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
