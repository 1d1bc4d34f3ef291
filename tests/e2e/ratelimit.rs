//! Per-key API rate limits: a key over its budget gets 429 with `Retry-After` and the
//! `RateLimit-*` fields, while other keys and the admin token go on unaffected.

use serde_json::json;

use crate::harness::{Herald, TempDir};

async fn key(herald: &Herald, app: &str) -> String {
    let (s, _, key) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/keys"),
            Some(json!({"name": "k"})),
        )
        .await;
    assert_eq!(s, 201, "{key}");
    key["token"].as_str().expect("token").to_owned()
}

/// Lists the app's events with `token`: status, and the rate-limit fields answered.
async fn list(herald: &Herald, token: &str, app: &str) -> (u16, Vec<Option<String>>, String) {
    let resp = herald
        .client
        .get(format!("{}/v1/apps/{app}/events", herald.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let fields = [
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "retry-after",
    ]
    .iter()
    .map(|h| {
        resp.headers()
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
    .collect();
    let status = resp.status().as_u16();
    (status, fields, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_flooding_key_is_limited_and_the_others_are_not() {
    let dir = TempDir::new("ratelimit-api");
    let herald = Herald::start_with(
        &dir.0,
        &[
            ("HERALD_API_RATE_LIMIT_PER_S", "1"),
            ("HERALD_API_RATE_LIMIT_BURST", "3"),
        ],
    );
    let (flood, calm) = (
        herald.create_app("standard").await,
        herald.create_app("standard").await,
    );
    let (flooder, other) = (key(&herald, &flood).await, key(&herald, &calm).await);
    for left in ["2", "1", "0"] {
        let (s, fields, _) = list(&herald, &flooder, &flood).await;
        assert_eq!(s, 200);
        assert_eq!(fields[0].as_deref(), Some("3"));
        assert_eq!(fields[1].as_deref(), Some(left));
        assert!(fields[2].is_some());
    }
    let (s, fields, body) = list(&herald, &flooder, &flood).await;
    assert_eq!(s, 429, "{body}");
    let retry: u64 = fields[3]
        .as_deref()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry >= 1, "{retry}");
    assert_eq!(fields[1].as_deref(), Some("0"));
    let problem: serde_json::Value = serde_json::from_str(&body).expect("problem+json");
    assert_eq!(problem["status"], 429);
    // Another app's key, and the admin token, are not held back by the flood.
    let (s, fields, _) = list(&herald, &other, &calm).await;
    assert_eq!((s, fields[1].as_deref()), (200, Some("2")));
    for _ in 0..10 {
        assert_eq!(
            herald
                .call("GET", &format!("/v1/apps/{flood}/events"), None)
                .await
                .0,
            200
        );
    }
}
