//! Sendbird Calls webhook categories, as Sendbird's webhook documentation lists them: the names
//! `all_webhook_categories` returns and receivers match on in `category`.

use serde_json::{json, Value};

use super::EventTypeDef;

/// Every event type Sendbird Calls documents, in its own spelling.
pub const TYPES: &[EventTypeDef] = &[
    EventTypeDef {
        name: "direct_call:dial",
        family: "direct_call",
        description: "A direct call's signal was forwarded to the callee.",
    },
    EventTypeDef {
        name: "direct_call:accept",
        family: "direct_call",
        description: "The callee accepted a direct call.",
    },
    EventTypeDef {
        name: "direct_call:end",
        family: "direct_call",
        description: "A direct call was ended by the caller or the callee.",
    },
    EventTypeDef {
        name: "room:create",
        family: "room",
        description: "A group call room was created.",
    },
    EventTypeDef {
        name: "room:delete",
        family: "room",
        description: "A group call room was deleted.",
    },
    EventTypeDef {
        name: "room:participant_enter",
        family: "room",
        description: "A participant entered a room.",
    },
    EventTypeDef {
        name: "room:participant_exit",
        family: "room",
        description: "A participant exited a room.",
    },
    EventTypeDef {
        name: "room:participant_disconnect",
        family: "room",
        description: "A participant was disconnected from a room.",
    },
    EventTypeDef {
        name: "room:invitation_send",
        family: "room",
        description: "An invitation to join a room was sent.",
    },
    EventTypeDef {
        name: "room:invitation_cancel",
        family: "room",
        description: "An invitation to join a room was cancelled.",
    },
    EventTypeDef {
        name: "room:invitation_accept",
        family: "room",
        description: "A participant accepted an invitation to join a room.",
    },
    EventTypeDef {
        name: "room:invitation_decline",
        family: "room",
        description: "A participant declined an invitation to join a room.",
    },
    EventTypeDef {
        name: "room:invitation_no_answer",
        family: "room",
        description: "An invitation to join a room got no answer.",
    },
];

/// The documented payload of a Sendbird Calls event beside `category` (which Herald's format
/// adds): a direct call's parties, or a group call's room and, for a participant or an
/// invitation, who. Sendbird adds keys over time, so none is refused.
pub fn payload(def: &EventTypeDef) -> Value {
    let at = json!({"occured_at": 1700000000000u64, "application_id": "example-application"});
    let mut body = match def.family {
        "direct_call" => json!({"direct_call": {"call_id": "example-call",
            "is_video_call": false,
            "caller": {"user_id": "ada", "nickname": "Ada Example", "is_active": true},
            "callee": {"user_id": "grace", "nickname": "Grace Example", "is_active": true}}}),
        _ => json!({"room": {"room_id": "example-room", "room_type": "small_room_for_video",
            "state": "open", "created_by": "ada", "created_at": 1700000000000u64}}),
    };
    if def.name.contains("participant") {
        body["participant"] = json!({"participant_id": "example-participant",
            "user_id": "ada", "state": "connected"});
    } else if def.name.contains("invitation") {
        body["invitation"] = json!({"invitation_id": "example-invitation",
            "inviter_id": "ada", "invitee_id": "grace"});
    }
    for (k, v) in at.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    body
}
