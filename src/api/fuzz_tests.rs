//! Property tests (proptest): the publish body and endpoint parsers take any input without
//! panicking, and whatever they accept lies within the documented bounds.

use chrono::Utc;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value;

use super::endpoint_input::EndpointInput;
use super::event_input::{parse_event, PublishEvent};
use crate::domain::{App, AppId, EndpointId, EndpointUrl, Ingest, Preset};
use crate::formats::fuzz_json as json_value;
use crate::store::EndpointDoc;

fn app() -> App {
    let now = Utc::now();
    App {
        id: AppId::new(),
        name: "fuzz".into(),
        preset: Preset::Standard,
        metadata: serde_json::json!({}),
        ingest: Ingest::default(),
        enforce_schemas: true,
        created_at: now,
        updated_at: now,
    }
}

/// An object with some of `keys` (and stray ones), each any JSON value.
fn object_of(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        proptest::sample::select(keys).prop_map(str::to_owned),
        "[a-z_]{1,12}"
    ];
    btree_map(key, json_value(), 0..8).prop_map(|m| Value::Object(m.into_iter().collect()))
}

const PUBLISH: &[&str] = &[
    "type",
    "data",
    "labels",
    "occurred_at",
    "idempotency_key",
    "metadata",
    "ordering_key",
];
const ENDPOINT: &[&str] = &[
    "name",
    "description",
    "filter",
    "headers",
    "timeout_ms",
    "retry_schedule_s",
    "max_in_flight",
    "rate_limit_per_s",
    "ordering",
    "disable_after_s",
    "enabled",
    "metadata",
    "api_key",
    "include_members",
    "data_only",
    "content_type",
    "expires_at",
];

proptest! {
    #[test]
    fn publish_bodies_never_panic(bytes in vec(any::<u8>(), 0..400), v in object_of(PUBLISH)) {
        let raw = serde_json::to_vec(&v).unwrap_or_default();
        for body in [&bytes, &raw] {
            if let Ok(req) = serde_json::from_slice::<PublishEvent>(body) {
                if let Ok(event) = parse_event(&app(), "", req, 4096) {
                    prop_assert!(event.data.as_str().len() <= 4096);
                }
            }
        }
    }

    #[test]
    fn endpoint_settings_never_panic_and_stay_in_bounds(v in object_of(ENDPOINT), url in "\\PC{0,64}") {
        let _ = EndpointUrl::parse("url", &url);
        let Ok(mut input) = serde_json::from_value::<EndpointInput>(v) else { return Ok(()) };
        let mut ep = endpoint();
        let mut errors = Vec::new();
        input.apply_settings(&mut ep, &mut errors);
        if errors.is_empty() {
            prop_assert!((100..=120_000).contains(&ep.timeout_ms));
            prop_assert!((1..=1000).contains(&ep.max_in_flight));
            prop_assert!(ep.disable_after_s.is_none_or(|s| (1..=31_536_000).contains(&s)));
        }
    }
}

fn endpoint() -> crate::domain::Endpoint {
    let doc: EndpointDoc = serde_json::from_value(serde_json::json!({
        "url": "https://example.com/hook", "name": "", "description": "", "format": "standard",
        "events": ["*"], "filter": {}, "headers": {}, "timeout_ms": 5000, "retry_schedule_s": [1],
        "max_in_flight": 4, "rate_limit_per_s": null, "ordering": "none",
        "disabled_reason": null, "metadata": {},
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "previous_secret": null
    }))
    .unwrap_or_else(|e| panic!("endpoint document: {e}"));
    let now = Utc::now();
    doc.into_endpoint(EndpointId::new(), AppId::new(), true, now, now)
}
