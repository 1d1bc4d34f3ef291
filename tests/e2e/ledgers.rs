//! Room and bot ledgers: per endpoint, what became of a room's deliveries, and `complete`
//! once nothing is pending, on either backend.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

/// The endpoint's line of a ledger.
fn line<'a>(ledger: &'a Value, endpoint: &str) -> &'a Value {
    ledger["endpoints"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["endpoint"] == endpoint))
        .unwrap_or(&Value::Null)
}

/// Room r1's ledger, once `done` holds of it (within a minute).
async fn until(herald: &Herald, app: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s, _, room) = herald
            .call("GET", &format!("/v1/apps/{app}/rooms/r1"), None)
            .await;
        assert_eq!(s, 200, "{room}");
        if done(&room) {
            return room;
        }
        assert!(Instant::now() < deadline, "never so: {room}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_room_ledger_is_complete_only_once_a_failing_endpoint_recovers() {
    let dir = TempDir::new("ledgers");
    let herald = Herald::start(&dir.0);
    let (good, bad) = (Receiver::start().await, Receiver::start().await);
    bad.set_default(Reply::Status(503));
    let app = herald.create_app("standard").await;
    let (ok_ep, _) = herald.create_endpoint(&app, json!({"url": good.url})).await;
    let (bad_ep, _) = herald
        .create_endpoint(
            &app,
            json!({"url": bad.url, "retry_schedule_s": vec![1; 30]}),
        )
        .await;
    for i in 0..5 {
        let labels = json!({"room_id": "r1", "bot_id": "b1"});
        let (s, ack) = herald
            .publish(
                &app,
                json!({"type": "participant.joined", "data": {"i": i}, "labels": labels}),
            )
            .await;
        assert_eq!(s, 202, "{ack}");
    }
    good.wait_count(5, Duration::from_secs(20)).await;
    bad.wait_count(5, Duration::from_secs(20)).await;

    // A receipt comes before its outcome is written: wait for the healthy endpoint's line.
    let room = until(&herald, &app, |room| line(room, &ok_ep)["delivered"] == 5).await;
    assert_eq!(
        (&room["room"], &room["events"], &room["last_sequence"]),
        (&json!("r1"), &json!(5), &json!(5))
    );
    assert_eq!(room["complete"], false, "{room}");
    assert_eq!(room["first_event"]["sequence"], 1, "{room}");
    assert_eq!(room["last_event"]["sequence"], 5, "{room}");
    assert_eq!(
        (
            &line(&room, &ok_ep)["delivered"],
            &line(&room, &ok_ep)["complete"]
        ),
        (&json!(5), &json!(true)),
        "{room}"
    );
    assert_eq!(
        (
            &line(&room, &bad_ep)["pending"],
            &line(&room, &bad_ep)["complete"]
        ),
        (&json!(5), &json!(false)),
        "{room}"
    );

    let (s, _, bot) = herald
        .call("GET", &format!("/v1/apps/{app}/bots/b1"), None)
        .await;
    assert_eq!(
        (s, &bot["bot"], &bot["events"]),
        (200, &json!("b1"), &json!(5)),
        "{bot}"
    );
    assert_eq!(bot["complete"], false, "{bot}");

    // The endpoint recovers; its retries land and the room is complete.
    bad.set_default(Reply::Status(200));
    let room = until(&herald, &app, |room| room["complete"] == true).await;
    assert_eq!(line(&room, &bad_ep)["delivered"], 5, "{room}");
    let (_, _, rooms) = herald
        .call("GET", &format!("/v1/apps/{app}/rooms"), None)
        .await;
    assert_eq!(rooms["data"][0]["room"], "r1", "{rooms}");
    assert_eq!(rooms["data"][0]["complete"], true, "{rooms}");

    for path in [
        format!("/v1/apps/{app}/rooms/nowhere"),
        format!("/v1/apps/{app}/bots/nobody"),
    ] {
        let (s, ct, body) = herald.call("GET", &path, None).await;
        assert_eq!(
            (s, ct.as_str()),
            (404, "application/problem+json"),
            "{path}: {body}"
        );
    }
    let (s, _, body) = herald
        .call("GET", &format!("/v1/apps/{app}/rooms?limit=0"), None)
        .await;
    assert_eq!(s, 422, "{body}");
}
