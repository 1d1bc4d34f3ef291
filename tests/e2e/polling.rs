//! Polling endpoints: the consumer pulls what a push would have sent, signed the same way;
//! polled from several nodes in turn it sees each matching event once, in order, and its
//! cursor outlives a restart; on either backend (several nodes on PostgreSQL).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::db::on_postgres;
use crate::harness::{python_on_request, Herald, TempDir};
use crate::receiver::Received;

fn start(dir: &TempDir) -> Vec<Herald> {
    let n = if on_postgres() { 2 } else { 1 };
    (0..n).map(|_| Herald::start(&dir.0)).collect()
}

async fn publish(node: &Herald, app: &str, room: &str, i: usize) {
    let body = json!({"type": "participant.joined", "data": {"i": i}, "labels": {"room_id": room}});
    let (status, ack) = node.publish(app, body).await;
    assert_eq!(status, 202, "{ack}");
}

/// One poll; answers the page.
async fn poll(node: &Herald, app: &str, ep: &str, query: &str) -> Value {
    let path = format!("/v1/apps/{app}/endpoints/{ep}/poll?{query}");
    let (status, _, page) = node.call("GET", &path, None).await;
    assert_eq!(status, 200, "{page}");
    page
}

/// Checks an item's signature with the `standardwebhooks` library, as a pushed request's.
fn verify(secret: &str, item: &Value) {
    let headers = item["headers"].as_object().expect("headers");
    let req = Received {
        headers: headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
        body: item["body"].as_str().expect("body").as_bytes().to_vec(),
        replied: 0,
        at: std::time::SystemTime::now(),
    };
    let (ok, out) = python_on_request("verify_standard.py", &[secret], &req);
    assert!(ok, "standardwebhooks rejected a polled item: {out}");
}

/// Polls the nodes in turn, two items at a time, until `n` items came; answers them and the
/// last cursor.
async fn drain(
    nodes: &[Herald],
    app: &str,
    ep: &str,
    cursor: &str,
    n: usize,
) -> (Vec<Value>, String) {
    let (mut items, mut cursor) = (Vec::new(), cursor.to_owned());
    for turn in 0..200 {
        if items.len() >= n {
            break;
        }
        let node = &nodes[turn % nodes.len()];
        let page = poll(node, app, ep, &format!("cursor={cursor}&limit=2&wait_s=1")).await;
        items.extend(page["data"].as_array().cloned().unwrap_or_default());
        cursor = page["next_cursor"]
            .as_str()
            .expect("next_cursor")
            .to_owned();
    }
    (items, cursor)
}

#[tokio::test]
async fn a_polling_endpoint_serves_each_event_once_in_order_from_any_node() {
    let dir = TempDir::new("polling");
    let mut nodes = start(&dir);
    let app = nodes[0].create_app("standard").await;
    let body = json!({"kind": "polling", "filter": {"labels": {"room_id": "r1"}}});
    let path = format!("/v1/apps/{app}/endpoints");
    let (status, _, ep) = nodes[0].call("POST", &path, Some(body)).await;
    assert_eq!(status, 201, "{ep}");
    let (id, secret) = (
        ep["id"].as_str().expect("id"),
        ep["secret"].as_str().expect("secret"),
    );
    for i in 0..12 {
        let room = if i % 2 == 0 { "r1" } else { "r2" };
        publish(&nodes[i % nodes.len()], &app, room, i).await;
    }
    let (items, cursor) = drain(&nodes, &app, id, "0", 6).await;
    let sequences: Vec<i64> = items
        .iter()
        .filter_map(|i| i["sequence"].as_i64())
        .collect();
    assert_eq!(sequences, (1..=6).collect::<Vec<_>>(), "{items:?}");
    let ids: HashSet<&str> = items
        .iter()
        .filter_map(|i| i["delivery_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 6, "an item came twice: {items:?}");
    for item in &items {
        verify(secret, item);
        let body: Value = serde_json::from_str(item["body"].as_str().unwrap_or("")).expect("json");
        assert_eq!(body["sequence"], item["sequence"], "{item}");
    }
    let last = nodes.len() - 1;
    let empty = poll(&nodes[last], &app, id, &format!("cursor={cursor}")).await;
    assert_eq!(empty["data"], json!([]), "{empty}");

    // A long poll waiting on one node is answered by a publish on another.
    let waiting = {
        let (base, client, app, id, cursor) = (
            nodes[last].base.clone(),
            nodes[last].client.clone(),
            app.clone(),
            id.to_owned(),
            cursor.clone(),
        );
        tokio::spawn(async move {
            let url = format!("{base}/v1/apps/{app}/endpoints/{id}/poll?cursor={cursor}&wait_s=20");
            let resp = client
                .get(url)
                .bearer_auth(crate::harness::ADMIN)
                .send()
                .await;
            resp.expect("poll").json::<Value>().await.expect("page")
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    publish(&nodes[0], &app, "r1", 100).await;
    let page = waiting.await.expect("long poll");
    assert_eq!(page["data"][0]["sequence"], 7, "{page}");
    let cursor = page["next_cursor"]
        .as_str()
        .expect("next_cursor")
        .to_owned();

    // The cursor from before a restart continues where it stopped.
    for node in &mut nodes {
        node.kill();
    }
    let nodes = start(&dir);
    for i in 0..2 {
        publish(&nodes[0], &app, "r1", 200 + i).await;
    }
    let (items, cursor) = drain(&nodes, &app, id, &cursor, 2).await;
    let sequences: Vec<i64> = items
        .iter()
        .filter_map(|i| i["sequence"].as_i64())
        .collect();
    assert_eq!(sequences, [8, 9], "{items:?}");
    poll(&nodes[0], &app, id, &format!("cursor={cursor}")).await;
    let (_, _, room) = nodes[0]
        .call("GET", &format!("/v1/apps/{app}/rooms/r1"), None)
        .await;
    let line = &room["endpoints"][0];
    assert_eq!(
        (&line["delivered"], &line["complete"]),
        (&json!(9), &json!(true)),
        "{room}"
    );
}

#[tokio::test]
async fn polling_refuses_what_does_not_apply() {
    let dir = TempDir::new("polling-bad");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let path = format!("/v1/apps/{app}/endpoints");
    let with_url = json!({"kind": "polling", "url": "http://127.0.0.1:9/x"});
    let (status, _, problem) = herald.call("POST", &path, Some(with_url)).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem.to_string().contains("url"), "{problem}");
    let (push, _) = herald
        .create_endpoint(&app, json!({"url": "http://127.0.0.1:9/x"}))
        .await;
    let (status, _, problem) = herald
        .call("GET", &format!("{path}/{push}/poll"), None)
        .await;
    assert_eq!(status, 409, "{problem}");
    let (status, _, ep) = herald
        .call("POST", &path, Some(json!({"kind": "polling"})))
        .await;
    assert_eq!(status, 201, "{ep}");
    let id = ep["id"].as_str().expect("id");
    for (query, field) in [
        ("cursor=abc", "cursor"),
        ("wait_s=31", "wait_s"),
        ("limit=0", "limit"),
    ] {
        let (status, _, problem) = herald
            .call("GET", &format!("{path}/{id}/poll?{query}"), None)
            .await;
        assert!(matches!(status, 400 | 422), "{query}: {status} {problem}");
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }
    let patch = json!({"kind": "push"});
    let (status, _, problem) = herald
        .call("PATCH", &format!("{path}/{id}"), Some(patch))
        .await;
    assert_eq!(status, 422, "{problem}");
    publish(&herald, &app, "r1", 1).await;
    // An item whose time to live ended before anyone polled is not served.
    let stale =
        json!({"type": "track.published", "data": {}, "labels": {"room_id": "r1"}, "ttl_s": 1});
    let (status, ack) = herald.publish(&app, stale).await;
    assert_eq!(status, 202, "{ack}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let page = poll(&herald, &app, id, "").await;
    let types: Vec<&str> = page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["type"].as_str())
        .collect();
    assert_eq!(types, ["participant.joined"], "{page}");
    let expired = format!("/v1/apps/{app}/deliveries?status=expired&endpoint={id}");
    let (_, _, expired) = herald.call("GET", &expired, None).await;
    assert_eq!(
        expired["data"].as_array().map(Vec::len),
        Some(1),
        "{expired}"
    );
    let dlv = page["data"][0]["delivery_id"].as_str().expect("an item");
    let (status, _, problem) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/deliveries/{dlv}/resend"),
            None,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let recover = json!({"since": "2020-01-01T00:00:00Z"});
    let (status, _, problem) = herald
        .call("POST", &format!("{path}/{id}/recover"), Some(recover))
        .await;
    assert_eq!(status, 409, "{problem}");
}
