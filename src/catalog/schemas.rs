//! JSON Schemas (draft 2020-12) of the catalog's types, and the check of a publish's `data`
//! against them.
//!
//! A preset type's schema is derived from its platform's documented payload (the `payload`
//! function beside each catalog): every documented field with its JSON type, none required
//! and none refused beside them, because platforms send partial objects (plugNmeet's track
//! events carry three fields of the room) and add keys over time (Sendbird says so). What the
//! schema catches is data of the wrong shape: a room that is a string, a count that is text.
//! Herald's standard catalog is the exception: it names what happens in a room and leaves
//! the shape of `data` to the platform, so its schemas admit any object and carry an example
//! (a platform that wants a shape enforced registers a custom type with its schema). A
//! custom type's schema is whatever the platform registered.
//!
//! Validators are compiled once: the presets' on first use, a custom schema the first time a
//! publish meets it (keyed by its text, so an edited schema is compiled afresh).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::Validator;
use serde_json::{json, Map, Value};

use super::{builtin_types, payload, EventTypeDef};
use crate::domain::Preset;

/// The draft every schema Herald writes declares.
pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema of a built-in type of an app with `preset`, with its example.
pub fn builtin(preset: Preset, def: &EventTypeDef) -> Value {
    let example = payload(preset, def);
    let mut schema = match (preset, def.family) {
        (_, "herald") => infer(&example, true),
        // Herald's standard catalog names what happens; the shape of `data` is the platform's
        // own, so its schemas hold an example and constrain nothing.
        (Preset::Standard | Preset::None, _) => json!({"type": "object"}),
        _ => infer(&example, false),
    };
    let obj = schema
        .as_object_mut()
        .expect("an inferred payload schema is an object");
    let mut head = Map::new();
    head.insert("$schema".into(), json!(DRAFT));
    head.insert("title".into(), json!(def.name));
    head.insert("description".into(), json!(def.description));
    head.append(obj);
    head.insert("examples".into(), json!([example]));
    Value::Object(head)
}

/// A schema that admits `example` and anything of the same shape: each field typed as in the
/// example, nothing required, other fields allowed. `nullable` admits `null` for every field
/// (Herald's own events leave unknown values null); a `null` in the example admits anything.
fn infer(example: &Value, nullable: bool) -> Value {
    let kind = match example {
        Value::Null => return json!({}),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        // Protobuf's JSON sends int64 as a string of digits; a number is as good.
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            return typed(json!(["string", "number"]), nullable);
        }
        Value::String(_) => "string",
        Value::Array(items) => {
            let mut schema = typed(json!("array"), nullable);
            if let Some(first) = items.first() {
                schema["items"] = infer(first, nullable);
            }
            return schema;
        }
        Value::Object(fields) => {
            let properties: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.clone(), infer(v, nullable)))
                .collect();
            // The top level is always an object: `data` is one.
            return json!({"type": "object", "properties": properties});
        }
    };
    typed(json!(kind), nullable)
}

fn typed(kind: Value, nullable: bool) -> Value {
    match (nullable, kind) {
        (false, kind) => json!({"type": kind}),
        (true, Value::Array(mut kinds)) => {
            kinds.push(json!("null"));
            json!({"type": kinds})
        }
        (true, kind) => json!({"type": [kind, "null"]}),
    }
}

/// Compiles a registered schema, or says why it is not one (an unknown keyword's value, a
/// `$ref` to somewhere Herald does not fetch from).
pub fn compile(schema: &Value) -> Result<Arc<Validator>, String> {
    jsonschema::validator_for(schema)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

static PRESETS: LazyLock<HashMap<(Preset, &'static str), Arc<Validator>>> = LazyLock::new(|| {
    let mut all = HashMap::new();
    for preset in Preset::ALL {
        for def in builtin_types(preset) {
            let validator = compile(&builtin(preset, def)).expect("a preset schema compiles");
            all.insert((preset, def.name), validator);
        }
    }
    all
});

/// The compiled schema of a built-in type.
pub fn builtin_validator(preset: Preset, def: &EventTypeDef) -> Option<Arc<Validator>> {
    PRESETS.get(&(preset, def.name)).cloned()
}

/// Custom schemas compiled so far, by their text; cleared when it grows past `CACHED`.
static CUSTOM: LazyLock<Mutex<HashMap<String, Arc<Validator>>>> = LazyLock::new(Default::default);
const CACHED: usize = 10_000;

/// The compiled form of a registered schema; `None` for one that no longer compiles (it was
/// checked when registered, so only a newer draft's rules could make it so).
pub fn custom_validator(schema: &Value) -> Option<Arc<Validator>> {
    let text = schema.to_string();
    let mut cache = CUSTOM.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(v) = cache.get(&text) {
        return Some(v.clone());
    }
    let validator = compile(schema).ok()?;
    if cache.len() >= CACHED {
        cache.clear();
    }
    cache.insert(text, validator.clone());
    Some(validator)
}

/// One way `data` breaks its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The JSON Pointer of the offending value inside `data` (`""` for `data` itself).
    pub pointer: String,
    /// The schema keyword it breaks: `type`, `required`, `enum`, ...
    pub rule: String,
    pub message: String,
}

/// Checks `data` and names up to `MAX_SHOWN` violations, first to last.
pub fn violations(validator: &Validator, data: &Value) -> Vec<Violation> {
    const MAX_SHOWN: usize = 10;
    if validator.is_valid(data) {
        return Vec::new();
    }
    validator
        .iter_errors(data)
        .take(MAX_SHOWN)
        .map(|e| Violation {
            pointer: e.instance_path().as_str().to_owned(),
            rule: e.kind().keyword().to_owned(),
            message: e.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_type_has_a_schema_its_example_passes() {
        for preset in Preset::ALL {
            for def in builtin_types(preset) {
                let schema = builtin(preset, def);
                assert_eq!(schema["$schema"], DRAFT);
                let example = &schema["examples"][0];
                assert!(example.is_object(), "{}", def.name);
                let v = builtin_validator(preset, def).expect("compiled");
                assert_eq!(violations(&v, example), [], "{preset:?} {}", def.name);
            }
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_with_its_rule() {
        let def = builtin_types(Preset::Livekit)
            .find(|d| d.name == "participant_joined")
            .expect("a livekit type");
        let v = builtin_validator(Preset::Livekit, def).expect("compiled");
        let bad = json!({"room": "r1", "participant": {"identity": 7}});
        let found = violations(&v, &bad);
        let at: Vec<_> = found
            .iter()
            .map(|f| (f.pointer.as_str(), f.rule.as_str()))
            .collect();
        assert_eq!(at, [("/room", "type"), ("/participant/identity", "type")]);
        assert_eq!(violations(&v, &json!({"extra": 1})), []);
    }

    #[test]
    fn the_standard_catalog_leaves_data_to_the_platform() {
        let def = builtin_types(Preset::Standard)
            .find(|d| d.name == "participant.joined")
            .expect("a standard type");
        let v = builtin_validator(Preset::Standard, def).expect("compiled");
        assert_eq!(violations(&v, &json!({"room": 1})), []);
        assert!(builtin(Preset::Standard, def)["examples"][0]["room"].is_object());
    }

    #[test]
    fn int64_strings_take_numbers_and_nullable_fields_take_null() {
        let v = compile(&infer(&json!({"at": "17", "n": "x"}), false)).expect("compiles");
        assert!(v.is_valid(&json!({"at": 17})));
        assert!(!v.is_valid(&json!({"n": 17})));
        let v = compile(&infer(&json!({"name": "x"}), true)).expect("compiles");
        assert!(v.is_valid(&json!({"name": null})));
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused() {
        assert!(compile(&json!({"type": "no-such-type"})).is_err());
        assert!(compile(&json!({"type": "object"})).is_ok());
    }
}
