//! `--run fanout` and `--run rooms`: fan-out to many endpoints, and many ordered rooms.
//!
//! Fan-out: one app with `FANOUT_ENDPOINTS` endpoints at the receiver takes
//! `--fanout-events` events, each delivered to every endpoint (a million deliveries at the
//! defaults). Rooms: `--room-events` events over 10,000 rooms, 10 each, to one endpoint
//! ordered per room and then to one that is not; ordering must not cost a scan over all
//! rooms per delivery, so the two rates stay close.

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;

use super::isolation::{measure, post, Load};
use super::receiver::Recorder;

const FANOUT_ENDPOINTS: usize = 1000;
const ROOMS: u64 = 10_000;

/// An app with `endpoints` endpoints at `hook`, each with `extra` fields: its events URL.
async fn app(
    client: &reqwest::Client,
    (base, token, hook): (&str, &str, &str),
    endpoints: usize,
    extra: serde_json::Value,
) -> anyhow::Result<String> {
    let body = json!({"name": "scale", "preset": "standard"});
    let app = post(client, &format!("{base}/v1/apps"), token, body).await?;
    let app = app["id"].as_str().context("app id")?.to_owned();
    let url = format!("{base}/v1/apps/{app}/endpoints");
    for _ in 0..endpoints {
        let mut ep = json!({"url": hook, "events": ["*"]});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            ep[k] = v;
        }
        post(client, &url, token, ep).await?;
    }
    Ok(format!("{base}/v1/apps/{app}/events"))
}

pub async fn fanout(
    (base, token, hook): (&str, &str, &str),
    events: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let url = app(&client, (base, token, hook), FANOUT_ENDPOINTS, json!({})).await?;
    let load = Load::of(events, 100);
    let expected = events * FANOUT_ENDPOINTS as u64;
    let r = measure(&client, &url, token, load, expected, rec).await?;
    println!(
        "fanout: {events} events x {FANOUT_ENDPOINTS} endpoints: {} deliveries in {:.1} s, {:.0} deliveries/s, latency p50 {:.0} ms p99 {:.0} ms",
        r.delivered,
        r.seconds,
        r.delivered as f64 / r.seconds,
        r.p50_ms,
        r.p99_ms
    );
    Ok(())
}

pub async fn rooms(
    (base, token, hook): (&str, &str, &str),
    events: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let mut rates = Vec::new();
    for ordering in ["per_room", "none"] {
        let extra = json!({"ordering": ordering, "max_in_flight": 64});
        let url = app(&client, (base, token, hook), 1, extra).await?;
        let load = Load::of(events, ROOMS);
        let r = measure(&client, &url, token, load, events, rec).await?;
        let rate = r.delivered as f64 / r.seconds;
        println!(
            "rooms: {events} events over {ROOMS} rooms, ordering {ordering}: {rate:.0} deliveries/s, latency p50 {:.1} ms p99 {:.1} ms",
            r.p50_ms, r.p99_ms
        );
        rates.push(rate);
    }
    println!(
        "rooms: ordering costs {:.2}x the unordered rate",
        rates[1] / rates[0].max(1.0)
    );
    Ok(())
}
