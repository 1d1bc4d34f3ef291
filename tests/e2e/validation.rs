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

    expect_problem(
        &herald,
        "POST",
        &events,
        Some(json!({"type": "no.such.type", "data": {}})),
        422,
        Some("type"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &events,
        Some(json!({"type": "room.created", "data": [1, 2]})),
        422,
        Some("data"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &events,
        Some(json!({"type": "room.created", "data": "x"})),
        422,
        Some("data"),
    )
    .await;
    let big = "x".repeat(300 * 1024);
    expect_problem(
        &herald,
        "POST",
        &events,
        Some(json!({"type": "room.created", "data": {"big": big}})),
        413,
        None,
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &endpoints,
        Some(json!({"url": "not a url"})),
        422,
        Some("url"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &endpoints,
        Some(json!({"url": "ftp://example.com/x"})),
        422,
        Some("url"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &endpoints,
        Some(json!({"url": "http://example.com/x", "format": "carrier-pigeon"})),
        422,
        Some("format"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &endpoints,
        Some(json!({"url": "http://example.com/x", "timeout_ms": -1})),
        422,
        Some("timeout_ms"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &endpoints,
        Some(json!({"url": "http://example.com/x", "max_in_flight": -3})),
        422,
        Some("max_in_flight"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &endpoints,
        Some(json!({"url": "http://example.com/x", "retry_schedule_s": [5, -1]})),
        422,
        Some("retry_schedule_s[1]"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        &endpoints,
        Some(json!({"url": "http://example.com/x", "events": ["room.craeted"]})),
        422,
        Some("events[0]"),
    )
    .await;
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
    expect_problem(
        &herald,
        "GET",
        &format!("{events}?limit=-5"),
        None,
        422,
        Some("limit"),
    )
    .await;
    expect_problem(
        &herald,
        "GET",
        "/v1/apps/app_01JDX5Y8Z9A0B1C2D3E4F5G6H7",
        None,
        404,
        None,
    )
    .await;
    expect_problem(&herald, "GET", "/v1/apps/nonsense", None, 404, None).await;
    expect_problem(
        &herald,
        "GET",
        &format!("{events}/evt_01JDX5Y8Z9A0B1C2D3E4F5G6H7"),
        None,
        404,
        None,
    )
    .await;
    expect_problem(
        &herald,
        "GET",
        &format!("/v1/apps/{app}/deliveries/dlv_nope"),
        None,
        404,
        None,
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        "/v1/apps",
        Some(json!({"name": "x", "preset": "zoom"})),
        422,
        Some("preset"),
    )
    .await;
    expect_problem(
        &herald,
        "POST",
        "/v1/apps",
        Some(json!({"name": "x", "surprise": 1})),
        422,
        None,
    )
    .await;

    // Missing and wrong tokens.
    let (s, ct, _) = herald.call_as("", "GET", "/v1/apps", None).await;
    assert_eq!((s, ct.as_str()), (401, "application/problem+json"));
    let (s, _, _) = herald.call_as("hk_wrong", "GET", "/v1/apps", None).await;
    assert_eq!(s, 401);

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
