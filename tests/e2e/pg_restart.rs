//! PostgreSQL restarted under load on two nodes: while the server is away, publishes answer
//! 503 (never 202) and `/readyz` says so; every node reconnects by itself when it is back;
//! every event answered 202 is delivered. Runs alone (see `.config/nextest.toml`), because
//! it stops the server every other test of the suite uses.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::db::needs_postgres;
use crate::harness::{Herald, TempDir};
use crate::receiver::Receiver;

/// Runs `pg_ctlcluster` on the machine's one cluster.
fn cluster(action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("a PostgreSQL cluster under /etc/postgresql");
    let ok = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .args(if action == "stop" {
            &["-m", "fast"][..]
        } else {
            &[][..]
        })
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "pg_ctlcluster {action}");
}

/// The server stopped for as long as this lives; started again when dropped, even when
/// the test fails, so the rest of the suite finds it up.
pub struct Stopped;

impl Stopped {
    pub fn now() -> Stopped {
        cluster("stop");
        Stopped
    }
}

impl Drop for Stopped {
    /// Starts the server again; should a start fail (a stop still finishing), tries again.
    fn drop(&mut self) {
        for _ in 0..5 {
            if std::panic::catch_unwind(|| cluster("start")).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        cluster("start");
    }
}

/// What one publish got: when it was sent, when it was answered, its status and number.
type Answers = Arc<Mutex<Vec<(Instant, Instant, u16, u64)>>>;

/// Publishes numbered events to node `i` of `nodes` (numbers `i`, `i + nodes`, ...) until
/// `stop` is set.
fn publisher(
    nodes: Arc<Vec<Herald>>,
    i: usize,
    app: String,
    answers: Answers,
    stop: Arc<Mutex<bool>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (node, mut n) = (&nodes[i], i as u64);
        while !*stop.lock().expect("lock") {
            let body = json!({"type": "room.created", "data": {"n": n}});
            let sent = Instant::now();
            let (status, _) = node.publish(&app, body).await;
            let answer = (sent, Instant::now(), status, n);
            answers.lock().expect("lock").push(answer);
            n += nodes.len() as u64;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

async fn ready(node: &Herald) -> u16 {
    node.call("GET", "/readyz", None).await.0
}

/// Waits until every node has answered a publish with 202 after `since`.
async fn all_publishing_since(answers: &Answers, nodes: usize, since: Instant) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let back = (0..nodes).all(|i| {
            answers
                .lock()
                .expect("lock")
                .iter()
                .any(|(_, t, s, n)| *t > since && *s == 202 && *n as usize % nodes == i)
        });
        if back {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a node did not reconnect by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn postgres_restarted_under_load_loses_no_202_and_nodes_reconnect() {
    if !needs_postgres() {
        return;
    }
    let dir = TempDir::new("pg-restart");
    let nodes = Arc::new(vec![Herald::start(&dir.0), Herald::start(&dir.0)]);
    let rx = Receiver::start().await;
    let app = nodes[0].create_app("standard").await;
    nodes[0].create_endpoint(&app, json!({"url": rx.url})).await;
    let (answers, stop) = (Answers::default(), Arc::new(Mutex::new(false)));
    let tasks: Vec<_> = (0..nodes.len())
        .map(|i| {
            publisher(
                Arc::clone(&nodes),
                i,
                app.clone(),
                Arc::clone(&answers),
                Arc::clone(&stop),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let down = Stopped::now();
    let away_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    for node in nodes.iter() {
        assert_eq!(ready(node).await, 503, "/readyz while the database is away");
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let away_until = Instant::now();
    drop(down);
    all_publishing_since(&answers, nodes.len(), away_until).await;
    *stop.lock().expect("lock") = true;
    for t in tasks {
        t.await.expect("publisher");
    }
    let answers = answers.lock().expect("lock").clone();
    // Publishes sent and answered while the server was away (one sent before the stop may
    // have committed before it, and be answered 202 just after).
    let during: Vec<u16> = answers
        .iter()
        .filter(|(sent, done, _, _)| *sent > away_from && *done < away_until)
        .map(|(_, _, s, _)| *s)
        .collect();
    assert!(
        during.contains(&503),
        "no publish was refused while away: {during:?}"
    );
    assert!(
        !during.contains(&202),
        "acknowledged while the database was away: {during:?}"
    );
    assert!(
        answers.iter().all(|(_, _, s, _)| matches!(s, 202 | 503)),
        "{answers:?}"
    );
    let acked: Vec<u64> = answers
        .iter()
        .filter(|(_, _, s, _)| *s == 202)
        .map(|(_, _, _, n)| *n)
        .collect();
    delivered(&rx, &acked).await;
    for node in nodes.iter() {
        assert_eq!(ready(node).await, 200);
    }
}

/// Waits until the receiver got every event in `acked`.
async fn delivered(rx: &Receiver, acked: &[u64]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: std::collections::HashSet<u64> = rx
            .got()
            .iter()
            .filter_map(|r| r.json()["data"]["n"].as_u64())
            .collect();
        let missing: Vec<&u64> = acked.iter().filter(|n| !got.contains(n)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "acknowledged, never delivered: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
