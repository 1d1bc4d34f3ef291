//! `--run isolation`: what hanging endpoints cost the healthy endpoints beside them.
//!
//! Two runs on the same Herald, each with its own app: 100 endpoints pointing at the
//! receiver, then the same plus 100 endpoints pointing at a server that accepts connections
//! and never answers (the default 15 s timeout and `max_in_flight` 50). Each run publishes
//! `--events` events from 8 publishers; the healthy deliveries' end-to-end latency is
//! compared between the two.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use super::receiver::Recorder;
use super::workloads::{typed_body, wait_delivered};

/// Both runs, healthy endpoints alone and beside 100 hanging ones, each printed as a line.
pub async fn runs(
    base: &str,
    token: &str,
    hook: &str,
    events: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let hang = start_hanging().await?;
    for (name, hanging) in [
        ("alone", None),
        ("beside 100 hanging endpoints", Some(hang)),
    ] {
        let r = run(base, token, hook, hanging, events, rec).await?;
        println!(
            "isolation: 100 healthy endpoints {name}: {} deliveries in {:.1} s, latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
            r.delivered, r.seconds, r.p50_ms, r.p99_ms, r.max_ms
        );
    }
    Ok(())
}

const ENDPOINTS: usize = 100;
const PUBLISHERS: usize = 8;

/// What a run publishes: `events` events over `rooms` rooms, of `types` in turn, as fast as
/// `publishers` go or at `rate` events per second.
#[derive(Clone, Copy)]
pub struct Load {
    pub events: u64,
    pub rooms: u64,
    pub rate: Option<u64>,
    pub publishers: usize,
    pub types: &'static [&'static str],
}

impl Load {
    /// `events` `participant.joined` events over `rooms` rooms, as fast as 8 publishers go.
    pub fn of(events: u64, rooms: u64) -> Self {
        Self {
            events,
            rooms,
            rate: None,
            publishers: PUBLISHERS,
            types: &["participant.joined"],
        }
    }
}

/// One run's healthy deliveries.
pub struct Run {
    pub delivered: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// A server that accepts connections and never reads from or answers them.
pub async fn start_hanging() -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    Ok(addr)
}

/// One run: an app with the healthy endpoints, and the hanging ones when `hang` is given.
pub async fn run(
    base: &str,
    token: &str,
    hook: &str,
    hang: Option<SocketAddr>,
    events: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<Run> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let app = setup(&client, base, token, hook, hang).await?;
    let url = format!("{base}/v1/apps/{app}/events");
    let expected = events * ENDPOINTS as u64;
    let load = Load::of(events, 100);
    measure(&client, &url, token, load, expected, rec).await
}

/// Publishes `load` to the events URL `url`, and waits for `expected` deliveries: their
/// end-to-end latency.
pub(super) async fn measure(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    load: Load,
    expected: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<Run> {
    rec.reset();
    let started = Instant::now();
    publish_all(client, url, token, load, rec).await?;
    wait_delivered(rec, expected, Duration::from_secs(900)).await?;
    let (p50_ms, p99_ms, max_ms) = rec.latency_ms();
    Ok(Run {
        delivered: rec.received.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
        p50_ms,
        p99_ms,
        max_ms,
    })
}

/// An app with the healthy endpoints, and as many hanging ones when `hang` is given.
async fn setup(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    hook: &str,
    hang: Option<SocketAddr>,
) -> anyhow::Result<String> {
    let app = post(
        client,
        &format!("{base}/v1/apps"),
        token,
        json!({"name": "isolation", "preset": "standard"}),
    )
    .await?;
    let app = app["id"].as_str().context("app id")?.to_owned();
    let endpoints = format!("{base}/v1/apps/{app}/endpoints");
    for _ in 0..ENDPOINTS {
        post(
            client,
            &endpoints,
            token,
            json!({"url": hook, "events": ["*"]}),
        )
        .await?;
        if let Some(hang) = hang {
            let url = format!("http://{hang}/hook");
            post(
                client,
                &endpoints,
                token,
                json!({"url": url, "events": ["*"]}),
            )
            .await?;
        }
    }
    Ok(app)
}

/// Publishes `load` from its concurrent publishers.
async fn publish_all(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    load: Load,
    rec: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let Load {
        events,
        rooms,
        rate,
        publishers: count,
        types,
    } = load;
    let start = tokio::time::Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let url = Arc::new(url.to_owned());
    let mut publishers = Vec::new();
    for _ in 0..count {
        let (client, url, next, rec) = (
            client.clone(),
            Arc::clone(&url),
            Arc::clone(&next),
            Arc::clone(rec),
        );
        let token = token.to_owned();
        publishers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    return Ok::<(), anyhow::Error>(());
                }
                if let Some(rate) = rate {
                    let at = Duration::from_secs_f64(n as f64 / rate.max(1) as f64);
                    tokio::time::sleep_until(start + at).await;
                }
                let resp = client
                    .post(url.as_str())
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(typed_body(
                        types[n as usize % types.len()],
                        rec.now_ns(),
                        n,
                        rooms,
                    ))
                    .send()
                    .await?;
                if resp.status() != reqwest::StatusCode::ACCEPTED {
                    bail!("publish answered {}", resp.status());
                }
            }
        }));
    }
    for p in publishers {
        p.await??;
    }
    Ok(())
}

pub(super) async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = resp.status();
    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("POST {url} answered {status}: {answer}");
    }
    Ok(answer)
}
