//! Soak: a steady publish rate for a long while under a short retention, sampling the size
//! of the SQLite file (with its WAL) as it goes. With the purge keeping up, the size levels
//! off once the retention period has passed, instead of growing with every event.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;

use super::receiver::Recorder;
use super::workloads::{self, Target, W2};
use super::BenchArgs;

/// The file's size in bytes, with its write-ahead log.
fn size(db: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Segments a soak is cut into, each with its own latency figures: the purge starts only
/// once the retention period has passed, and its cost shows in the later segments.
const SEGMENTS: u64 = 4;

/// Runs W2 at `rate` for `duration` in [`SEGMENTS`] parts, sampling the size of `db` every
/// `every`; answers each part's figures and the samples (seconds since the start, bytes).
pub async fn run(
    target: &Target,
    rec: &Arc<Recorder>,
    rate: u64,
    duration: Duration,
    db: PathBuf,
    every: Duration,
) -> anyhow::Result<(Vec<W2>, Vec<(u64, u64)>)> {
    let started = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let taken = Arc::clone(&samples);
    let sampler = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            let sample = (started.elapsed().as_secs(), size(&db));
            taken.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
        }
    });
    let mut parts = Vec::new();
    let part = (duration / SEGMENTS as u32).max(Duration::from_secs(1));
    for _ in 0..SEGMENTS {
        rec.reset();
        match workloads::w2(target, rec, rate, part).await {
            Ok(w2) => parts.push(w2),
            Err(e) => {
                sampler.abort();
                return Err(e);
            }
        }
    }
    sampler.abort();
    let samples = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok((parts, samples))
}

/// W2's rate under `--retention` on the SQLite file of the Herald the bench starts (in
/// this process, or `--processes 1`): each segment's latency, and the file's size every
/// tenth of the run.
pub async fn report(
    args: &BenchArgs,
    target: &Target,
    recorder: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let db = match (&args.database, &args.target, args.processes) {
        (None, None, None | Some(1)) => super::tempfile_dir()?.join("bench.db"),
        _ => bail!(
            "soak measures the SQLite file of the Herald the bench starts: no --target or --database, --processes 1 at most"
        ),
    };
    let every = Duration::from_secs((args.duration / 10).max(1));
    let (parts, samples) = run(
        target,
        recorder,
        args.rate,
        Duration::from_secs(args.duration),
        db,
        every,
    )
    .await?;
    for (n, w2) in parts.iter().enumerate() {
        println!(
            "soak segment {}/{SEGMENTS}: delivered {} of {}, latency p50 {:.1} ms p99 {:.1} ms max {:.1} ms",
            n + 1,
            w2.delivered,
            w2.sent,
            w2.p50_ms,
            w2.p99_ms,
            w2.max_ms
        );
    }
    let sizes: Vec<String> = samples
        .iter()
        .map(|(s, bytes)| format!("{s}s {:.1}", *bytes as f64 / 1e6))
        .collect();
    let worst = parts.iter().map(|w| w.p99_ms).fold(0.0, f64::max);
    println!(
        "soak: {} events/s for {} s, retention {}: delivered {} of {}, worst segment p99 {:.1} ms; SQLite MB: {}",
        args.rate,
        args.duration,
        args.retention,
        parts.iter().map(|w| w.delivered).sum::<u64>(),
        parts.iter().map(|w| w.sent).sum::<u64>(),
        worst,
        sizes.join(", ")
    );
    Ok(())
}
