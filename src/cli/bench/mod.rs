//! `herald bench`: the load harness behind BENCHMARKS.md.
//!
//! It starts a Herald (embedded SQLite in a temporary directory, unless `--target` names a
//! running one) and a built-in receiver, then measures:
//! - W1: `--events` events of about 500 bytes to one endpoint as fast as `--concurrency`
//!   publishers go: publish rate, delivery rate, end-to-end p50/p99;
//! - W2: a fixed `--rate` for `--duration` seconds: end-to-end p50/p99/max;
//! - W3 (only when named): `--w3-events` events of four types over 1,000 rooms to 20
//!   filtered endpoints, a third of them ordered: deliveries/s and p99 (see `mix`);
//! - the ceiling: the same client posting the same body straight to the receiver;
//! - isolation (only when named in `--run`): 100 healthy endpoints alone, then beside 100
//!   that hang, `--isolation-events` events each (see `isolation`);
//! - failing (only when named): 500 healthy endpoints alone, then beside 500 that fail,
//!   `--failing-events` events each (see `failing`);
//! - soak (only when named): W2's rate for `--duration` seconds with `--retention`, in four
//!   segments with their own latency, sampling the SQLite file's size (see `soak`);
//! - queries (only when named): the support lists at `--query-events` events (see `queries`);
//! - drain (only when named): a restart with `--drain-events` deliveries pending (see `drain`);
//! - backlog (only when named): memory and publish rate with `--backlog-events` pending;
//! - fanout and rooms (only when named): 1,000 endpoints, and 10,000 ordered rooms (`scale`).
//!
//! With `--processes N` it starts N `herald serve` processes on `--database` (a PostgreSQL
//! URL; `--processes 1` alone runs one on a temporary SQLite file) instead, and publishes
//! round-robin over them.

mod backlog;
mod drain;
mod extras;
mod failing;
mod isolation;
mod mix;
mod nodes;
mod pages;
mod queries;
mod receiver;
mod scale;
mod soak;
mod workloads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;

use crate::config::Config;
use receiver::Recorder;
use workloads::Target;

#[derive(Args, Clone)]
pub struct BenchArgs {
    /// A running Herald's base URL; by default one is started in-process on a temporary SQLite file.
    #[arg(long)]
    pub target: Option<String>,
    /// Admin token of the `--target` Herald.
    #[arg(long, env = "HERALD_ADMIN_TOKEN")]
    pub token: Option<String>,
    /// Database URL of the in-process Herald (default: a temporary SQLite file).
    #[arg(long)]
    pub database: Option<String>,
    /// Start this many `herald serve` processes on `--database` (PostgreSQL; one process
    /// may run on a temporary SQLite file) instead of one Herald in this process, so that
    /// Herald shares no runtime with the load and the receiver; publishes go round-robin.
    #[arg(long)]
    pub processes: Option<usize>,
    /// W1: number of events.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// W1 and the ceiling: concurrent publishers.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// W2: events per second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// W2: seconds.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Which measurements to run: any of w1, w2, w3, ceiling, isolation, failing, soak,
    /// queries, drain, backlog, fanout, rooms, comma-separated.
    #[arg(long, default_value = "ceiling,w1,w2")]
    pub run: String,
    /// W3: events, over 1,000 rooms to 20 filtered endpoints.
    #[arg(long, default_value_t = 100_000)]
    pub w3_events: u64,
    /// Isolation: events per run (each to 100 healthy endpoints, and to 100 hanging ones).
    #[arg(long, default_value_t = 5000)]
    pub isolation_events: u64,
    /// Failing: events per run (each to one of 500 healthy endpoints, and to one of 500
    /// failing ones).
    #[arg(long, default_value_t = 20_000)]
    pub failing_events: u64,
    /// Failing: events per second (0: as fast as the publishers go).
    #[arg(long, default_value_t = 1000)]
    pub failing_rate: u64,
    /// Backlog: events published to an endpoint that never answers.
    #[arg(long, default_value_t = 1_000_000)]
    pub backlog_events: u64,
    /// Fan-out: events, each to 1,000 endpoints.
    #[arg(long, default_value_t = 1000)]
    pub fanout_events: u64,
    /// Rooms: events over 10,000 ordered rooms (and again unordered).
    #[arg(long, default_value_t = 100_000)]
    pub room_events: u64,
    /// Drain: deliveries pending when Herald restarts.
    #[arg(long, default_value_t = 100_000)]
    pub drain_events: u64,
    /// Queries: events in the log when the lists are timed.
    #[arg(long, default_value_t = 1_000_000)]
    pub query_events: u64,
    /// Retention of events and response bodies of the Herald the bench starts (soak: short,
    /// so that the purge runs while it is measured).
    #[arg(long, default_value = "30d")]
    pub retention: String,
    /// The bench app's schemas: `preset` (the standard catalog's, which admit any object);
    /// `strict` (its events' type registered as a custom type whose schema types and
    /// requires every field, checked on every publish); `unenforced` (the same type, the
    /// app's enforcement off). `strict` against `unenforced` is what the check costs.
    #[arg(long, default_value = "preset", value_parser = ["preset", "strict", "unenforced"])]
    pub schemas: String,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let origin = Instant::now();
    let recorder = Recorder::new(origin);
    let receiver = receiver::start(Arc::clone(&recorder)).await?;
    let dir = tempfile_dir()?;
    let herald = start_herald(&args, &dir).await?;
    let (bases, token) = (&herald.bases, &herald.token);
    let hook = format!("http://{receiver}/hook");
    let target = Target::setup(bases, token, &hook, &args.schemas).await?;
    println!(
        "herald bench: Herald at {}, receiver at http://{receiver}/hook",
        bases.join(", ")
    );
    println!(
        "machine: {} cores; herald {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        env!("CARGO_PKG_VERSION")
    );
    let pid = herald.nodes.as_ref().and_then(nodes::Nodes::first_pid);
    let under = extras::Under {
        base: &bases[0],
        token,
        hook: &hook,
        pid: pid.unwrap_or(std::process::id()),
    };
    run_workloads(&args, &target, &recorder, &under).await?;
    if let Some(s) = herald.server {
        s.stop().await;
    }
    drop(herald.nodes);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The Herald under test: a URL given, several `herald serve` processes, or one in this
/// process.
struct UnderTest {
    bases: Vec<String>,
    token: String,
    server: Option<crate::server::Running>,
    nodes: Option<nodes::Nodes>,
}

async fn start_herald(args: &BenchArgs, dir: &std::path::Path) -> anyhow::Result<UnderTest> {
    let mut nodes = None;
    let (bases, token, server) = match (&args.target, args.processes) {
        (Some(_), Some(_)) => bail!("--target and --processes exclude each other"),
        (Some(url), None) => (
            vec![url.trim_end_matches('/').to_owned()],
            args.token
                .clone()
                .context("--token is required with --target")?,
            None,
        ),
        (None, Some(n)) => {
            let db = match &args.database {
                Some(db) if n == 1 || db.starts_with("postgres") => db.clone(),
                None if n == 1 => format!("sqlite://{}/bench.db", dir.display()),
                _ => bail!(
                    "--processes above 1 needs --database postgres://...: SQLite serves one process"
                ),
            };
            if n == 0 {
                bail!("--processes must be at least 1");
            }
            crate::store::migrate(&db).await?;
            let token = crate::api::auth::new_token("hadm_");
            let started = nodes::Nodes::start(n, &db, &token, dir, &args.retention)?;
            let bases = started.urls.clone();
            nodes = Some(started);
            (bases, token, None)
        }
        (None, None) => {
            let token = crate::api::auth::new_token("hadm_");
            let db = args
                .database
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
            let running = crate::server::start(config(args, &db, &token).validate()?).await?;
            (
                vec![format!("http://{}", running.addr)],
                token,
                Some(running),
            )
        }
    };
    Ok(UnderTest {
        bases,
        token,
        server,
        nodes,
    })
}

/// The configuration of a Herald started in this process on `db`.
fn config(args: &BenchArgs, db: &str, token: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url: db.to_owned(),
        admin_token: Some(crate::config::Secret::new(token.to_owned())),
        allow_destinations: vec!["127.0.0.0/8".into()],
        retention_events: args.retention.clone(),
        retention_attempt_bodies: args.retention.clone(),
        ..Config::default()
    }
}

/// Runs the workloads `--run` names, printing each one's figures.
async fn run_workloads(
    args: &BenchArgs,
    target: &Target,
    recorder: &Arc<Recorder>,
    under: &extras::Under<'_>,
) -> anyhow::Result<()> {
    let hook = under.hook;
    let runs: Vec<&str> = args.run.split(',').map(str::trim).collect();
    let mut ceiling = None;
    if runs.contains(&"ceiling") {
        let rps = workloads::ceiling(target, hook, args.concurrency, 50_000, recorder).await?;
        println!(
            "ceiling: receiver hit directly: {rps:.0} requests/s (concurrency {})",
            args.concurrency
        );
        ceiling = Some(rps);
    }
    let mut w1 = None;
    if runs.contains(&"w1") {
        recorder.reset();
        let r = workloads::w1(target, recorder, args.events, args.concurrency).await?;
        println!(
            "W1: {} events: publish {:.0} events/s acknowledged, delivered {:.0} events/s end to end, latency p50 {:.1} ms p99 {:.1} ms",
            args.events, r.publish_rate, r.delivery_rate, r.p50_ms, r.p99_ms
        );
        if let Some(c) = ceiling {
            println!(
                "W1 delivery rate is {:.1}% of the ceiling",
                100.0 * r.delivery_rate / c
            );
        }
        w1 = Some(r.delivery_rate);
    }
    if runs.contains(&"w2") {
        recorder.reset();
        let r = workloads::w2(
            target,
            recorder,
            args.rate,
            Duration::from_secs(args.duration),
        )
        .await?;
        println!(
            "W2: {} events/s for {} s: delivered {} of {}, latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
            args.rate, args.duration, r.delivered, r.sent, r.p50_ms, r.p99_ms, r.max_ms
        );
    }
    if runs.contains(&"w3") {
        let rate = mix::run((under.base, under.token, hook), args.w3_events, recorder).await?;
        if let Some(w1) = w1 {
            println!("W3 deliveries/s are {:.0}% of W1's", 100.0 * rate / w1);
        }
    }
    extras::run(args, target, recorder, under, &runs).await
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("herald-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
