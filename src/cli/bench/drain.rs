//! `--run drain`: how fast a restarted Herald empties a backlog.
//!
//! A Herald serving only the API (`role = "api"`) takes `--drain-events` events in batches
//! for one endpoint, so every delivery waits in the store; it stops, and a Herald with the
//! dispatcher starts on the same database. Nothing of the backlog is in memory: every
//! delivery comes through the poller's claims, which is what this measures, from the start
//! to the last delivery received.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::queries::{app_with_endpoint, fill};
use super::receiver::Recorder;
use super::workloads::wait_delivered;
use super::BenchArgs;

/// An event of about 500 bytes in one of 100 rooms.
pub(super) fn event(n: u64) -> Value {
    json!({"type": "participant.joined", "labels": {"room_id": format!("room-{}", n % 100)},
           "data": {"participant": {"id": format!("p-{n}"), "name": "Ada Lovelace"},
                    "padding": "x".repeat(300)}})
}

pub async fn run(args: &BenchArgs, hook: &str, rec: &Arc<Recorder>) -> anyhow::Result<()> {
    let dir = super::tempfile_dir()?.join("drain");
    std::fs::create_dir_all(&dir)?;
    let db = match &args.database {
        Some(db) => db.clone(),
        None => format!("sqlite://{}/drain.db", dir.display()),
    };
    let token = crate::api::auth::new_token("hadm_");
    let events = args.drain_events;
    let mut cfg = super::config(args, &db, &token);
    cfg.role = "api".into();
    let api = crate::server::start(cfg.clone().validate()?).await?;
    let base = format!("http://{}", api.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()?;
    let (app, _) = app_with_endpoint(&client, &base, &token, hook).await?;
    fill(
        &client,
        &format!("{base}/v1/apps/{app}"),
        &token,
        events,
        event,
    )
    .await?;
    api.stop().await;
    rec.reset();
    let started = Instant::now();
    cfg.role = "all".into();
    let full = crate::server::start(cfg.validate()?).await?;
    wait_delivered(rec, events, Duration::from_secs(3600)).await?;
    let seconds = started.elapsed().as_secs_f64();
    full.stop().await;
    println!(
        "drain: {events} deliveries pending at a restart, drained in {seconds:.1} s: {:.0} deliveries/s",
        events as f64 / seconds
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
