//! Bad input: every mistake gets its 4xx problem+json, the server stays up, and nothing is
//! half-written.

use serde_json::{json, Value};

use crate::harness::{Herald, TempDir};

async fn expect_problem(
    herald: &Herald,
    method: &str,
    path: &str,
    body: Option<Value>,
    status: u16,
    field: Option<&str>,
) {
    let (got, ct, problem) = herald.call(method, path, body).await;
    assert_eq!(got, status, "{method} {path}: {problem}");
    assert_eq!(ct, "application/problem+json", "{method} {path}");
    assert_eq!(problem["status"], status);
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "{problem}"
    );
    if let Some(field) = field {
        let fields: Vec<_> = problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["field"].as_str().unwrap_or_default())
            .collect();
        assert!(
            fields.contains(&field),
            "{method} {path}: expected field {field} in {problem}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_problem_json_and_writes_nothing() {
    let dir = TempDir::new("validation");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let events = format!("/v1/apps/{app}/events");
    let endpoints = format!("/v1/apps/{app}/endpoints");

    // Malformed JSON (raw body).
    let resp = herald
        .client
        .post(format!("{}{events}", herald.base))
        .bearer_auth(crate::harness::ADMIN)
        .body("{\"type\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: Value = resp.json().await.expect("a problem body");
    assert_eq!(problem["status"], 400);
    assert!(problem["detail"].is_string(), "{problem}");

    // Publishing: (body, status, field).
    let bad_events = [
        (
            json!({"type": "no.such.type", "data": {}}),
            422,
            Some("type"),
        ),
        (
            json!({"type": "room.created", "data": [1, 2]}),
            422,
            Some("data"),
        ),
        (
            json!({"type": "room.created", "data": "x"}),
            422,
            Some("data"),
        ),
        (
            json!({"type": "room.created", "data": {"big": "x".repeat(300 * 1024)}}),
            413,
            None,
        ),
    ];
    for (body, status, field) in bad_events {
        expect_problem(&herald, "POST", &events, Some(body), status, field).await;
    }

    // Endpoints: (body, field), each a 422.
    let bad_endpoints = [
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "ftp://example.com/x"}), "url"),
        (
            json!({"url": "http://example.com/x", "format": "carrier-pigeon"}),
            "format",
        ),
        (
            json!({"url": "http://example.com/x", "timeout_ms": -1}),
            "timeout_ms",
        ),
        (
            json!({"url": "http://example.com/x", "max_in_flight": -3}),
            "max_in_flight",
        ),
        (
            json!({"url": "http://example.com/x", "rate_limit_per_s": -1}),
            "rate_limit_per_s",
        ),
        (
            json!({"url": "http://example.com/x", "retry_schedule_s": [5, -1]}),
            "retry_schedule_s[1]",
        ),
        (
            json!({"url": "http://example.com/x", "events": ["room.craeted"]}),
            "events[0]",
        ),
    ];
    for (body, field) in bad_endpoints {
        expect_problem(&herald, "POST", &endpoints, Some(body), 422, Some(field)).await;
    }

    // A literal private address is refused, naming the setting that allows it.
    let (s, _, p) = herald
        .call(
            "POST",
            &endpoints,
            Some(json!({"url": "http://10.1.2.3/hook"})),
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("HERALD_ALLOW_DESTINATIONS"),
        "{p}"
    );

    // Unknown apps and ids, a bad query parameter, bad apps: (method, path, body, status, field).
    let unknown = "01JDX5Y8Z9A0B1C2D3E4F5G6H7";
    let other = [
        (
            "GET",
            format!("{events}?limit=-5"),
            None,
            422,
            Some("limit"),
        ),
        // A time bound that is not an RFC 3339 time names its parameter.
        (
            "GET",
            format!("/v1/apps/{app}/deliveries?since=yesterday"),
            None,
            422,
            Some("since"),
        ),
        (
            "GET",
            format!("{events}?until=1969-12-31T23:59:59Z"),
            None,
            422,
            Some("until"),
        ),
        // The catch-up route's cursor is a sequence, 0 or more; the rooms list's limit is 1 to 100.
        (
            "GET",
            format!("/v1/apps/{app}/rooms/r1/events?after_sequence=-1"),
            None,
            422,
            Some("after_sequence"),
        ),
        (
            "GET",
            format!("/v1/apps/{app}/rooms/r1/events?after_sequence=evt_{unknown}"),
            None,
            422,
            Some("after_sequence"),
        ),
        (
            "GET",
            format!("/v1/apps/{app}/rooms?limit=101"),
            None,
            422,
            Some("limit"),
        ),
        ("GET", format!("/v1/apps/{app}/rooms/r1"), None, 404, None),
        ("GET", format!("/v1/apps/{app}/bots/b1"), None, 404, None),
        // A cursor that is not an id of the listed kind names `after`, rather than
        // silently answering the first page.
        (
            "GET",
            format!("/v1/apps/{app}/deliveries?after=%00garbage"),
            None,
            400,
            Some("after"),
        ),
        (
            "GET",
            format!("/v1/apps/{app}/deliveries?after=evt_{unknown}"),
            None,
            400,
            Some("after"),
        ),
        (
            "GET",
            format!("{events}?after=dlv_{unknown}"),
            None,
            400,
            Some("after"),
        ),
        (
            "GET",
            "/v1/apps?after=nonsense".to_owned(),
            None,
            400,
            Some("after"),
        ),
        ("GET", format!("/v1/apps/app_{unknown}"), None, 404, None),
        ("GET", "/v1/apps/nonsense".to_owned(), None, 404, None),
        ("GET", format!("{events}/evt_{unknown}"), None, 404, None),
        ("GET", format!("{endpoints}/ep_{unknown}"), None, 404, None),
        (
            "GET",
            format!("/v1/apps/{app}/deliveries/dlv_nope"),
            None,
            404,
            None,
        ),
        (
            "POST",
            "/v1/apps".to_owned(),
            Some(json!({"name": "x", "preset": "zoom"})),
            422,
            Some("preset"),
        ),
        (
            "POST",
            "/v1/apps".to_owned(),
            Some(json!({"name": "x", "surprise": 1})),
            422,
            None,
        ),
    ];
    for (method, path, body, status, field) in other {
        expect_problem(&herald, method, &path, body, status, field).await;
    }

    // Missing and wrong tokens.
    for token in ["", "hk_wrong", "hadm_not-the-admin-token-at-all"] {
        let (s, ct, p) = herald.call_as(token, "GET", "/v1/apps", None).await;
        assert_eq!((s, ct.as_str()), (401, "application/problem+json"), "{p}");
        assert_eq!(p["status"], 401);
        assert!(p["detail"].is_string(), "{p}");
    }

    // A batch with one bad event writes none of them.
    let batch = json!({"events": [
        {"type": "room.created", "data": {"n": 1}},
        {"type": "room.created", "data": 7},
    ]});
    expect_problem(
        &herald,
        "POST",
        &format!("{events}/batch"),
        Some(batch),
        422,
        Some("events[1].data"),
    )
    .await;
    let (_, _, listed) = herald.call("GET", &events, None).await;
    assert_eq!(
        listed["data"],
        json!([]),
        "a rejected request left an event behind"
    );
    let (_, _, eps) = herald.call("GET", &endpoints, None).await;
    assert_eq!(
        eps["data"],
        json!([]),
        "a rejected request left an endpoint behind"
    );
    let (_, _, apps) = herald.call("GET", "/v1/apps", None).await;
    assert_eq!(
        apps["data"].as_array().map(Vec::len),
        Some(1),
        "a rejected request left an app behind: {apps}"
    );
    let (_, _, deliveries) = herald
        .call("GET", &format!("/v1/apps/{app}/deliveries"), None)
        .await;
    assert_eq!(deliveries["data"], json!([]), "a delivery was left behind");

    // Still up.
    let (s, _, _) = herald.call("GET", "/healthz", None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn an_app_key_reaches_only_its_own_app() {
    let dir = TempDir::new("tenancy");
    let herald = Herald::start(&dir.0);
    let mine = herald.create_app("standard").await;
    let theirs = herald.create_app("standard").await;
    let (s, _, key) = herald
        .call(
            "POST",
            &format!("/v1/apps/{mine}/keys"),
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(s, 201, "{key}");
    let token = key["token"].as_str().expect("token");
    let (s, _, _) = herald
        .call_as(token, "GET", &format!("/v1/apps/{mine}/endpoints"), None)
        .await;
    assert_eq!(s, 200);
    let (s, ct, _) = herald
        .call_as(token, "GET", &format!("/v1/apps/{theirs}"), None)
        .await;
    assert_eq!((s, ct.as_str()), (404, "application/problem+json"));
    let (s, _, _) = herald
        .call_as(
            token,
            "POST",
            &format!("/v1/apps/{theirs}/events"),
            Some(json!({"type": "room.created"})),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _, listed) = herald.call_as(token, "GET", "/v1/apps", None).await;
    assert_eq!(s, 200);
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));
    let (s, _, _) = herald
        .call_as(token, "POST", "/v1/apps", Some(json!({"name": "x"})))
        .await;
    assert_eq!(s, 403);
    let key_id = key["id"].as_str().expect("key id");
    let (s, _, _) = herald
        .call("DELETE", &format!("/v1/apps/{mine}/keys/{key_id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _, _) = herald
        .call_as(token, "GET", &format!("/v1/apps/{mine}"), None)
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn openapi_covers_every_route_and_lists_paginate() {
    let dir = TempDir::new("openapi");
    let herald = Herald::start(&dir.0);
    let (s, _, doc) = herald.call("GET", "/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3.1"));
    for path in [
        "/v1/apps",
        "/v1/apps/{app}/events",
        "/v1/apps/{app}/events/batch",
        "/v1/apps/{app}/deliveries/{dlv}/resend",
        "/v1/apps/{app}/endpoints/{ep}/recover",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    let app = herald.create_app("standard").await;
    for n in 0..5 {
        herald
            .publish(&app, json!({"type": "room.created", "data": {"n": n}}))
            .await;
    }
    let (_, _, p1) = herald
        .call("GET", &format!("/v1/apps/{app}/events?limit=3"), None)
        .await;
    assert_eq!(p1["data"].as_array().map(Vec::len), Some(3));
    let cursor = p1["next_cursor"].as_str().expect("cursor");
    let (_, _, p2) = herald
        .call(
            "GET",
            &format!("/v1/apps/{app}/events?limit=3&after={cursor}"),
            None,
        )
        .await;
    assert_eq!(p2["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(p2["next_cursor"], Value::Null);
    let metrics = herald
        .client
        .get(format!("{}/metrics", herald.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.unwrap_or_default();
    assert!(text.contains("herald_events_published_total"), "{text}");
}
