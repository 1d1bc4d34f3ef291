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
use super::workloads::{event_body, wait_delivered};

const ENDPOINTS: usize = 100;
const PUBLISHERS: usize = 8;

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
    rec.reset();
    let started = Instant::now();
    let url = format!("{base}/v1/apps/{app}/events");
    publish_all(&client, &url, token, events, rec).await?;
    let expected = events * ENDPOINTS as u64;
    wait_delivered(rec, expected, Duration::from_secs(600)).await?;
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

/// Publishes `events` from [`PUBLISHERS`] concurrent clients.
async fn publish_all(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    events: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let url = Arc::new(url.to_owned());
    let mut publishers = Vec::new();
    for _ in 0..PUBLISHERS {
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
                let resp = client
                    .post(url.as_str())
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(event_body(rec.now_ns(), n))
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

async fn post(
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
