//! The stored form of an endpoint: one JSON document per row.
//!
//! An endpoint has many optional settings that grow with every format; keeping them in one
//! document means a new setting is a new field here, not a migration in every backend.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::endpoint::{EndpointKind, Ordering, Subscription};
use crate::domain::verification::{VerificationMode, VerificationState};
use crate::domain::{
    AppId, Endpoint, EndpointId, EndpointSecret, EndpointUrl, EventTypeName, FormatKind, Health,
    LabelFilter, RetrySchedule,
};

#[derive(Serialize, Deserialize)]
pub struct EndpointDoc {
    pub url: String,
    #[serde(default)]
    pub kind: EndpointKind,
    #[serde(default)]
    pub verification: VerificationMode,
    #[serde(default)]
    pub verification_state: VerificationState,
    pub name: String,
    pub description: String,
    pub format: FormatKind,
    pub events: Vec<String>,
    pub filter: LabelFilter,
    pub headers: BTreeMap<String, String>,
    pub timeout_ms: u32,
    pub retry_schedule_s: Vec<u32>,
    pub max_in_flight: u32,
    pub rate_limit_per_s: Option<u32>,
    pub ordering: Ordering,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub include_members: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub data_only: bool,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub disable_after_s: Option<u32>,
    #[serde(default)]
    pub ttl_s: Option<u32>,
    pub metadata: serde_json::Value,
    pub secret: String,
    pub previous_secret: Option<(String, DateTime<Utc>)>,
}

impl EndpointDoc {
    pub fn from_endpoint(ep: &Endpoint) -> Self {
        EndpointDoc {
            url: ep.url.as_str().to_owned(),
            kind: ep.kind,
            verification: ep.verification,
            verification_state: ep.verification_state.clone(),
            name: ep.name.clone(),
            description: ep.description.clone(),
            format: ep.format,
            events: ep.events.to_list(),
            filter: ep.filter.clone(),
            headers: ep.headers.clone(),
            timeout_ms: ep.timeout_ms,
            retry_schedule_s: ep.retry_schedule_s.delays().to_vec(),
            max_in_flight: ep.max_in_flight,
            rate_limit_per_s: ep.rate_limit_per_s,
            ordering: ep.ordering,
            api_key: ep.api_key.clone(),
            include_members: ep.include_members,
            data_only: ep.data_only,
            content_type: ep.content_type.clone(),
            expires_at: ep.expires_at,
            disabled_reason: ep.disabled_reason.clone(),
            disable_after_s: ep.disable_after_s,
            ttl_s: ep.ttl_s,
            metadata: ep.metadata.clone(),
            secret: ep.secret.expose().to_owned(),
            previous_secret: ep
                .previous_secret
                .as_ref()
                .map(|(s, t)| (s.expose().to_owned(), *t)),
        }
    }

    /// Rebuilds the endpoint from its row: the id, owner, flags and times live in columns.
    pub fn into_endpoint(
        self,
        id: EndpointId,
        app_id: AppId,
        enabled: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Endpoint {
        let events = if self.events.iter().any(|e| e == "*") {
            Subscription::All
        } else {
            Subscription::Types(
                self.events
                    .into_iter()
                    .map(EventTypeName::from_trusted)
                    .collect(),
            )
        };
        Endpoint {
            id,
            app_id,
            url: EndpointUrl::from_trusted(self.url),
            kind: self.kind,
            verification: self.verification,
            verification_state: self.verification_state,
            name: self.name,
            description: self.description,
            format: self.format,
            events,
            filter: self.filter,
            headers: self.headers,
            timeout_ms: self.timeout_ms,
            retry_schedule_s: RetrySchedule::from_trusted(self.retry_schedule_s),
            max_in_flight: self.max_in_flight,
            rate_limit_per_s: self.rate_limit_per_s,
            ordering: self.ordering,
            api_key: self.api_key,
            include_members: self.include_members,
            data_only: self.data_only,
            content_type: self.content_type,
            expires_at: self.expires_at,
            enabled,
            disabled_reason: self.disabled_reason,
            disable_after_s: self.disable_after_s,
            ttl_s: self.ttl_s,
            health: Health::default(),
            metadata: self.metadata,
            created_at,
            updated_at,
            secret: EndpointSecret::from_trusted(self.secret),
            previous_secret: self
                .previous_secret
                .map(|(s, t)| (EndpointSecret::from_trusted(s), t)),
        }
    }
}
