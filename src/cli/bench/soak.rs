//! Soak: a steady publish rate for a long while under a short retention, sampling the size
//! of the SQLite file (with its WAL) as it goes. With the purge keeping up, the size levels
//! off once the retention period has passed, instead of growing with every event.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::receiver::Recorder;
use super::workloads::{self, Target, W2};

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
