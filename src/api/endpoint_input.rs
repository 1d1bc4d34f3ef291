//! The endpoint request body, shared by create and patch, and its validation.
//!
//! Every field is optional on the wire so that a wrong one is reported by name (422 with the
//! field path) rather than as a failure to deserialise the whole body.

use std::collections::BTreeMap;

use axum::http::{HeaderName, HeaderValue};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::domain::endpoint::{EndpointKind, Ordering, Subscription};
use crate::domain::ssrf::DestinationPolicy;
use crate::domain::verification::VerificationMode;
use crate::domain::{
    Endpoint, EndpointUrl, EventTypeName, FieldError, FormatKind, LabelFilter, Labels,
    RetrySchedule, Signing,
};
use crate::formats::format_for;

/// Headers a static header may not replace: the transport's and the signatures'.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "user-agent",
];

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// `http` or `https`; refused when it resolves to a non-public address, unless allowed by
    /// `allow_destinations`.
    #[schema(example = "https://hooks.example.com/herald")]
    pub url: Option<String>,
    /// `push` (the default) or `polling`: a polling endpoint has no `url`; its consumer pulls
    /// from `.../poll`. Fixed after creation.
    pub kind: Option<EndpointKind>,
    /// `none` (default), `challenge` or `zoom`: deliveries wait until the URL passes.
    pub verification: Option<VerificationMode>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `standard`, `digitalsamba`, `attendee`, `livekit`, `plugnmeet` or `sendbird`; defaults
    /// to the app preset's format. Fixed after creation.
    #[schema(value_type = Option<FormatKind>)]
    pub format: Option<String>,
    /// Event types to receive: `["*"]` for all (the default), `[]` for none.
    pub events: Option<Vec<String>>,
    pub filter: Option<LabelFilter>,
    pub headers: Option<BTreeMap<String, String>>,
    /// How long to wait for an answer, 100 to 120,000 ms.
    #[schema(minimum = 100, maximum = 120_000)]
    pub timeout_ms: Option<i64>,
    /// Delays in seconds before each retry; its length is the number of retries.
    pub retry_schedule_s: Option<Vec<i64>>,
    /// Requests in flight at once to this endpoint, 1 to 1,000.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_in_flight: Option<i64>,
    /// Requests per second at most, 1 to 100,000; none when omitted.
    #[schema(minimum = 1, maximum = 100_000)]
    pub rate_limit_per_s: Option<i64>,
    /// `none` or `per_room`.
    pub ordering: Option<Ordering>,
    /// Seconds failing continuously before the endpoint is disabled; `disable_after` if unset.
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub disable_after_s: Option<i64>,
    /// Seconds deliveries stay worth sending, in place of each event's own; 0 never expires.
    #[schema(minimum = 0, maximum = 31_536_000)]
    pub ttl_s: Option<i64>,
    pub enabled: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// The signing secret; generated in the format's form when omitted. For `livekit` and
    /// `plugnmeet` it is the API secret, for `sendbird` the API token, for `digitalsamba` the
    /// bearer token (also accepted as `authorization_header`).
    pub secret: Option<String>,
    /// `standard`: `hmac` (`v1`, the default) or `ed25519` (`v1a`, a generated `whsk_` key
    /// whose `whpk_` public key the endpoint shows). Follows `secret` when that is given.
    pub signing: Option<Signing>,
    /// `digitalsamba`: the bearer token sent in `Authorization` (same as `secret`).
    pub authorization_header: Option<String>,
    /// `livekit`, `plugnmeet`: the API key that issues the JWT (generated when omitted).
    pub api_key: Option<String>,
    /// `sendbird`: add the room's members (event `metadata.members`) to the body.
    pub include_members: Option<bool>,
    /// `standard`: send `data` alone as the body, without the envelope (as Svix does).
    pub data_only: Option<bool>,
    /// `plugnmeet`: the Content-Type to send (default `application/webhook+json`).
    pub content_type: Option<String>,
    /// RFC 3339; after it the endpoint receives nothing.
    pub expires_at: Option<String>,
}

/// Parses the format name, refusing ones this build cannot send.
pub fn parse_format(raw: &str) -> Result<FormatKind, ApiError> {
    let kind = FormatKind::parse(raw).ok_or_else(|| {
        let known: Vec<_> = FormatKind::ALL.iter().map(|f| f.as_str()).collect();
        ApiError::field(
            "format",
            format!("unknown format '{raw}'; known: {}", known.join(", ")),
        )
    })?;
    if format_for(kind).is_none() {
        return Err(ApiError::field(
            "format",
            format!("format '{raw}' is not available in this build"),
        ));
    }
    Ok(kind)
}

fn at_most(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    let too_long = || FieldError::new(field, format!("at most {max} characters"));
    (value.len() <= max).then_some(()).ok_or_else(too_long)
}

fn range(field: &str, value: i64, min: i64, max: i64) -> Result<u32, FieldError> {
    if (min..=max).contains(&value) {
        Ok(value as u32)
    } else {
        Err(FieldError::new(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

/// The event list, parsed; unknown names are checked against the catalog by the caller.
pub fn parse_events(
    raw: &[String],
) -> Result<(Subscription, Vec<(String, EventTypeName)>), FieldError> {
    if raw.iter().any(|e| e == "*") {
        if raw.len() > 1 {
            return Err(FieldError::new(
                "events",
                "'*' stands alone: it already means every type",
            ));
        }
        return Ok((Subscription::All, Vec::new()));
    }
    let mut named = Vec::with_capacity(raw.len());
    for (i, e) in raw.iter().enumerate() {
        let path = format!("events[{i}]");
        named.push((path.clone(), EventTypeName::parse(&path, e)?));
    }
    let set = named.iter().map(|(_, n)| n.clone()).collect();
    Ok((Subscription::Types(set), named))
}

/// Checks a URL and, when its host is a literal address, the SSRF policy.
pub fn parse_url(
    raw: &str,
    policy: &DestinationPolicy,
    https_only: bool,
) -> Result<EndpointUrl, FieldError> {
    let (url, parsed) = EndpointUrl::parse("url", raw)?;
    if https_only && parsed.scheme() != "https" {
        return Err(FieldError::new("url", "must use https (https_only is set)"));
    }
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = ip.filter(|ip| !policy.permits(*ip)) {
        return Err(FieldError::new("url", DestinationPolicy::refusal(ip)));
    }
    Ok(url)
}

impl EndpointInput {
    /// Applies every present field except `url`, `events`, `format` and `secret` (which need
    /// the app or the policy) onto `ep`, collecting all field errors.
    pub fn apply_settings(&mut self, ep: &mut Endpoint, errors: &mut Vec<FieldError>) {
        let mut take = |r: Result<(), FieldError>| {
            if let Err(e) = r {
                errors.push(e);
            }
        };
        if let Some(name) = self.name.take() {
            take(at_most("name", &name, 200).map(|_| ep.name = name));
        }
        if let Some(d) = self.description.take() {
            take(at_most("description", &d, 2000).map(|_| ep.description = d));
        }
        if let Some(filter) = self.filter.take() {
            take(Labels::parse("filter.labels", filter.labels.clone()).map(|_| ep.filter = filter));
        }
        if let Some(headers) = self.headers.take() {
            take(check_headers(&headers).map(|_| ep.headers = headers));
        }
        if let Some(t) = self.timeout_ms {
            take(range("timeout_ms", t, 100, 120_000).map(|t| ep.timeout_ms = t));
        }
        if let Some(s) = self.retry_schedule_s.take() {
            take(RetrySchedule::parse("retry_schedule_s", s).map(|s| ep.retry_schedule_s = s));
        }
        if let Some(m) = self.max_in_flight {
            take(range("max_in_flight", m, 1, 1000).map(|m| ep.max_in_flight = m));
        }
        if let Some(r) = self.rate_limit_per_s {
            take(range("rate_limit_per_s", r, 1, 100_000).map(|r| ep.rate_limit_per_s = Some(r)));
        }
        if let Some(d) = self.disable_after_s {
            take(range("disable_after_s", d, 1, 31_536_000).map(|d| ep.disable_after_s = Some(d)));
        }
        if let Some(t) = self.ttl_s {
            take(range("ttl_s", t, 0, 31_536_000).map(|t| ep.ttl_s = Some(t)));
        }
        self.apply_receiver_settings(ep, errors);
    }

    /// The settings of how requests look and when the endpoint stops receiving them.
    fn apply_receiver_settings(&mut self, ep: &mut Endpoint, errors: &mut Vec<FieldError>) {
        let mut take = |r: Result<(), FieldError>| {
            if let Err(e) = r {
                errors.push(e);
            }
        };
        if let Some(o) = self.ordering {
            ep.ordering = o;
        }
        if let Some(enabled) = self.enabled {
            ep.enabled = enabled;
            if enabled {
                ep.disabled_reason = None;
            }
        }
        if let Some(key) = self.api_key.take() {
            take(check_token("api_key", &key).map(|_| ep.api_key = Some(key)));
        }
        if let Some(b) = self.include_members {
            ep.include_members = b;
        }
        if let Some(b) = self.data_only {
            ep.data_only = b;
        }
        if let Some(ct) = self.content_type.take() {
            let ok = ct.len() <= 200 && HeaderValue::from_str(&ct).is_ok() && ct.contains('/');
            take(if ok {
                ep.content_type = Some(ct);
                Ok(())
            } else {
                Err(FieldError::new(
                    "content_type",
                    "must be a media type such as application/json",
                ))
            });
        }
        if let Some(raw) = self.expires_at.take() {
            take(
                chrono::DateTime::parse_from_rfc3339(&raw)
                    .map(|t| ep.expires_at = Some(t.with_timezone(&chrono::Utc)))
                    .map_err(|_| FieldError::new("expires_at", "must be an RFC 3339 time")),
            );
        }
        if let Some(m) = self.metadata.take() {
            take(if m.is_object() {
                ep.metadata = m;
                Ok(())
            } else {
                Err(FieldError::new("metadata", "must be a JSON object"))
            });
        }
    }
}

fn check_token(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() || value.len() > 200 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new(
            field,
            "must be 1 to 200 printable ASCII characters",
        ));
    }
    Ok(())
}

fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), FieldError> {
    if headers.len() > 32 {
        return Err(FieldError::new("headers", "at most 32 headers"));
    }
    for (k, v) in headers {
        let field = format!("headers.{k}");
        if HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(FieldError::new(field, "is not a valid header name"));
        }
        if RESERVED_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
            return Err(FieldError::new(
                field,
                "is set by Herald and cannot be overridden",
            ));
        }
        if HeaderValue::from_str(v).is_err() || v.len() > 4096 {
            return Err(FieldError::new(field, "is not a valid header value"));
        }
    }
    Ok(())
}
