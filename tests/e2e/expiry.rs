//! Expiring events: a delivery not succeeded within its time to live ends `expired`, is not
//! retried after it, does not hold its room, and is counted in the ledger and in `/metrics`;
//! on either backend.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

async fn publish(herald: &Herald, app: &str, body: Value) -> String {
    let (status, ack) = herald.publish(app, body).await;
    assert_eq!(status, 202, "{ack}");
    ack["id"].as_str().expect("id").to_owned()
}

async fn metrics(herald: &Herald) -> String {
    let resp = herald.client.get(format!("{}/metrics", herald.base)).send();
    resp.await.expect("metrics").text().await.expect("text")
}

#[tokio::test]
async fn deliveries_past_their_ttl_expire_without_retries_and_free_their_room() {
    let dir = TempDir::new("expiry");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.set_default(Reply::Status(503));
    let app = herald.create_app("standard").await;
    let endpoint = json!({"url": rx.url, "ordering": "per_room", "retry_schedule_s": vec![1; 20]});
    let (ep, _) = herald.create_endpoint(&app, endpoint).await;
    let down_until = std::time::Instant::now() + Duration::from_secs(5);
    for i in 0..3 {
        let labels = json!({"room_id": "r1"});
        let event =
            json!({"type": "participant.joined", "data": {"i": i}, "labels": labels, "ttl_s": 2});
        publish(&herald, &app, event).await;
    }
    let path = format!("/v1/apps/{app}/deliveries?status=expired&label.room_id=r1");
    let expired = herald
        .wait_for(&path, Duration::from_secs(30), |v| {
            v["data"].as_array().is_some_and(|d| d.len() == 3)
        })
        .await;
    let sent_while_down = rx.count();
    tokio::time::sleep_until(down_until.into()).await;
    rx.set_default(Reply::Status(200));

    // A later event of the same ordered room is delivered: the expired ones do not hold it.
    let labels = json!({"room_id": "r1"});
    let later = json!({"type": "session.ended", "data": {}, "labels": labels});
    let later_id = publish(&herald, &app, later).await;
    let got = rx
        .wait_count(sent_while_down + 1, Duration::from_secs(20))
        .await;
    let last = got.last().expect("a request").json();
    assert_eq!(last["type"], "session.ended", "{last}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        rx.count(),
        sent_while_down + 1,
        "an expired delivery was sent again"
    );

    for d in expired["data"].as_array().expect("data") {
        let expires_at = time(&d["expires_at"]);
        assert!(
            expires_at - time(&d["created_at"]) <= chrono::Duration::seconds(2),
            "{d}"
        );
        let id = d["id"].as_str().expect("id");
        let (_, _, detail) = herald
            .call("GET", &format!("/v1/apps/{app}/deliveries/{id}"), None)
            .await;
        assert_eq!(detail["status"], "expired", "{detail}");
        for a in detail["attempts"].as_array().expect("attempts") {
            assert!(
                time(&a["started_at"]) < expires_at,
                "an attempt after expiry: {detail}"
            );
        }
    }
    let (_, _, room) = herald
        .call("GET", &format!("/v1/apps/{app}/rooms/r1"), None)
        .await;
    let line = &room["endpoints"][0];
    assert_eq!(
        (line["endpoint"].as_str(), &line["expired"]),
        (Some(ep.as_str()), &json!(3)),
        "{room}"
    );
    let path = format!("/v1/apps/{app}/deliveries?label.room_id=r1&status=succeeded");
    let ok = herald
        .wait_for(&path, Duration::from_secs(10), |v| {
            v["data"][0]["event_id"] == later_id
        })
        .await;
    assert_eq!(ok["data"][0]["expires_at"], Value::Null, "{ok}");
    let text = metrics(&herald).await;
    assert!(
        text.contains("herald_deliveries_total{outcome=\"expired\"} 3"),
        "{text}"
    );
}

#[tokio::test]
async fn the_catalog_the_endpoint_and_the_publish_set_the_ttl() {
    let dir = TempDir::new("expiry-ttl");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    let (_, _, catalog) = herald
        .call("GET", &format!("/v1/apps/{app}/event-types"), None)
        .await;
    let ttl = |name: &str| {
        let all = catalog["data"].as_array().expect("data");
        all.iter()
            .find(|t| t["name"] == name)
            .map(|t| t["ttl_s"].clone())
    };
    assert_eq!(ttl("track.published"), Some(json!(300)), "{catalog}");
    assert_eq!(ttl("session.started"), Some(Value::Null), "{catalog}");
    assert_eq!(ttl("recording.started"), Some(Value::Null), "{catalog}");
    let custom = json!({"name": "caption.line", "ttl_s": 30});
    let path = format!("/v1/apps/{app}/event-types");
    let (status, _, body) = herald.call("POST", &path, Some(custom)).await;
    assert_eq!((status, &body["ttl_s"]), (201, &json!(30)), "{body}");

    let (plain, _) = herald.create_endpoint(&app, json!({"url": rx.url})).await;
    let (short, _) = herald
        .create_endpoint(&app, json!({"url": rx.url, "ttl_s": 7}))
        .await;
    let cases = [
        (
            json!({"type": "track.published", "data": {}}),
            Some(300),
            Some(7),
        ),
        (
            json!({"type": "caption.line", "data": {}}),
            Some(30),
            Some(7),
        ),
        (
            json!({"type": "session.started", "data": {}}),
            None,
            Some(7),
        ),
        (
            json!({"type": "session.started", "data": {}, "ttl_s": 60}),
            Some(60),
            Some(7),
        ),
    ];
    for (event, want_plain, want_short) in cases {
        let id = publish(&herald, &app, event.clone()).await;
        let path = format!("/v1/apps/{app}/deliveries?event={id}");
        let list = herald
            .wait_for(&path, Duration::from_secs(10), |v| {
                v["data"].as_array().is_some_and(|d| d.len() == 2)
            })
            .await;
        for (ep, want) in [(&plain, want_plain), (&short, want_short)] {
            let d = list["data"]
                .as_array()
                .and_then(|all| all.iter().find(|d| d["endpoint_id"] == ep.as_str()));
            let d = d.unwrap_or_else(|| panic!("no delivery to {ep}: {list}"));
            let got = match &d["expires_at"] {
                Value::Null => None,
                at => Some((time(at) - time(&d["created_at"])).num_seconds()),
            };
            assert_eq!(got, want.map(i64::from), "{event} to {ep}: {d}");
        }
    }
    let bad = [
        json!({"type": "session.started", "data": {}, "ttl_s": 0}),
        json!({"type": "session.started", "data": {}, "ttl_s": "soon"}),
    ];
    for body in bad {
        let (status, problem) = herald.publish(&app, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {problem}");
        assert!(problem.to_string().contains("ttl_s"), "{problem}");
    }
}
