//! Attendee's meeting-bot webhook triggers, as its webhook documentation names them: receivers
//! moving to Herald match on the `trigger` field verbatim.

use serde_json::{json, Value};

use super::EventTypeDef;

/// Every event type Attendee documents, in its own spelling.
pub const TYPES: &[EventTypeDef] = &[
    EventTypeDef {
        name: "bot.state_change",
        family: "bot",
        description: "A bot moved from one state to another (joining, recording, ended, ...).",
    },
    EventTypeDef {
        name: "transcript.update",
        family: "transcript",
        description: "A new piece of the meeting transcript is available.",
    },
    EventTypeDef {
        name: "chat_messages.update",
        family: "chat_messages",
        description: "A chat message was posted in the meeting.",
    },
    EventTypeDef {
        name: "participant_events.join_leave",
        family: "participant_events",
        description: "A meeting participant joined or left.",
    },
];

/// The documented `data` of an Attendee webhook (Herald's format adds `idempotency_key`,
/// `bot_id`, `bot_metadata` and `trigger` around it).
pub fn payload(def: &EventTypeDef) -> Value {
    match def.family {
        "bot" => json!({"new_state": "ended", "old_state": "post_processing",
            "created_at": "2023-07-15T14:30:45.123456Z",
            "event_type": "post_processing_completed", "event_sub_type": null}),
        "transcript" => json!({"speaker_name": "Ada Example", "speaker_uuid": "example-speaker",
            "timestamp_ms": 1700000000000u64, "duration_ms": 2300,
            "transcription": {"transcript": "Hello from an example"}}),
        "chat_messages" => json!({"id": "example-message", "text": "Hello from an example",
            "sender_name": "Ada Example", "timestamp": 1700000000, "to": "everyone"}),
        _ => json!({"id": "example-event", "participant_name": "Ada Example",
            "participant_uuid": "example-participant", "event_type": "join",
            "timestamp_ms": 1700000000000u64}),
    }
}
