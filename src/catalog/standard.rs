//! Herald's own RTC-neutral catalog, for platforms that do not mirror another one: dotted names,
//! one family per kind of thing in a real-time platform.

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
