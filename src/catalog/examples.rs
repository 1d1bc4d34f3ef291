//! An example payload for every type of a catalog, for `POST .../endpoints/{ep}/test`: what
//! a receiver's developer sees first, so it carries the labels and fields its family's real
//! events carry (a room, a session, a participant, a bot, a track) with values that say
//! they are examples.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The data and labels of an example event of type `name` in `family`.
pub fn example(name: &str, family: &str) -> (Value, BTreeMap<String, String>) {
    let mut labels = BTreeMap::from([
        ("room_id".to_owned(), "example-room".to_owned()),
        ("session_id".to_owned(), "example-session".to_owned()),
    ]);
    let room = json!({"id": "example-room", "name": "Example room"});
    let participant = json!({"id": "example-participant", "name": "Ada Example"});
    let data = match family {
        "participant" | "participant_events" | "phone" => {
            labels.insert("participant_id".into(), "example-participant".into());
            json!({"room": room, "participant": participant})
        }
        "track" => json!({"room": room, "participant": participant,
            "track": {"id": "example-track", "kind": "audio", "source": "microphone"}}),
        "recording" | "egress" | "rtmp" | "stream" => json!({"room": room,
            "recording": {"id": "example-recording", "status": status_of(name)}}),
        "bot" | "transcript" | "speech_to_text" => {
            labels.insert("bot_id".into(), "example-bot".into());
            json!({"bot_id": "example-bot", "state": status_of(name)})
        }
        "chat" | "chat_messages" | "qa" => json!({"room": room, "participant": participant,
            "message": {"id": "example-message", "text": "Hello from an example"}}),
        _ => json!({"room": room}),
    };
    let mut data = data;
    data["example"] = json!(true);
    (data, labels)
}

/// A plausible state word from the type's name: `recording.started` gives `started`.
fn status_of(name: &str) -> &str {
    name.rsplit(['.', '_', ':']).next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::builtin_types;
    use crate::domain::Preset;

    #[test]
    fn every_builtin_type_has_an_example_that_says_so() {
        for preset in Preset::ALL {
            for t in builtin_types(preset) {
                let (data, labels) = example(t.name, t.family);
                assert_eq!(data["example"], json!(true), "{}", t.name);
                assert_eq!(
                    labels.get("room_id").map(String::as_str),
                    Some("example-room")
                );
            }
        }
        let (data, labels) = example("bot.state_changed", "bot");
        assert_eq!(
            (data["state"].as_str(), labels.contains_key("bot_id")),
            (Some("changed"), true)
        );
    }
}
