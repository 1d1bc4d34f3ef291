//! Herald's own RTC-neutral catalog, for platforms that do not mirror another one: dotted names,
//! one family per kind of thing in a real-time platform.

use serde_json::{json, Value};

use super::EventTypeDef;

/// Every event type Herald's standard preset documents, in its own spelling.
pub const TYPES: &[EventTypeDef] = &[
    EventTypeDef {
        name: "room.created",
        family: "room",
        description: "A room was created.",
    },
    EventTypeDef {
        name: "room.ended",
        family: "room",
        description: "A room was closed.",
    },
    EventTypeDef {
        name: "session.started",
        family: "session",
        description: "A session started in a room.",
    },
    EventTypeDef {
        name: "session.ended",
        family: "session",
        description: "A session ended.",
    },
    EventTypeDef {
        name: "participant.joined",
        family: "participant",
        description: "A participant joined a session.",
    },
    EventTypeDef {
        name: "participant.left",
        family: "participant",
        description: "A participant left a session.",
    },
    EventTypeDef {
        name: "participant.updated",
        family: "participant",
        description: "A participant's role, name or media state changed.",
    },
    EventTypeDef {
        name: "track.published",
        family: "track",
        description: "A participant published an audio, video or screen track.",
    },
    EventTypeDef {
        name: "track.unpublished",
        family: "track",
        description: "A participant stopped publishing a track.",
    },
    EventTypeDef {
        name: "recording.started",
        family: "recording",
        description: "Recording started.",
    },
    EventTypeDef {
        name: "recording.stopped",
        family: "recording",
        description: "Recording stopped.",
    },
    EventTypeDef {
        name: "recording.ready",
        family: "recording",
        description: "A recording is processed and can be downloaded.",
    },
    EventTypeDef {
        name: "recording.failed",
        family: "recording",
        description: "A recording could not be completed.",
    },
    EventTypeDef {
        name: "transcript.ready",
        family: "transcript",
        description: "A transcript is available.",
    },
    EventTypeDef {
        name: "bot.joined",
        family: "bot",
        description: "A meeting bot joined a meeting.",
    },
    EventTypeDef {
        name: "bot.left",
        family: "bot",
        description: "A meeting bot left a meeting.",
    },
    EventTypeDef {
        name: "bot.state_changed",
        family: "bot",
        description: "A meeting bot changed state.",
    },
    EventTypeDef {
        name: "call.started",
        family: "call",
        description: "A call started ringing.",
    },
    EventTypeDef {
        name: "call.answered",
        family: "call",
        description: "A call was answered.",
    },
    EventTypeDef {
        name: "call.ended",
        family: "call",
        description: "A call ended.",
    },
    EventTypeDef {
        name: "chat.message",
        family: "chat",
        description: "A chat message was posted.",
    },
    EventTypeDef {
        name: "stream.started",
        family: "stream",
        description: "A live stream started.",
    },
    EventTypeDef {
        name: "stream.ended",
        family: "stream",
        description: "A live stream ended.",
    },
];

/// The payload Herald's standard catalog documents for a type: the things of its family (a
/// room, a participant, a track, a recording, a bot, a message) as objects with an `id`.
pub fn payload(def: &EventTypeDef) -> Value {
    shape(def.name, def.family)
}

/// The standard shape of `family`, also the example of a custom type without a schema.
pub fn shape(name: &str, family: &str) -> Value {
    let room = json!({"id": "example-room", "name": "Example room"});
    let participant = json!({"id": "example-participant", "name": "Ada Example"});
    match family {
        "participant" | "participant_events" | "phone" => {
            json!({"room": room, "participant": participant})
        }
        "track" => json!({"room": room, "participant": participant,
            "track": {"id": "example-track", "kind": "audio", "source": "microphone"}}),
        "recording" | "egress" | "rtmp" | "stream" => json!({"room": room,
            "recording": {"id": "example-recording", "status": status_of(name)}}),
        "bot" | "transcript" | "speech_to_text" => {
            json!({"bot_id": "example-bot", "state": status_of(name)})
        }
        "chat" | "chat_messages" | "qa" => json!({"room": room, "participant": participant,
            "message": {"id": "example-message", "text": "Hello from an example"}}),
        "call" => json!({"call": {"id": "example-call", "caller": participant}}),
        _ => json!({"room": room}),
    }
}

/// A plausible state word from the type's name: `recording.started` gives `started`.
fn status_of(name: &str) -> &str {
    name.rsplit(['.', '_', ':']).next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_takes_its_state_from_the_name() {
        assert_eq!(shape("bot.state_changed", "bot")["state"], "changed");
        assert_eq!(
            shape("x", "room"),
            json!({"room": {"id": "example-room", "name": "Example room"}})
        );
    }
}
