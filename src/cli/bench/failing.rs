//! `--run failing`: 1,000 endpoints of which half always fail: what the failing half costs
//! the healthy half. Each of 500 rooms has one healthy endpoint, and in the second run one
//! failing endpoint too (every other one answers 500 at once, the rest never answer, with
//! the default 15 s timeout), so each event reaches one healthy endpoint. The failing ones'
//! breakers open; the healthy deliveries' end-to-end latency is compared between the runs.
//!
//! Each run has a `herald serve` of its own on a fresh SQLite file: on a shared one, the run
//! that comes second would inherit the first one's rows, and, after the failing run, its
//! endpoints, which go on failing. Only `--target` runs both on the Herald it names.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;

use super::isolation::{self, Load, Run};
use super::nodes::Nodes;
use super::receiver::Recorder;
use super::BenchArgs;

pub const ROOMS: u64 = 500;

/// The two servers the failing endpoints point at.
#[derive(Clone, Copy)]
pub struct Failing {
    pub erroring: SocketAddr,
    pub hanging: SocketAddr,
}

impl Failing {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let erroring = listener.local_addr()?;
        let app = axum::Router::new().route(
            "/hook",
            post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self {
            erroring,
            hanging: isolation::start_hanging().await?,
        })
    }
}

/// Both runs, each printed as one line, and the ratio of their p99s.
pub async fn runs(
    args: &BenchArgs,
    (base, token): (&str, &str),
    hook: &str,
    rec: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let rate = (args.failing_rate > 0).then_some(args.failing_rate);
    let events = args.failing_events;
    let failing = Failing::start().await?;
    let load = Load {
        rate,
        ..Load::of(events, ROOMS)
    };
    let pace = rate.map_or("as fast as 8 publishers go".to_owned(), |r| {
        format!("{r} events/s")
    });
    println!("failing: {events} events per run, {pace}");
    let mut p99s = Vec::new();
    for (n, (name, bad)) in [
        ("alone", None),
        ("beside 500 failing endpoints", Some(failing)),
    ]
    .into_iter()
    .enumerate()
    {
        // Dropped after the run: a fresh Herald stops with it.
        let fresh = match args.target {
            Some(_) => None,
            None => Some(Fresh::start(&format!("failing-{n}"))?),
        };
        let (base, token) = fresh.as_ref().map_or((base, token), |f| f.at());
        let r = run(base, token, hook, bad, load, rec).await?;
        println!(
            "failing: 500 healthy endpoints {name}: {} deliveries in {:.1} s, latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
            r.delivered, r.seconds, r.p50_ms, r.p99_ms, r.max_ms
        );
        p99s.push(r.p99_ms);
    }
    if let [alone, beside] = p99s[..] {
        println!(
            "failing: p99 beside failing endpoints / alone = {:.2}x",
            beside / alone.max(0.001)
        );
    }
    Ok(())
}

/// A `herald serve` of its own, on a fresh SQLite file.
struct Fresh {
    nodes: Nodes,
    token: String,
}

impl Fresh {
    fn start(name: &str) -> anyhow::Result<Self> {
        let dir = super::tempfile_dir()?.join(name);
        std::fs::create_dir_all(&dir)?;
        let db = format!("sqlite://{}/herald.db", dir.display());
        let token = crate::api::auth::new_token("hadm_");
        let nodes = Nodes::start(1, &db, &token, &dir, "30d")?;
        Ok(Self { nodes, token })
    }

    fn at(&self) -> (&str, &str) {
        (&self.nodes.urls[0], &self.token)
    }
}

async fn run(
    base: &str,
    token: &str,
    hook: &str,
    bad: Option<Failing>,
    load: Load,
    rec: &Arc<Recorder>,
) -> anyhow::Result<Run> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let app = isolation::post(
        &client,
        &format!("{base}/v1/apps"),
        token,
        json!({"name": "failing", "preset": "standard"}),
    )
    .await?;
    let app = app["id"].as_str().context("app id")?.to_owned();
    let endpoints = format!("{base}/v1/apps/{app}/endpoints");
    for room in 0..ROOMS {
        let filter = json!({"labels": {"room_id": format!("room-{room}")}});
        let healthy = json!({"url": hook, "filter": filter});
        isolation::post(&client, &endpoints, token, healthy).await?;
        if let Some(bad) = bad {
            let to = if room % 2 == 0 {
                bad.erroring
            } else {
                bad.hanging
            };
            let failing = json!({"url": format!("http://{to}/hook"), "filter": filter});
            isolation::post(&client, &endpoints, token, failing).await?;
        }
    }
    let url = format!("{base}/v1/apps/{app}/events");
    isolation::measure(&client, &url, token, load, load.events, rec).await
}
