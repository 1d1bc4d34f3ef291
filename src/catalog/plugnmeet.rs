//! plugNmeet's webhook events, as its webhook documentation and protocol definitions name them:
//! plugNmeet follows LiveKit's pattern and adds its own recording, RTMP and analytics events.

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
