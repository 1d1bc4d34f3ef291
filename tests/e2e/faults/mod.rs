//! A randomized fault schedule, in the spirit of a nemesis: nodes killed and restarted,
//! paused past their lease, the database restarted, receivers failing and hanging, all
//! under a steady load of ordered and unordered events over 50 rooms to three endpoints;
//! then a checker holds what the receivers saw against what Herald says (see `check`).
//!
//! Three nodes on PostgreSQL; one on SQLite, with kills and receiver faults. The seed comes
//! from `HERALD_FAULTS_SEED` (else the clock) and the length from `HERALD_FAULTS_SECONDS`
//! (60 by default); a failing run prints its seed, and `scripts/faults SECONDS SEED`
//! replays it. These run alone (see `.config/nextest.toml`): they restart the database.

mod check;
mod load;
mod nodes;
mod schedule;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::db::on_postgres;
use crate::harness::Herald;
use crate::receiver::Receiver;
use nodes::{Nodes, LEASE_S};
use schedule::{census, schedule, Shape};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_lose_nothing_and_the_log_never_lies() {
    let seed = knob("HERALD_FAULTS_SEED", rand_seed());
    let seconds = knob("HERALD_FAULTS_SECONDS", 60);
    let shared = on_postgres();
    let shape = Shape {
        seconds,
        nodes: if shared { 3 } else { 1 },
        receivers: 3,
        shared,
        lease: Duration::from_secs(LEASE_S),
    };
    let plan = schedule(seed, &shape);
    eprintln!(
        "fault schedule: seed {seed}, {seconds} s, {}",
        census(&plan)
    );

    let nodes = Nodes::start("faults", shape.nodes);
    let receivers = Arc::new(vec![
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    ]);
    let first = nodes.lend();
    let app = setup(&first, &receivers).await;
    nodes.give_back(first);
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(load::publish(
        Arc::clone(&nodes),
        app.clone(),
        seed,
        2,
        Arc::clone(&stop),
    ));
    let nemesis = nodes::nemesis(plan, Arc::clone(&nodes), Arc::clone(&receivers));
    tokio::join!(nemesis, tokio::time::sleep(Duration::from_secs(seconds)));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let published = load.await.expect("the load");
    nodes.heal();

    let first = nodes.lend();
    let (deliveries, rooms) = settled(&first, &app, nodes.db()).await;
    nodes.give_back(first);
    let kills = nodes.kills.lock().expect("lock").clone();
    let report = check::check(published, &receivers, &deliveries, &rooms, &kills);
    eprintln!("seed {seed}: {}", report.summary());
    assert!(
        report.clean(),
        "seed {seed} (replay: scripts/faults {seconds} {seed}): {report:#?}"
    );
    assert!(report.acknowledged > 0, "nothing was acknowledged");
}

/// The rows of the room of `stuck` (a delivery) that have not succeeded, and the nodes
/// table: what holds the room, read past the API.
fn stuck_room(db: &crate::harness::TestDb, stuck: &Value) -> String {
    let id = stuck["id"].as_str().unwrap_or_default().replace('\'', "");
    let row = "d.id || ' seq ' || d.seq || ' ' || d.status || ' owner ' || \
               coalesce(d.lease_owner, '-') || ' epoch ' || d.lease_epoch || ' due ' || \
               d.due_at || ' attempts ' || d.attempt_count";
    let (agg, nodes, nl) = if on_postgres() {
        (
            format!("string_agg({row}, chr(10) ORDER BY d.seq)"),
            "(SELECT string_agg(owner || ' alive until ' || alive_until, ', ') FROM nodes)",
            "chr(10)",
        )
    } else {
        (format!("group_concat({row}, char(10))"), "''", "char(10)")
    };
    let endpoint = "(SELECT coalesce(e.health, '-') || ' paused until ' || \
                    coalesce(e.paused_until, 0) FROM endpoints e WHERE e.id = s.endpoint_id)";
    db.scalar(&format!(
        "SELECT {agg} || {nl} || 'nodes: ' || coalesce({nodes}, '') || {nl} || \
         'endpoint: ' || max({endpoint}) FROM deliveries d \
         JOIN deliveries s ON s.id = '{id}' AND d.endpoint_id = s.endpoint_id \
         AND d.ordering_key IS NOT DISTINCT FROM s.ordering_key WHERE d.status <> 'succeeded'"
    ))
}

fn rand_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(1, |d| d.as_nanos() as u64)
}

/// The app and its three endpoints: ordered per room, unordered, and unordered taking one
/// type. Hangs time out after 2 s; retries go on for minutes, so nothing fails for good.
async fn setup(node: &Herald, receivers: &[Receiver]) -> String {
    let app = node.create_app("standard").await;
    let retries: Vec<u32> = [1, 1, 2, 2, 3].into_iter().chain([5; 40]).collect();
    let base = json!({"timeout_ms": 2000, "retry_schedule_s": retries});
    let extra = [
        json!({"ordering": "per_room"}),
        json!({}),
        json!({"events": [load::FILTERED]}),
    ];
    for (rx, extra) in receivers.iter().zip(extra) {
        let mut body = base.clone();
        body["url"] = json!(rx.url);
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        node.create_endpoint(&app, body).await;
    }
    app
}

/// Waits until nothing is pending (3 minutes at most), and a little more for outcomes of
/// requests resumed after a pause; answers every delivery with its attempts, and every
/// room's events.
async fn settled(
    node: &Herald,
    app: &str,
    db: &crate::harness::TestDb,
) -> (Vec<Value>, HashMap<u64, Vec<Value>>) {
    let deadline = Instant::now() + Duration::from_secs(180);
    let pending = format!("/v1/apps/{app}/deliveries?status=pending&limit=5");
    loop {
        let (_, _, page) = node.call("GET", &pending, None).await;
        if page["data"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        if Instant::now() >= deadline {
            let stuck = &page["data"][0];
            panic!(
                "still pending after 3 minutes: {page}\nits room in the store:\n{}",
                stuck_room(db, stuck)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let listed = node.list_all(&format!("/v1/apps/{app}/deliveries")).await;
    let mut deliveries = Vec::with_capacity(listed.len());
    for chunk in listed.chunks(16) {
        let mut calls = tokio::task::JoinSet::new();
        for d in chunk {
            let url = format!(
                "{}/v1/apps/{app}/deliveries/{}",
                node.base,
                d["id"].as_str().unwrap_or_default()
            );
            let req = node.client.get(url).bearer_auth(crate::harness::ADMIN);
            calls.spawn(async move { req.send().await.ok()?.json::<Value>().await.ok() });
        }
        while let Some(one) = calls.join_next().await {
            deliveries.push(one.ok().flatten().expect("a delivery"));
        }
    }
    let mut rooms = HashMap::new();
    for room in 0..load::ROOMS {
        rooms.insert(
            room,
            crate::sequences::catch_up(node, app, &format!("r{room}"), 0).await,
        );
    }
    (deliveries, rooms)
}
