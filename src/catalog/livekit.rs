//! LiveKit server webhook events, spelled as the LiveKit server sends them in `event`: receivers
//! built on LiveKit's SDKs switch on these names.

use super::EventTypeDef;

/// Every event type LiveKit documents, in its own spelling.
pub const TYPES: &[EventTypeDef] = &[
    EventTypeDef {
        name: "room_started",
        family: "room",
        description: "A room was created and its first participant connected.",
    },
    EventTypeDef {
        name: "room_finished",
        family: "room",
        description: "A room closed after its last participant left.",
    },
    EventTypeDef {
        name: "participant_joined",
        family: "participant",
        description: "A participant connected to a room.",
    },
    EventTypeDef {
        name: "participant_left",
        family: "participant",
        description: "A participant disconnected from a room.",
    },
    EventTypeDef {
        name: "participant_connection_aborted",
        family: "participant",
        description: "A participant's connection failed before it was established.",
    },
    EventTypeDef {
        name: "track_published",
        family: "track",
        description: "A participant published an audio or video track.",
    },
    EventTypeDef {
        name: "track_unpublished",
        family: "track",
        description: "A participant stopped publishing a track.",
    },
    EventTypeDef {
        name: "egress_started",
        family: "egress",
        description: "An egress (recording or stream) started.",
    },
    EventTypeDef {
        name: "egress_updated",
        family: "egress",
        description: "An egress changed state.",
    },
    EventTypeDef {
        name: "egress_ended",
        family: "egress",
        description: "An egress finished or failed.",
    },
    EventTypeDef {
        name: "ingress_started",
        family: "ingress",
        description: "An ingress began receiving media.",
    },
    EventTypeDef {
        name: "ingress_ended",
        family: "ingress",
        description: "An ingress stopped receiving media.",
    },
];
