//! The steady load of a run: publishers sending events over 50 rooms to whichever nodes are
//! up, and the record of what was acknowledged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::nodes::Nodes;
use super::schedule::Rng;
use crate::harness::ADMIN;

pub const ROOMS: u64 = 50;
/// The one type the filtered endpoint takes.
pub const FILTERED: &str = "participant.joined";
const TYPES: [&str; 2] = [FILTERED, "chat.message"];

/// An event a node answered 202 for.
#[derive(Debug, Clone)]
pub struct Acked {
    pub n: u64,
    pub room: u64,
    pub kind: &'static str,
    pub id: String,
    pub sequence: i64,
}

/// What the publishers saw.
#[derive(Debug, Default)]
pub struct Published {
    pub acked: Vec<Acked>,
    /// Answers of 500 and above other than 503 (a node that cannot store says 503).
    pub server_errors: Vec<(u16, String)>,
    /// Publishes without an answer (the node went down or stopped meanwhile).
    pub unanswered: u64,
}

/// Publishes until `stop` is set, from `publishers` tasks; answers what they saw.
pub async fn publish(
    nodes: Arc<Nodes>,
    app: String,
    seed: u64,
    publishers: u64,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Published {
    let out = Arc::new(Mutex::new(Published::default()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .expect("client");
    let mut tasks = tokio::task::JoinSet::new();
    for p in 0..publishers {
        let (nodes, app, out, stop) = (
            Arc::clone(&nodes),
            app.clone(),
            Arc::clone(&out),
            Arc::clone(&stop),
        );
        let client = client.clone();
        tasks.spawn(async move {
            let mut rng = Rng::new(seed ^ (p + 1).wrapping_mul(0x5851_f42d_4c95_7f2d));
            let mut n = p;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let up = nodes.up();
                if !up.is_empty() {
                    let base = &up[rng.between(0, up.len() as u64 - 1) as usize];
                    let room = rng.between(0, ROOMS - 1);
                    let kind = TYPES[rng.between(0, 1) as usize];
                    let answer = one(&client, base, &app, n, room, kind).await;
                    record(&mut out.lock().expect("lock"), answer, n, room, kind);
                    n += publishers;
                }
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let mut out = out.lock().expect("lock");
    std::mem::take(&mut *out)
}

async fn one(
    client: &reqwest::Client,
    base: &str,
    app: &str,
    n: u64,
    room: u64,
    kind: &str,
) -> Option<(u16, Value)> {
    let body = json!({"type": kind, "data": {"n": n, "room": room}, "labels": {"room_id": format!("r{room}")}});
    let resp = client
        .post(format!("{base}/v1/apps/{app}/events"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    let text = resp.text().await.ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn record(
    out: &mut Published,
    answer: Option<(u16, Value)>,
    n: u64,
    room: u64,
    kind: &'static str,
) {
    match answer {
        None => out.unanswered += 1,
        Some((202, ack)) => out.acked.push(Acked {
            n,
            room,
            kind,
            id: ack["id"].as_str().unwrap_or_default().to_owned(),
            sequence: ack["sequence"].as_i64().unwrap_or(0),
        }),
        Some((status, ack)) if status >= 500 && status != 503 => {
            out.server_errors.push((status, ack.to_string()))
        }
        Some(_) => {}
    }
}
