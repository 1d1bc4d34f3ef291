//! Sendbird Calls webhook categories, as Sendbird's webhook documentation lists them: the names
//! `all_webhook_categories` returns and receivers match on in `category`.

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
