//! Event-type catalogs: the presets platforms start from, and lookups over an app's catalog.
//!
//! An app's catalog is its preset's types plus the custom types it registered. Publishing or
//! subscribing to a type outside it is refused with close matches, because a typo in an event
//! name otherwise shows up only as webhooks that never arrive.

mod attendee;
mod digitalsamba;
pub mod examples;
mod herald;
pub mod livekit;
mod plugnmeet;
pub mod schemas;
mod sendbird;
pub mod standard;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Preset;

/// A built-in event type, as a preset declares it.
#[derive(Debug, Clone, Copy)]
pub struct EventTypeDef {
    pub name: &'static str,
    pub family: &'static str,
    pub description: &'static str,
}

/// Every built-in type of an app with `preset`: the preset's own and Herald's operational
/// events.
pub fn builtin_types(preset: Preset) -> impl Iterator<Item = &'static EventTypeDef> {
    preset_types(preset).iter().chain(herald::TYPES)
}

/// The documented payload (`data`) of a built-in type of an app with `preset`: its
/// schema's example, and what an endpoint test sends.
pub fn payload(preset: Preset, def: &EventTypeDef) -> serde_json::Value {
    if def.family == "herald" {
        return herald::payload(def);
    }
    match preset {
        Preset::Digitalsamba => digitalsamba::payload(def),
        Preset::Attendee => attendee::payload(def),
        Preset::Plugnmeet => plugnmeet::payload(def),
        Preset::Livekit => livekit::payload(def),
        Preset::Sendbird => sendbird::payload(def),
        Preset::Standard | Preset::None => standard::payload(def),
    }
}

/// The types a preset registers in every app created with it.
fn preset_types(preset: Preset) -> &'static [EventTypeDef] {
    match preset {
        Preset::Digitalsamba => digitalsamba::TYPES,
        Preset::Attendee => attendee::TYPES,
        Preset::Plugnmeet => plugnmeet::TYPES,
        Preset::Livekit => livekit::TYPES,
        Preset::Sendbird => sendbird::TYPES,
        Preset::Standard => standard::TYPES,
        Preset::None => &[],
    }
}

/// How long a track's publish or unpublish stays worth delivering: a receiver that learns of
/// it later acts on a stale picture of the room.
pub const TRACK_TTL_S: u32 = 300;
/// How long a mute or speaking-state change stays worth delivering.
pub const MEDIA_STATE_TTL_S: u32 = 120;

/// The time to live of a built-in type: media state (tracks, mutes, who is speaking) goes stale
/// within minutes; everything else (sessions, participants, recordings, bots, Herald's own
/// events) keeps its value and never expires.
pub fn default_ttl_s(def: &EventTypeDef) -> Option<u32> {
    let name = def.name;
    if def.family == "track" {
        Some(TRACK_TTL_S)
    } else if ["muted", "unmute", "speaking", "talking"]
        .iter()
        .any(|s| name.contains(s))
    {
        Some(MEDIA_STATE_TTL_S)
    } else {
        None
    }
}

/// One entry of an app's catalog as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventType {
    pub name: String,
    pub family: String,
    pub description: String,
    /// `preset` for types the app's preset brings, `custom` for registered ones.
    pub source: &'static str,
    /// The JSON Schema (draft 2020-12) of `data`: a preset type's is derived from its
    /// platform's documented payload; a custom type's is the registered one, or `null`.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<serde_json::Value>,
    /// An example `data` that passes the schema; `null` for a custom type registered without
    /// a schema or without `examples` in it.
    #[schema(value_type = Option<Object>)]
    pub example: Option<serde_json::Value>,
    /// Seconds a delivery of this type stays worth sending, after which it ends `expired`;
    /// `null` never expires. Endpoints and publishes may set their own.
    pub ttl_s: Option<u32>,
}

impl EventType {
    /// A built-in type of an app with `preset`, with its schema and example.
    pub fn builtin(preset: Preset, def: &EventTypeDef) -> Self {
        EventType {
            name: def.name.to_owned(),
            family: def.family.to_owned(),
            description: def.description.to_owned(),
            source: "preset",
            schema: Some(schemas::builtin(preset, def)),
            example: Some(payload(preset, def)),
            ttl_s: default_ttl_s(def),
        }
    }

    /// A custom type; its example is the schema's first `examples` entry.
    pub fn custom(def: crate::store::CustomEventType) -> Self {
        let example = def
            .schema
            .as_ref()
            .and_then(|s| s.get("examples"))
            .and_then(|e| e.get(0))
            .cloned();
        EventType {
            name: def.name.as_str().to_owned(),
            family: def.family,
            description: def.description,
            source: "custom",
            schema: def.schema,
            example,
            ttl_s: def.ttl_s,
        }
    }
}

/// Up to three catalog names closest to `wanted`, best first, for "did you mean" messages.
pub fn close_matches<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = names
        .map(|name| (strsim::jaro_winkler(wanted, name), name))
        .filter(|(score, _)| *score > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_preset_but_none_has_unique_names() {
        for preset in Preset::ALL {
            let types = preset_types(preset);
            assert_eq!(types.is_empty(), preset == Preset::None, "{preset:?}");
            let names: HashSet<_> = types.iter().map(|t| t.name).collect();
            assert_eq!(names.len(), types.len(), "duplicate in {preset:?}");
        }
    }

    #[test]
    fn media_state_expires_and_the_rest_does_not() {
        let ttl = |preset, name: &str| {
            builtin_types(preset)
                .find(|t| t.name == name)
                .map(default_ttl_s)
        };
        assert_eq!(
            ttl(Preset::Standard, "track.published"),
            Some(Some(TRACK_TTL_S))
        );
        assert_eq!(
            ttl(Preset::Livekit, "track_unpublished"),
            Some(Some(TRACK_TTL_S))
        );
        assert_eq!(ttl(Preset::Standard, "session.started"), Some(None));
        assert_eq!(ttl(Preset::Standard, "recording.stopped"), Some(None));
        let muted = ttl(Preset::Digitalsamba, "phone_participant_muted");
        assert_eq!(muted, Some(Some(MEDIA_STATE_TTL_S)));
        for preset in Preset::ALL {
            for t in builtin_types(preset).filter(|t| t.family == "bot" || t.family == "herald") {
                assert_eq!(default_ttl_s(t), None, "{}", t.name);
            }
        }
    }

    #[test]
    fn close_matches_suggest_typos() {
        let names = preset_types(Preset::Digitalsamba).iter().map(|t| t.name);
        let found = close_matches("participant_joind", names);
        assert_eq!(
            found.first().map(String::as_str),
            Some("participant_joined")
        );
    }
}
