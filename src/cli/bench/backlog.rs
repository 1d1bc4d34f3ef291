//! `--run backlog`: memory and the publish rate as the backlog grows.
//!
//! One endpoint points at a server that accepts connections and never answers, so every
//! delivery stays pending: the dispatcher holds that endpoint's share in memory and the
//! rest waits in the store. `--backlog-events` events are published in batches; the publish
//! rate and this process's resident memory are taken over the first `SAMPLE` events and
//! again over the last `SAMPLE`, with the whole backlog pending. The memory figure is the
//! bench process (Herald in-process, with the load generator), or a child Herald's with
//! `--processes 1`.

use std::time::Instant;

use super::drain::event;
use super::isolation::start_hanging;
use super::queries::{app_with_endpoint, fill};

const SAMPLE: u64 = 100_000;

/// Resident memory of process `pid` in MB, from /proc.
pub fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub async fn run(base: &str, token: &str, events: u64, pid: u32) -> anyhow::Result<()> {
    let hang = start_hanging().await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()?;
    let hook = format!("http://{hang}/hook");
    let (app, _) = app_with_endpoint(&client, base, token, &hook).await?;
    let app = format!("{base}/v1/apps/{app}");
    let sample = SAMPLE.min(events / 2).max(1);
    let mut figures = Vec::new();
    let mut published = 0;
    for chunk in [sample, events.saturating_sub(2 * sample), sample] {
        let t = Instant::now();
        fill(&client, &app, token, chunk, event).await?;
        published += chunk;
        let rate = chunk as f64 / t.elapsed().as_secs_f64();
        figures.push((published, rate, rss_mb(pid)));
    }
    let (first, last) = (figures[0], figures[2]);
    println!(
        "backlog: publish {:.0} events/s and RSS {:.0} MB with {} pending; {:.0} events/s ({:.0}%) and RSS {:.0} MB with {} pending",
        first.1,
        first.2,
        first.0,
        last.1,
        100.0 * last.1 / first.1.max(1.0),
        last.2,
        last.0
    );
    Ok(())
}
