//! The checker: what the receivers saw, what Herald's API says, and what the publishers were
//! told, held against each other once every fault has healed and the work has settled.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::load::{Published, FILTERED, ROOMS};
use crate::receiver::{Received, Receiver};

/// What a run found; every count but `unlogged_at_kills` must be 0.
#[derive(Debug, Default)]
pub struct Report {
    pub acknowledged: usize,
    pub deliveries: usize,
    pub requests: usize,
    /// Acknowledged events a matching endpoint never got with a 2xx.
    pub lost: Vec<String>,
    /// Ordered endpoint: a room's sequence n first received before n - 1.
    pub order_violations: Vec<String>,
    /// Rooms whose sequences have a gap or a repeat, or that miss an acknowledged event.
    pub sequence_faults: Vec<String>,
    /// Attempt rows without their request, or requests without a row and no kill near them.
    pub log_mismatches: Vec<String>,
    /// Requests in flight when their node was killed: no row, as the node died first.
    pub unlogged_at_kills: usize,
    /// Succeeded without a 2xx attempt, or sent again after one, or not succeeded after one.
    pub regressions: Vec<String>,
    pub server_errors: Vec<(u16, String)>,
}

impl Report {
    pub fn clean(&self) -> bool {
        self.lost.is_empty()
            && self.order_violations.is_empty()
            && self.sequence_faults.is_empty()
            && self.log_mismatches.is_empty()
            && self.regressions.is_empty()
            && self.server_errors.is_empty()
    }

    pub fn summary(&self) -> String {
        format!(
            "{} events acknowledged, {} deliveries, {} requests; {} lost, {} order violations, \
             {} sequence faults, {} log mismatches, {} regressions, {} server errors; \
             {} requests in flight at a kill without their row",
            self.acknowledged,
            self.deliveries,
            self.requests,
            self.lost.len(),
            self.order_violations.len(),
            self.sequence_faults.len(),
            self.log_mismatches.len(),
            self.regressions.len(),
            self.server_errors.len(),
            self.unlogged_at_kills,
        )
    }
}

/// `receivers`: 0 orders per room, 1 takes everything, 2 takes [`FILTERED`] only.
/// `deliveries`: each with its attempts. `rooms`: each room's events by sequence.
pub fn check(
    published: Published,
    receivers: &[Receiver],
    deliveries: &[Value],
    rooms: &HashMap<u64, Vec<Value>>,
    kills: &[SystemTime],
) -> Report {
    let got: Vec<Vec<Received>> = receivers.iter().map(Receiver::got).collect();
    let mut report = Report {
        acknowledged: published.acked.len(),
        deliveries: deliveries.len(),
        requests: got.iter().map(Vec::len).sum(),
        server_errors: published.server_errors.clone(),
        ..Report::default()
    };
    lost(&published, &got, &mut report);
    order(&got[0], &mut report);
    sequences(&published, rooms, &mut report);
    log(deliveries, &got, kills, &mut report);
    regressions(deliveries, &mut report);
    report
}

fn ok(r: &Received) -> bool {
    (200..300).contains(&r.replied)
}

fn lost(published: &Published, got: &[Vec<Received>], report: &mut Report) {
    let delivered: Vec<HashSet<u64>> = got
        .iter()
        .map(|g| {
            g.iter()
                .filter(|r| ok(r))
                .filter_map(|r| r.json()["data"]["n"].as_u64())
                .collect()
        })
        .collect();
    for a in &published.acked {
        for (i, seen) in delivered.iter().enumerate() {
            let wants = i < 2 || a.kind == FILTERED;
            if wants && !seen.contains(&a.n) {
                report
                    .lost
                    .push(format!("event {} (n {}) at receiver {i}", a.id, a.n));
            }
        }
    }
}

fn order(got: &[Received], report: &mut Report) {
    let mut first: HashMap<(u64, i64), usize> = HashMap::new();
    for (i, r) in got.iter().enumerate() {
        let room = r.json()["data"]["room"].as_u64().unwrap_or(u64::MAX);
        let seq = r
            .header("herald-sequence")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1);
        first.entry((room, seq)).or_insert(i);
    }
    for (&(room, seq), &at) in &first {
        if seq > 1
            && first
                .get(&(room, seq - 1))
                .is_none_or(|before| *before > at)
        {
            report
                .order_violations
                .push(format!("room {room}: {seq} before {}", seq - 1));
        }
    }
}

fn sequences(published: &Published, rooms: &HashMap<u64, Vec<Value>>, report: &mut Report) {
    for room in 0..ROOMS {
        let events = rooms.get(&room).map(Vec::as_slice).unwrap_or_default();
        let seqs: Vec<i64> = events
            .iter()
            .filter_map(|e| e["sequence"].as_i64())
            .collect();
        if seqs != (1..=seqs.len() as i64).collect::<Vec<_>>() {
            report
                .sequence_faults
                .push(format!("room {room}: {seqs:?}"));
        }
        let stored: HashMap<&str, i64> = events
            .iter()
            .filter_map(|e| Some((e["id"].as_str()?, e["sequence"].as_i64()?)))
            .collect();
        for a in published.acked.iter().filter(|a| a.room == room) {
            if stored.get(a.id.as_str()) != Some(&a.sequence) {
                report
                    .sequence_faults
                    .push(format!("room {room}: {} not at {}", a.id, a.sequence));
            }
        }
    }
}

/// How long before a kill a request may have gone out and still be waiting for its row.
const IN_FLIGHT_AT_KILL: Duration = Duration::from_secs(15);

fn log(deliveries: &[Value], got: &[Vec<Received>], kills: &[SystemTime], report: &mut Report) {
    let mut requests: HashMap<String, Vec<SystemTime>> = HashMap::new();
    for r in got.iter().flatten() {
        let id = r.header("webhook-id").unwrap_or_default().to_owned();
        requests.entry(id).or_default().push(r.at);
    }
    let near_kill = |t: &SystemTime| {
        kills
            .iter()
            .any(|k| *k + Duration::from_secs(1) >= *t && *t + IN_FLIGHT_AT_KILL >= *k)
    };
    for d in deliveries {
        let id = d["id"].as_str().unwrap_or_default();
        let rows = d["attempts"].as_array().map_or(0, Vec::len);
        let seen = requests.remove(id).unwrap_or_default();
        if rows > seen.len() {
            report
                .log_mismatches
                .push(format!("{id}: {rows} rows, {} requests", seen.len()));
        } else if rows < seen.len() {
            let missing = seen.len() - rows;
            if seen.iter().filter(|t| near_kill(t)).count() >= missing {
                report.unlogged_at_kills += missing;
            } else {
                report
                    .log_mismatches
                    .push(format!("{id}: {rows} rows, {} requests", seen.len()));
            }
        }
    }
    for (id, seen) in requests {
        report
            .log_mismatches
            .push(format!("{id}: {} requests, no delivery", seen.len()));
    }
}

fn regressions(deliveries: &[Value], report: &mut Report) {
    for d in deliveries {
        let id = d["id"].as_str().unwrap_or_default();
        let mut attempts: Vec<&Value> = d["attempts"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        attempts.sort_by_key(|a| {
            let at = a["started_at"].as_str().unwrap_or_default();
            chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| t.timestamp_micros())
                .unwrap_or(0)
        });
        let live: Vec<&&Value> = attempts
            .iter()
            .filter(|a| a["lapsed_lease"] != true)
            .collect();
        let success = live.iter().position(|a| {
            a["status_code"]
                .as_u64()
                .is_some_and(|c| (200..300).contains(&c))
        });
        match (success, d["status"].as_str()) {
            (None, Some("succeeded")) => report
                .regressions
                .push(format!("{id}: succeeded without a 2xx")),
            (Some(_), Some(s)) if s != "succeeded" => {
                report.regressions.push(format!("{id}: {s} after a 2xx"))
            }
            (Some(at), _) if at + 1 < live.len() => report
                .regressions
                .push(format!("{id}: sent again after a 2xx")),
            _ => {}
        }
    }
}
