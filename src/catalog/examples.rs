//! An example payload for every type of a catalog, for `POST .../endpoints/{ep}/test`: what
//! a receiver's developer sees first, so it carries the labels and fields its family's real
//! events carry (a room, a session, a participant, a bot, a track) with values that say
//! they are examples.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The labels of an example event of `family`, and its `data` marked as an example.
pub fn example(data: Value, family: &str) -> (Value, BTreeMap<String, String>) {
    let mut labels = BTreeMap::from([
        ("room_id".to_owned(), "example-room".to_owned()),
        ("session_id".to_owned(), "example-session".to_owned()),
    ]);
    match family {
        "participant" | "participant_events" | "phone" => {
            labels.insert("participant_id".into(), "example-participant".into());
        }
        "bot" | "transcript" | "speech_to_text" => {
            labels.insert("bot_id".into(), "example-bot".into());
        }
        _ => {}
    }
    let mut data = match data {
        Value::Object(_) => data,
        _ => json!({}),
    };
    data["example"] = json!(true);
    (data, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{builtin_types, payload};
    use crate::domain::Preset;

    #[test]
    fn every_builtin_type_has_an_example_that_says_so() {
        for preset in Preset::ALL {
            for t in builtin_types(preset) {
                let (data, labels) = example(payload(preset, t), t.family);
                assert_eq!(data["example"], json!(true), "{}", t.name);
                assert_eq!(
                    labels.get("room_id").map(String::as_str),
                    Some("example-room")
                );
            }
        }
        let (data, labels) = example(json!("not an object"), "bot");
        assert_eq!(
            (data, labels.contains_key("bot_id")),
            (json!({"example": true}), true)
        );
    }
}
