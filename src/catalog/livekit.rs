//! LiveKit server webhook events, spelled as the LiveKit server sends them in `event`: receivers
//! built on LiveKit's SDKs switch on these names.

use serde_json::{json, Value};

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

/// The documented payload of a LiveKit event: the fields of its `WebhookEvent` beside
/// `event`, `id` and `createdAt` (which Herald's format adds), with LiveKit's camelCase
/// names and its int64 timestamps as strings, as protobuf's JSON mapping sends them.
pub fn payload(def: &EventTypeDef) -> Value {
    let room = json!({"sid": "RM_example", "name": "example-room", "emptyTimeout": 300,
        "maxParticipants": 20, "creationTime": "1700000000", "numParticipants": 1,
        "metadata": ""});
    let participant = json!({"sid": "PA_example", "identity": "ada", "name": "Ada Example",
        "state": "ACTIVE", "joinedAt": "1700000005", "metadata": ""});
    match def.family {
        "room" => json!({"room": room}),
        "participant" => json!({"room": room, "participant": participant}),
        "track" => json!({"room": room, "participant": participant, "track": track()}),
        "egress" => json!({"egressInfo": {"egressId": "EG_example", "roomId": "RM_example",
            "roomName": "example-room", "status": "EGRESS_ACTIVE",
            "startedAt": "1700000010000000000"}}),
        _ => json!({"ingressInfo": {"ingressId": "IN_example", "name": "Example stream",
            "streamKey": "example-key", "url": "rtmp://ingress.example.com/live",
            "inputType": "RTMP_INPUT", "roomName": "example-room"}}),
    }
}

/// LiveKit's `TrackInfo`, which plugNmeet sends as it is.
pub fn track() -> Value {
    json!({"sid": "TR_example", "type": "AUDIO", "source": "MICROPHONE", "name": "microphone",
        "muted": false})
}
