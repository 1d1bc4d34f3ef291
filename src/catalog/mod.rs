//! Event-type catalogs: the presets platforms start from, and lookups over an app's catalog.
//!
//! An app's catalog is its preset's types plus the custom types it registered. Publishing or
//! subscribing to a type outside it is refused with close matches, because a typo in an event
//! name otherwise shows up only as webhooks that never arrive.

mod attendee;
mod digitalsamba;
mod herald;
mod livekit;
mod plugnmeet;
mod sendbird;
mod standard;

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

/// One entry of an app's catalog as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventType {
    pub name: String,
    pub family: String,
    pub description: String,
    /// `preset` for types the app's preset brings, `custom` for registered ones.
    pub source: &'static str,
    #[schema(value_type = Option<Object>)]
    pub schema: Option<serde_json::Value>,
}

impl From<&EventTypeDef> for EventType {
    fn from(def: &EventTypeDef) -> Self {
        EventType {
            name: def.name.to_owned(),
            family: def.family.to_owned(),
            description: def.description.to_owned(),
            source: "preset",
            schema: None,
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
    fn close_matches_suggest_typos() {
        let names = preset_types(Preset::Digitalsamba).iter().map(|t| t.name);
        let found = close_matches("participant_joind", names);
        assert_eq!(
            found.first().map(String::as_str),
            Some("participant_joined")
        );
    }
}
