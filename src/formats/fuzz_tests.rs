//! Property tests (proptest): every format's verifier takes any request without panicking,
//! and the canonical JSON writer's output reads back as the value it wrote. CI runs the default 256 cases per property; `PROPTEST_CASES`
//! raises it for a longer run (see the README).

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;

use super::{canonical, format_for, Credentials, Incoming};
use crate::domain::FormatKind;

const NAMES: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "authorization",
    "x-sendbird-signature",
    "x-webhook-signature",
    "content-type",
];

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        proptest::sample::select(NAMES).prop_map(str::to_owned),
        "[a-zA-Z-]{1,20}",
    ];
    let value = prop_oneof![
        "\\PC{0,80}",
        "v1,[A-Za-z0-9+/=]{0,60}",
        "Bearer [A-Za-z0-9._-]{0,120}",
        "[0-9]{1,12}",
    ];
    vec((name, value), 0..6)
}

/// JSON values with integer numbers (whose canonical spelling is their own).
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("\\PC{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn verifiers_take_any_request(
        headers in headers(),
        body in vec(any::<u8>(), 0..300),
        secret in "\\PC{0,48}",
    ) {
        for kind in FormatKind::ALL {
            let Some(format) = format_for(kind) else { continue };
            let req = Incoming { headers: &headers, body: &body };
            let creds = Credentials { secret: &secret, api_key: Some("APIkey") };
            let _ = format.verify(&req, &creds, chrono::Utc::now());
        }
    }

    #[test]
    fn canonical_output_reads_back_as_the_value_written(v in json_value()) {
        let out = canonical::to_string(&v);
        let back: Value = serde_json::from_str(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(canonical::to_string(&back), out);
    }
}
