//! Event schemas: every preset type of every preset has a JSON Schema and an example that
//! Python's `jsonschema` (an implementation independent of Herald's) accepts; a publish whose
//! data breaks its type's schema is a 422 naming the path and the rule, single or batched,
//! preset or custom; an app with enforcement off lets it through; a registered schema that
//! is not one is refused.

use serde_json::{json, Value};

use crate::harness::{python_on_json, Herald, TempDir};

const PRESETS: [&str; 7] = [
    "digitalsamba",
    "attendee",
    "plugnmeet",
    "livekit",
    "sendbird",
    "standard",
    "none",
];

#[tokio::test]
async fn every_preset_type_has_a_schema_its_example_passes_in_python() {
    let dir = TempDir::new("schemas-catalog");
    let herald = Herald::start(&dir.0);
    let mut dump = Vec::new();
    for preset in PRESETS {
        let app = herald.create_app(preset).await;
        let (status, _, catalog) = herald
            .call("GET", &format!("/v1/apps/{app}/event-types"), None)
            .await;
        assert_eq!(status, 200, "{catalog}");
        for t in catalog["data"].as_array().expect("data") {
            assert_eq!(t["source"], "preset", "{t}");
            dump.push(
                json!({"preset": preset, "name": t["name"], "schema": t["schema"],
                "example": t["example"]}),
            );
        }
    }
    // Every preset's own types and Herald's four operational ones, for each of 7 presets.
    assert_eq!(dump.len(), 90 + 4 * 7, "types listed");
    let (ok, text) = python_on_json("check_schemas.py", &Value::Array(dump));
    assert!(ok, "{text}");
    assert!(text.contains(" 0 failures"), "{text}");
}

fn fields(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("field"), text("message"))
        })
        .collect()
}

#[tokio::test]
async fn a_publish_that_breaks_its_schema_is_refused_unless_enforcement_is_off() {
    let dir = TempDir::new("schemas-enforce");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("livekit").await;

    // A room that is a string, and a participant identity that is a number.
    let bad = json!({"type": "participant_joined",
        "data": {"room": "r1", "participant": {"identity": 7, "sid": "PA_1"}}});
    let (status, problem) = herald.publish(&app, bad.clone()).await;
    assert_eq!(status, 422, "{problem}");
    let found = fields(&problem);
    let at: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(at, ["data.room", "data.participant.identity"], "{problem}");
    assert!(found[0].1.contains("'type' rule"), "{problem}");
    assert!(found[0].1.contains("participant_joined"), "{problem}");

    // Documented fields of the right type pass, and so do fields the docs do not list.
    let good = json!({"type": "participant_joined", "data": {"room": {"sid": "RM_1",
        "name": "r1"}, "participant": {"identity": "ada"}, "added_later": [1, 2]}});
    let (status, ack) = herald.publish(&app, good.clone()).await;
    assert_eq!(status, 202, "{ack}");

    // In a batch, the offending event is named by its index, and nothing is published.
    let batch = json!({"events": [good, bad]});
    let path = format!("/v1/apps/{app}/events/batch");
    let (status, _, problem) = herald.call("POST", &path, Some(batch.clone())).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields(&problem)[0].0, "events[1].data.room", "{problem}");
    let (_, _, log) = herald
        .call("GET", &format!("/v1/apps/{app}/events"), None)
        .await;
    assert_eq!(log["data"].as_array().map(Vec::len), Some(1), "{log}");

    // Enforcement off: the same data goes through.
    let off = json!({"enforce_schemas": false});
    let (status, _, shown) = herald
        .call("PATCH", &format!("/v1/apps/{app}"), Some(off))
        .await;
    assert_eq!(
        (status, &shown["enforce_schemas"]),
        (200, &json!(false)),
        "{shown}"
    );
    let (status, _, ack) = herald.call("POST", &path, Some(batch)).await;
    assert_eq!(status, 202, "{ack}");
}

#[tokio::test]
async fn a_custom_schema_is_checked_when_registered_and_enforced_on_publish() {
    let dir = TempDir::new("schemas-custom");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("none").await;
    let types = format!("/v1/apps/{app}/event-types");

    let not_a_schema = json!({"name": "caption.line", "schema": {"type": "text"}});
    let (status, _, problem) = herald.call("POST", &types, Some(not_a_schema)).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields(&problem)[0].0, "schema", "{problem}");

    let schema = json!({"type": "object", "required": ["text"],
        "properties": {"text": {"type": "string", "maxLength": 20}},
        "examples": [{"text": "hello"}]});
    let custom = json!({"name": "caption.line", "schema": schema});
    let (status, _, made) = herald.call("POST", &types, Some(custom)).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["example"], json!({"text": "hello"}), "{made}");

    let missing = json!({"type": "caption.line", "data": {"lang": "en"}});
    let (status, problem) = herald.publish(&app, missing).await;
    assert_eq!(status, 422, "{problem}");
    let found = fields(&problem);
    assert_eq!(found[0].0, "data", "{problem}");
    assert!(found[0].1.contains("'required' rule"), "{problem}");

    let long = json!({"type": "caption.line", "data": {"text": "x".repeat(21)}});
    let (status, problem) = herald.publish(&app, long).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        fields(&problem)[0].1.contains("'maxLength' rule"),
        "{problem}"
    );

    let fine = json!({"type": "caption.line", "data": {"text": "hello"}});
    let (status, ack) = herald.publish(&app, fine).await;
    assert_eq!(status, 202, "{ack}");
}
