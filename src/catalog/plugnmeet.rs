//! plugNmeet's webhook events, as its webhook documentation and protocol definitions name them:
//! plugNmeet follows LiveKit's pattern and adds its own recording, RTMP and analytics events.

use serde_json::{json, Value};

use super::EventTypeDef;

/// Every event type plugNmeet documents, in its own spelling.
pub const TYPES: &[EventTypeDef] = &[
    EventTypeDef {
        name: "room_created",
        family: "room",
        description: "A room was created.",
    },
    EventTypeDef {
        name: "room_started",
        family: "room",
        description: "A room started with its first participant.",
    },
    EventTypeDef {
        name: "room_finished",
        family: "room",
        description: "A room ended.",
    },
    EventTypeDef {
        name: "participant_joined",
        family: "participant",
        description: "A participant joined a room.",
    },
    EventTypeDef {
        name: "participant_left",
        family: "participant",
        description: "A participant left a room.",
    },
    EventTypeDef {
        name: "track_published",
        family: "track",
        description: "A participant published a track.",
    },
    EventTypeDef {
        name: "track_unpublished",
        family: "track",
        description: "A participant unpublished a track.",
    },
    EventTypeDef {
        name: "start_recording",
        family: "recording",
        description: "Recording of a room started.",
    },
    EventTypeDef {
        name: "end_recording",
        family: "recording",
        description: "Recording of a room ended.",
    },
    EventTypeDef {
        name: "recording_proceeded",
        family: "recording",
        description: "A recording finished processing and is available.",
    },
    EventTypeDef {
        name: "start_rtmp",
        family: "rtmp",
        description: "An RTMP broadcast of a room started.",
    },
    EventTypeDef {
        name: "end_rtmp",
        family: "rtmp",
        description: "An RTMP broadcast of a room ended.",
    },
    EventTypeDef {
        name: "analytics_proceeded",
        family: "analytics",
        description: "A room's analytics report finished processing.",
    },
    EventTypeDef {
        name: "speech_to_text_session_started",
        family: "speech_to_text",
        description: "A speech-to-text session started in a room.",
    },
    EventTypeDef {
        name: "speech_to_text_session_ended",
        family: "speech_to_text",
        description: "A speech-to-text session in a room ended.",
    },
    EventTypeDef {
        name: "speech_to_text_total_usage",
        family: "speech_to_text",
        description: "The total speech-to-text usage of a room was reported.",
    },
];

/// The documented payload of a plugNmeet event: the fields of its `CommonNotifyEvent` beside
/// `event`, `id` and `created_at`, in plugNmeet's snake_case. Track events carry only `sid`,
/// `identity` and `name` of the room and participant, so no field is required.
pub fn payload(def: &EventTypeDef) -> Value {
    let room = json!({"sid": "RM_example", "identity": "example-room", "name": "Example room",
        "max_participants": 50, "num_participants": 1, "creation_time": 1700000000,
        "metadata": ""});
    let participant = json!({"sid": "PA_example", "identity": "ada", "name": "Ada Example",
        "state": "ACTIVE", "joined_at": 1700000005, "metadata": ""});
    let recording = json!({"record_id": "REC_example", "recorder_id": "recorder-1",
        "room_table_id": 1, "file_path": "/recordings/example.mp4", "file_size": 12.5});
    match def.family {
        "room" => json!({"room": room}),
        "participant" => json!({"room": room, "participant": participant}),
        "track" => json!({"room": room, "participant": participant,
            "track": super::livekit::track()}),
        "recording" | "rtmp" => json!({"room": room, "recording_info": recording}),
        "analytics" => json!({"room": room, "analytics": {"file_id": "AN_example",
            "file_name": "example.json", "file_path": "/analytics/example.json",
            "file_size": 0.2}}),
        _ => json!({"room": room, "speech_service": {"service_name": "azure",
            "total_usage": 60}}),
    }
}
