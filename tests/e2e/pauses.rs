//! A node paused past its lease (SIGSTOP: as a long stall, a VM not scheduled, a partition
//! from the database would) resumes without resending what was taken over, and without
//! writing over what the node that took it over did. On PostgreSQL with three nodes, the
//! only requests sent twice are the ones the paused node had in flight when it stopped; on
//! SQLite, where nobody else can take the work, nothing is sent twice.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::db::{needs_postgres, on_postgres};
use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

const LEASE_S: u64 = 3;
/// Deliveries the paused node holds in memory when it stops.
const EVENTS: usize = 200;
/// The paused node's requests in flight when it stops: the endpoint's `max_in_flight`.
const IN_FLIGHT: usize = 4;

fn node(dir: &TempDir, role: &str) -> Herald {
    let lease = LEASE_S.to_string();
    Herald::start_with(&dir.0, &[("HERALD_ROLE", role), ("HERALD_LEASE_S", &lease)])
}

/// Publishes through `node`, whose memory takes every delivery, and stops it while its
/// first requests are in flight (the receiver holds them 2 s); answers the app.
async fn publish_and_pause(node: &Herald, rx: &Receiver) -> String {
    rx.script(vec![Reply::Slow(Duration::from_secs(2), 200); IN_FLIGHT]);
    let app = node.create_app("standard").await;
    let endpoint = json!({"url": rx.url, "max_in_flight": IN_FLIGHT, "retry_schedule_s": [1]});
    node.create_endpoint(&app, endpoint).await;
    for n in 0..EVENTS {
        let event = json!({"type": "participant.joined", "data": {"n": n}});
        let (status, ack) = node.publish(&app, event).await;
        assert_eq!(status, 202, "{ack}");
    }
    rx.wait_count(IN_FLIGHT, Duration::from_secs(20)).await;
    node.signal("STOP");
    app
}

/// Waits until every delivery of the app succeeded (as `reader` lists them) and the log
/// holds an attempt for every request the receiver saw; answers the deliveries with their
/// attempts.
async fn settled(reader: &Herald, app: &str, rx: &Receiver) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = reader
            .list_all(&format!("/v1/apps/{app}/deliveries?status=succeeded"))
            .await;
        if done.len() == EVENTS {
            let mut detailed = Vec::new();
            for d in &done {
                let id = d["id"].as_str().expect("id");
                let path = format!("/v1/apps/{app}/deliveries/{id}");
                detailed.push(reader.call("GET", &path, None).await.2);
            }
            let logged: usize = detailed
                .iter()
                .map(|d| d["attempts"].as_array().map_or(0, Vec::len))
                .sum();
            if logged >= rx.count() || Instant::now() > deadline {
                return detailed;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} of {EVENTS} succeeded",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The delivery log and the receiver agree: one attempt row per request, and the rows
/// from a lapsed lease are as many as the node counted. Answers how many there are.
fn check_log(deliveries: &[Value], rx: &Receiver) -> usize {
    let seen = rx.per_delivery();
    let mut lapsed = 0;
    for d in deliveries {
        let id = d["id"].as_str().expect("id");
        let attempts = d["attempts"].as_array().expect("attempts");
        assert_eq!(
            attempts.len(),
            seen.get(id).copied().unwrap_or(0),
            "the log and the receiver disagree on {id}: {d}"
        );
        lapsed += attempts
            .iter()
            .filter(|a| a["lapsed_lease"] == true)
            .count();
    }
    assert_eq!(seen.len(), EVENTS, "requests for unknown deliveries");
    lapsed
}

#[tokio::test]
async fn a_node_paused_past_its_lease_resends_nothing_taken_over() {
    if !needs_postgres() {
        return;
    }
    let dir = TempDir::new("pauses-pg");
    let paused = node(&dir, "all");
    let others = [node(&dir, "dispatcher"), node(&dir, "dispatcher")];
    let rx = Receiver::start().await;
    let app = publish_and_pause(&paused, &rx).await;
    // The others take its work over once its lease ends, and deliver all of it.
    tokio::time::sleep(Duration::from_secs(3 * LEASE_S)).await;
    paused.signal("CONT");
    let deliveries = settled(&paused, &app, &rx).await;
    let sent_twice: usize = rx.per_delivery().values().map(|n| n - 1).sum();
    assert!(
        sent_twice <= IN_FLIGHT,
        "{sent_twice} requests sent twice; only the {IN_FLIGHT} in flight at the pause may be"
    );
    let lapsed = check_log(&deliveries, &rx);
    let stale = paused.metric("herald_stale_outcomes_total").await;
    assert_eq!(lapsed as f64, stale, "lapsed attempts logged vs counted");
    let lost = paused.metric("herald_leases_lost_total").await;
    eprintln!("sent twice {sent_twice}, stale outcomes {stale}, leases lost {lost}");
    assert!(lost > 0.0, "the resumed node lost no lease");
    drop(others);
}

#[tokio::test]
async fn a_lone_node_paused_past_its_lease_sends_nothing_twice() {
    if on_postgres() {
        return;
    }
    let dir = TempDir::new("pauses-sqlite");
    let herald = node(&dir, "all");
    let rx = Receiver::start().await;
    let app = publish_and_pause(&herald, &rx).await;
    tokio::time::sleep(Duration::from_secs(2 * LEASE_S)).await;
    herald.signal("CONT");
    let deliveries = settled(&herald, &app, &rx).await;
    assert!(rx.per_delivery().values().all(|n| *n == 1));
    assert_eq!(check_log(&deliveries, &rx), 0);
    assert_eq!(herald.metric("herald_leases_lost_total").await, 0.0);
}
