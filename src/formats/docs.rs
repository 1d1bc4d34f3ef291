//! Each wire format as a receiver's developer reads it: the headers a request carries, how
//! its signature is checked, and the JSON Schema of its body around the event's `data`.
//! The per-app webhook documents (`GET /v1/apps/{app}/openapi.json`) are built from this;
//! it sits beside the renderers so that a change to a body is a change to its description.

use serde_json::{json, Value};

use crate::domain::FormatKind;

/// A format as documented.
pub struct Described {
    pub content_type: &'static str,
    /// The headers every request carries beside Content-Type: name and meaning.
    pub headers: &'static [(&'static str, &'static str)],
    /// How a receiver checks that a request is genuine.
    pub signature: &'static str,
}

const STANDARD: Described = Described {
    content_type: "application/json",
    headers: &[
        ("webhook-id", "The delivery's id: the same on every retry, for de-duplication."),
        ("webhook-timestamp", "Unix seconds when this attempt was signed."),
        ("webhook-signature", "Space-separated `v1,<base64>` (and `v1a,<base64>`) signatures."),
    ],
    signature: "Standard Webhooks: `v1` is the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed by the base64 part of the `whsec_` secret; `v1a` is an ed25519 signature of the same content by the `whsk_` key, checked with its `whpk_` public key. Reject timestamps more than five minutes away.",
};

const DIGITALSAMBA: Described = Described {
    content_type: "application/json",
    headers: &[(
        "authorization",
        "`Bearer <the endpoint's authorization_header secret>`.",
    )],
    signature: "DigitalSamba's: the body is not signed; compare the bearer token with the secret.",
};

const ATTENDEE: Described = Described {
    content_type: "application/json",
    headers: &[("x-webhook-signature", "The base64 HMAC-SHA256 of the canonical body.")],
    signature: "Attendee's: parse the body, serialise it with sorted keys and no spaces, and compare the base64 HMAC-SHA256 keyed by the base64-decoded secret (Herald sends exactly those bytes).",
};

const LIVEKIT: Described = Described {
    content_type: "application/webhook+json",
    headers: &[("authorization", "A JWT (HS256) whose `sha256` claim is the base64 SHA-256 of the body.")],
    signature: "LiveKit's: verify the JWT with the API secret (its issuer is the API key), then compare its `sha256` claim with the body's hash.",
};

const PLUGNMEET: Described = Described {
    content_type: "application/webhook+json",
    headers: &[
        ("authorization", "A JWT (HS256) whose `sha256` claim is the base64 SHA-256 of the body."),
        ("hash-token", "The same JWT."),
    ],
    signature: "plugNmeet's (LiveKit's pattern): verify the JWT with the API secret, then compare its `sha256` claim with the body's hash.",
};

const SENDBIRD: Described = Described {
    content_type: "application/json",
    headers: &[(
        "x-sendbird-signature",
        "The lowercase hex HMAC-SHA256 of the raw body.",
    )],
    signature: "Sendbird's: compare the hex HMAC-SHA256 of the raw body keyed by the API token.",
};

/// How requests of `kind` look to their receiver.
pub fn describe(kind: FormatKind) -> &'static Described {
    match kind {
        FormatKind::Standard => &STANDARD,
        FormatKind::Digitalsamba => &DIGITALSAMBA,
        FormatKind::Attendee => &ATTENDEE,
        FormatKind::Livekit => &LIVEKIT,
        FormatKind::Plugnmeet => &PLUGNMEET,
        FormatKind::Sendbird => &SENDBIRD,
    }
}

/// The schema of a request body of type `name` whose `data` has the schema `data`;
/// `data_only` is the Standard Webhooks endpoint option that sends `data` alone.
pub fn body_schema(kind: FormatKind, data_only: bool, name: &str, data: Value) -> Value {
    let object = |props: Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required});
    // The LiveKit-family and Sendbird bodies spread `data` beside their own keys.
    let spread = |own: Value, required: &[&str]| json!({"allOf": [data, object(own, required)]});
    match kind {
        FormatKind::Standard if data_only => data,
        FormatKind::Standard => object(
            json!({"type": {"const": name}, "timestamp": {"type": "string", "format": "date-time"},
                "data": data,
                "sequence": {"type": "integer", "description": "The event's place in its room."}}),
            &["type", "timestamp", "data"],
        ),
        FormatKind::Digitalsamba => object(
            json!({"eventType": {"const": name}, "sessionId": {"type": ["string", "null"]},
                "roomId": {"type": ["string", "null"]}, "timestamp": {"type": "integer"},
                "data": data}),
            &["eventType", "timestamp", "data"],
        ),
        FormatKind::Attendee => object(
            json!({"idempotency_key": {"type": "string", "format": "uuid"},
                "bot_id": {"type": ["string", "null"]}, "bot_metadata": {},
                "trigger": {"const": name}, "data": data}),
            &["idempotency_key", "trigger", "data"],
        ),
        FormatKind::Livekit => spread(
            json!({"event": {"const": name}, "id": {"type": "string"},
                "createdAt": {"type": "string", "pattern": "^[0-9]+$"}}),
            &["event", "id", "createdAt"],
        ),
        FormatKind::Plugnmeet => spread(
            json!({"event": {"const": name}, "id": {"type": "string"},
                "created_at": {"type": "integer"}}),
            &["event", "id", "created_at"],
        ),
        FormatKind::Sendbird => spread(json!({"category": {"const": name}}), &["category"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_names_a_signature_and_wraps_data() {
        let data = json!({"$ref": "#/components/schemas/x"});
        for kind in FormatKind::ALL {
            assert!(!describe(kind).signature.is_empty());
            let body = body_schema(kind, false, "room_started", data.clone());
            assert!(
                body.to_string().contains("#/components/schemas/x"),
                "{kind:?}"
            );
        }
        assert_eq!(
            body_schema(FormatKind::Standard, true, "x", data.clone()),
            data
        );
    }
}
