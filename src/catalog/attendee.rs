//! Attendee's meeting-bot webhook triggers, as its webhook documentation names them: receivers
//! moving to Herald match on the `trigger` field verbatim.

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
