//! Room semantics: per-room ordering, room-scoped endpoints, LiveKit ingest, endpoints
//! declared in the configuration file.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{python_on_request, Herald, TempDir};
use crate::receiver::{Received, Receiver, Reply};

/// Publishes `rooms` x `per_room` events interleaved (one batch, in publish order) and waits
/// until every delivery succeeded; answers how long that took.
async fn run_rooms(herald: &Herald, app: &str, rooms: usize, per_room: usize) -> Duration {
    let mut events = Vec::new();
    for seq in 0..per_room {
        for room in 0..rooms {
            events.push(json!({"type": "participant.joined", "data": {"seq": seq, "room": room}, "labels": {"room_id": format!("room-{room}")}}));
        }
    }
    let started = Instant::now();
    let (s, _, ack) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/events/batch"),
            Some(json!({"events": events})),
        )
        .await;
    assert_eq!(s, 202, "{ack}");
    let total = rooms * per_room;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, _, page) = herald
            .call(
                "GET",
                &format!("/v1/apps/{app}/deliveries?status=succeeded&limit=250"),
                None,
            )
            .await;
        let (_, _, pending) = herald
            .call(
                "GET",
                &format!("/v1/apps/{app}/deliveries?status=pending&limit=1"),
                None,
            )
            .await;
        let done =
            page["data"].as_array().map(Vec::len).unwrap_or(0) > 0 && pending["data"] == json!([]);
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{total} deliveries did not all succeed in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

/// Per room, the sequence numbers of the first successful receipt of each event.
pub fn first_successes(got: &[Received]) -> HashMap<u64, Vec<u64>> {
    let mut seen: HashMap<u64, Vec<u64>> = HashMap::new();
    for r in got.iter().filter(|r| r.replied == 200) {
        let body = r.json();
        let (room, seq) = (
            body["data"]["room"].as_u64().unwrap_or(999),
            body["data"]["seq"].as_u64().unwrap_or(999),
        );
        let line = seen.entry(room).or_default();
        if !line.contains(&seq) {
            line.push(seq);
        }
    }
    seen
}

#[tokio::test]
async fn per_room_ordering_holds_under_random_failures_and_rooms_run_in_parallel() {
    let dir = TempDir::new("ordering");
    let herald = Herald::start(&dir.0);
    let endpoint = |url: &str| json!({"url": url, "ordering": "per_room", "retry_schedule_s": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]});

    let alone = Receiver::start().await;
    alone.set_default(Reply::Flaky(20));
    let app1 = herald.create_app("standard").await;
    herald.create_endpoint(&app1, endpoint(&alone.url)).await;
    let one_room = run_rooms(&herald, &app1, 1, 50).await;

    let rx = Receiver::start().await;
    // A short wait per answer, so that requests of different rooms visibly overlap.
    rx.set_default(Reply::SlowFlaky(Duration::from_millis(10), 20));
    let app = herald.create_app("standard").await;
    herald.create_endpoint(&app, endpoint(&rx.url)).await;
    let twenty_rooms = run_rooms(&herald, &app, 20, 50).await;

    let seen = first_successes(&rx.got());
    assert_eq!(seen.len(), 20);
    for (room, seqs) in &seen {
        assert_eq!(
            *seqs,
            (0..50).collect::<Vec<u64>>(),
            "room {room} received out of order"
        );
    }
    assert!(
        rx.got().iter().any(|r| r.replied == 500),
        "the receiver never failed: the test proves nothing"
    );
    // Rooms proceed in parallel: the receiver was answering requests of several rooms at
    // once, while the lone room never had two in flight.
    eprintln!("one room: {one_room:?}; twenty rooms: {twenty_rooms:?}");
    assert_eq!(
        alone.most_in_flight(),
        1,
        "one room had two requests in flight"
    );
    assert!(
        rx.most_in_flight() > 1,
        "the twenty rooms never had two requests in flight at once"
    );
}

#[tokio::test]
async fn label_filters_scope_endpoints_to_a_room_or_a_bot_and_expired_endpoints_get_nothing() {
    let dir = TempDir::new("scoped");
    let herald = Herald::start(&dir.0);
    let (room, bot, gone) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(
            &app,
            json!({"url": room.url, "filter": {"labels": {"room_id": "r1"}}}),
        )
        .await;
    herald
        .create_endpoint(
            &app,
            json!({"url": bot.url, "filter": {"labels": {"bot_id": "b7"}}}),
        )
        .await;
    herald
        .create_endpoint(
            &app,
            json!({"url": gone.url, "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    for labels in [
        json!({"room_id": "r1"}),
        json!({"room_id": "r2"}),
        json!({"room_id": "r1", "bot_id": "b7"}),
        json!({"bot_id": "b8"}),
    ] {
        herald
            .publish(
                &app,
                json!({"type": "bot.joined", "data": {}, "labels": labels}),
            )
            .await;
    }
    room.wait_count(2, Duration::from_secs(10)).await;
    bot.wait_count(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((room.count(), bot.count(), gone.count()), (2, 1, 0));
}

#[tokio::test]
async fn livekit_ingest_accepts_a_signed_webhook_and_refuses_a_forged_one() {
    let dir = TempDir::new("ingest");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let (s, _, app) = herald
        .call("POST", "/v1/apps", Some(json!({"name": "media", "preset": "livekit",
            "ingest": {"livekit": {"api_key": "APIingest", "api_secret": "ingest-secret-0123456789abcdef"}}})))
        .await;
    assert_eq!(s, 201, "{app}");
    assert_eq!(app["ingest"]["livekit"]["api_key"], "APIingest");
    assert!(
        app["ingest"]["livekit"].get("api_secret").is_none(),
        "the ingest secret is shown"
    );
    let app = app["id"].as_str().expect("id").to_owned();
    herald
        .create_endpoint(
            &app,
            json!({"url": rx.url, "format": "standard", "filter": {"labels": {"room_id": "r1"}}}),
        )
        .await;

    let body = json!({"event": "participant_joined", "room": {"name": "r1", "sid": "RM_1"},
        "participant": {"identity": "alice", "sid": "PA_1"}, "id": "EV_1", "createdAt": "1795341600"}).to_string();
    let signed_by = |secret: &str| {
        let req = Received {
            headers: vec![],
            body: body.clone().into_bytes(),
            replied: 0,
            at: std::time::SystemTime::now(),
        };
        let (ok, out) = python_on_request("livekit_tool.py", &["sign", "APIingest", secret], &req);
        assert!(ok, "{out}");
        out.lines()
            .find(|l| l.starts_with("eyJ"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let post = |token: String| {
        let req = herald
            .client
            .post(format!("{}/v1/apps/{app}/ingest/livekit", herald.base))
            .header("authorization", token)
            .body(body.clone());
        async move { req.send().await.expect("send").status().as_u16() }
    };
    assert_eq!(post(signed_by("forged-secret-0000000000000000")).await, 401);
    let (_, _, events) = herald
        .call("GET", &format!("/v1/apps/{app}/events"), None)
        .await;
    assert_eq!(
        events["data"],
        json!([]),
        "a forged webhook stored an event"
    );

    assert_eq!(post(signed_by("ingest-secret-0123456789abcdef")).await, 200);
    let got = rx.wait_count(1, Duration::from_secs(10)).await;
    let delivered = got[0].json();
    assert_eq!(delivered["type"], "participant_joined");
    assert_eq!(delivered["data"]["participant"]["identity"], "alice");
    let (_, _, events) = herald
        .call("GET", &format!("/v1/apps/{app}/events"), None)
        .await;
    let e = &events["data"][0];
    assert_eq!(
        (
            e["labels"]["room_id"].clone(),
            e["labels"]["participant_id"].clone()
        ),
        (json!("r1"), json!("alice"))
    );
    assert_eq!(e["idempotency_key"], "EV_1");
    // The media server retrying the same webhook publishes it once.
    assert_eq!(post(signed_by("ingest-secret-0123456789abcdef")).await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.count(), 1);
}

#[tokio::test]
async fn static_endpoints_from_the_config_file_are_created_then_updated() {
    let dir = TempDir::new("static");
    let rx = Receiver::start().await;
    let config = |url: &str| {
        format!(
        "[[static_endpoints]]\napp = \"plugNmeet server\"\npreset = \"plugnmeet\"\nname = \"server webhook\"\nurl = \"{url}\"\nformat = \"plugnmeet\"\nevents = [\"*\"]\napi_key = \"plugnmeet\"\nsecret = \"a-long-shared-api-secret-value\"\ncontent_type = \"application/json\"\n"
    )
    };
    let path = dir.0.join("herald.toml");
    std::fs::write(&path, config("http://127.0.0.1:9/old")).expect("write config");
    let env = [("HERALD_CONFIG", path.to_str().unwrap_or_default())];
    let first_id = {
        let herald = Herald::start_with(&dir.0, &env);
        let (_, _, apps) = herald.call("GET", "/v1/apps", None).await;
        let app = apps["data"][0]["id"].as_str().expect("app").to_owned();
        let (_, _, eps) = herald
            .call("GET", &format!("/v1/apps/{app}/endpoints"), None)
            .await;
        assert_eq!(eps["data"][0]["url"], "http://127.0.0.1:9/old");
        eps["data"][0]["id"].clone()
    };
    std::fs::write(&path, config(&rx.url)).expect("write config");
    let herald = Herald::start_with(&dir.0, &env);
    let (_, _, apps) = herald.call("GET", "/v1/apps", None).await;
    assert_eq!(
        apps["data"].as_array().map(Vec::len),
        Some(1),
        "a restart duplicated the app"
    );
    let app = apps["data"][0]["id"].as_str().expect("app").to_owned();
    let (_, _, eps) = herald
        .call("GET", &format!("/v1/apps/{app}/endpoints"), None)
        .await;
    assert_eq!(
        eps["data"].as_array().map(Vec::len),
        Some(1),
        "a restart duplicated the endpoint"
    );
    assert_eq!(
        (eps["data"][0]["id"].clone(), eps["data"][0]["url"].clone()),
        (first_id, json!(rx.url))
    );
    herald.publish(&app, json!({"type": "room_started", "data": {"room": {"sid": "RM_1"}}, "labels": {"room_id": "r1"}})).await;
    let got = rx.wait_count(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    let _: Value = got[0].json();
}
