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

/// Runs W2 at `rate` for `duration`, sampling the size of `db` every `every`; answers W2's
/// figures and the samples (seconds since the start, bytes).
pub async fn run(
    target: &Target,
    rec: &Arc<Recorder>,
    rate: u64,
    duration: Duration,
    db: PathBuf,
    every: Duration,
) -> anyhow::Result<(W2, Vec<(u64, u64)>)> {
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
    let w2 = workloads::w2(target, rec, rate, duration).await;
    sampler.abort();
    let samples = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok((w2?, samples))
}

/// W2's rate under `--retention`, with the SQLite file's size every tenth of the run.
pub async fn report(
    args: &BenchArgs,
    target: &Target,
    recorder: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let db = match &args.database {
        None if args.target.is_none() => super::tempfile_dir()?.join("bench.db"),
        _ => bail!("soak measures the in-process Herald's SQLite file: no --target or --database"),
    };
    recorder.reset();
    let every = Duration::from_secs((args.duration / 10).max(1));
    let (w2, samples) = run(
        target,
        recorder,
        args.rate,
        Duration::from_secs(args.duration),
        db,
        every,
    )
    .await?;
    let sizes: Vec<String> = samples
        .iter()
        .map(|(s, bytes)| format!("{s}s {:.1}", *bytes as f64 / 1e6))
        .collect();
    println!(
        "soak: {} events/s for {} s, retention {}: delivered {} of {}, p99 {:.1} ms; SQLite MB: {}",
        args.rate,
        args.duration,
        args.retention,
        w2.delivered,
        w2.sent,
        w2.p99_ms,
        sizes.join(", ")
    );
    Ok(())
}
