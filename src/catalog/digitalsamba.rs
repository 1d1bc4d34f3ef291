//! DigitalSamba's room webhook events, named as its webhook documentation lists them: receivers
//! moving to Herald match on these exact names.

use serde_json::{json, Value};

use super::EventTypeDef;

/// Every event type DigitalSamba documents, in its own spelling.
pub const TYPES: &[EventTypeDef] = &[
    EventTypeDef {
        name: "participant_joined",
        family: "participant",
        description: "A participant joined a room session.",
    },
    EventTypeDef {
        name: "participant_left",
        family: "participant",
        description: "A participant left a room session.",
    },
    EventTypeDef {
        name: "participant_invited",
        family: "participant",
        description: "A participant was invited to a room.",
    },
    EventTypeDef {
        name: "session_started",
        family: "session",
        description: "A session started in a room.",
    },
    EventTypeDef {
        name: "session_ended",
        family: "session",
        description: "A session in a room ended.",
    },
    EventTypeDef {
        name: "recording_started",
        family: "recording",
        description: "Recording of a session started.",
    },
    EventTypeDef {
        name: "recording_stopped",
        family: "recording",
        description: "Recording of a session stopped.",
    },
    EventTypeDef {
        name: "recording_ready",
        family: "recording",
        description: "A recording finished processing and can be downloaded.",
    },
    EventTypeDef {
        name: "file_added_to_library",
        family: "library",
        description: "A file was added to the content library.",
    },
    EventTypeDef {
        name: "file_renamed",
        family: "library",
        description: "A library file was renamed.",
    },
    EventTypeDef {
        name: "file_deleted_from_library",
        family: "library",
        description: "A file was removed from the content library.",
    },
    EventTypeDef {
        name: "file_processing_failed",
        family: "library",
        description: "A library file could not be processed.",
    },
    EventTypeDef {
        name: "folder_added_to_library",
        family: "library",
        description: "A folder was added to the content library.",
    },
    EventTypeDef {
        name: "folder_renamed",
        family: "library",
        description: "A library folder was renamed.",
    },
    EventTypeDef {
        name: "folder_deleted_from_library",
        family: "library",
        description: "A folder was removed from the content library.",
    },
    EventTypeDef {
        name: "phone_participant_muted",
        family: "phone",
        description: "A dial-in participant was muted.",
    },
    EventTypeDef {
        name: "phone_participant_unmuted",
        family: "phone",
        description: "A dial-in participant was unmuted.",
    },
    EventTypeDef {
        name: "phone_participant_asked_to_unmute",
        family: "phone",
        description: "A dial-in participant was asked to unmute.",
    },
    EventTypeDef {
        name: "question_asked",
        family: "qa",
        description: "A question was asked in the Q&A panel.",
    },
    EventTypeDef {
        name: "question_answered",
        family: "qa",
        description: "A Q&A question was answered.",
    },
    EventTypeDef {
        name: "room_locked",
        family: "room",
        description: "A room was locked against new joiners.",
    },
    EventTypeDef {
        name: "room_unlocked",
        family: "room",
        description: "A locked room was opened again.",
    },
];

/// The documented `data` of a DigitalSamba webhook (the room, the session and the time are
/// beside it in the body): who, for a participant's event, and what, for the others.
pub fn payload(def: &EventTypeDef) -> Value {
    match def.family {
        "participant" | "phone" => json!({"participantId": "example-participant",
            "name": "Ada Example", "role": "moderator"}),
        "recording" => json!({"recordingId": "example-recording", "name": "Weekly planning"}),
        "library" if def.name.starts_with("folder") => {
            json!({"folderId": "example-folder", "name": "Slides"})
        }
        "library" => json!({"fileId": "example-file", "name": "agenda.pdf"}),
        "qa" => json!({"questionId": "example-question", "question": "Is this an example?",
            "participantId": "example-participant"}),
        _ => json!({}),
    }
}
