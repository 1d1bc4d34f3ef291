//! The retention purge: keeps a database that runs for a year at the size of its retention
//! periods rather than of its history.
//!
//! A background task makes a pass every so often; each pass is a run of small batches
//! (see `store::Purge`), one transaction each, with a pause between them so that publishes
//! and outcomes keep the writer. A stop between batches leaves nothing half done: the next
//! start's first pass picks up where this one stopped.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::store::{Purge, Purged, Store};

/// Pause between two batches of a pass that keeps up.
const BETWEEN_BATCHES: Duration = Duration::from_millis(10);

/// The pause after a batch that took `took`, in a pass running for `running` of a period
/// `every`: a pass that keeps up leaves the writer to publishes most of the time; one still
/// running when the next was due (more arrives than it removes) pauses only as long as its
/// batches take, so that it catches up at half the writer's time rather than falling
/// behind for good.
fn pause(took: Duration, running: Duration, every: Duration) -> Duration {
    if running > every {
        took.min(BETWEEN_BATCHES)
    } else {
        BETWEEN_BATCHES
    }
}

/// How long things are kept; `None` keeps them forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub events: Option<Duration>,
    pub bodies: Option<Duration>,
}

impl Retention {
    /// How often a pass runs: a tenth of the shortest period, between a second and a minute,
    /// so that a short retention (in tests, say) is kept closely and a long one cheaply.
    fn every(&self) -> Option<Duration> {
        let shortest = [self.events, self.bodies].into_iter().flatten().min()?;
        Some((shortest / 10).clamp(Duration::from_secs(1), Duration::from_secs(60)))
    }

    /// The first batch of a pass made now; a period kept forever cuts off at the epoch.
    fn pass(&self) -> Purge {
        let now = Utc::now();
        let keep = |d: Option<Duration>| match d {
            Some(d) => chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX),
            None => now - chrono::DateTime::UNIX_EPOCH,
        };
        Purge::pass(now, keep(self.events), keep(self.bodies))
    }
}

/// Purges until `shutdown` flips.
pub async fn run(store: Arc<dyn Store>, retention: Retention, mut shutdown: watch::Receiver<bool>) {
    let Some(every) = retention.every() else {
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let mut batch = Some(retention.pass());
        let pass = std::time::Instant::now();
        while let Some(purge) = batch.take() {
            if *shutdown.borrow() {
                return;
            }
            let started = std::time::Instant::now();
            let result = store.purge(&purge).await;
            let took = started.elapsed();
            match result {
                Ok(done) => {
                    count(&done, took);
                    batch = purge.next(&done);
                }
                Err(e) => {
                    tracing::warn!(error = %e.chain(), "retention purge failed; retrying at the next pass");
                }
            }
            tokio::time::sleep(pause(took, pass.elapsed(), every)).await;
        }
    }
}

fn count(done: &Purged, took: Duration) {
    for (what, n) in [
        ("events", done.events),
        ("deliveries", done.deliveries),
        ("attempts", done.attempts),
        ("response_bodies", done.bodies),
    ] {
        if n > 0 {
            metrics::counter!("herald_purged_total", "what" => what).increment(n);
        }
    }
    if done.events > 0 {
        tracing::debug!(
            events = done.events,
            deliveries = done.deliveries,
            took_ms = took.as_secs_f64() * 1e3,
            "purged"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_that_falls_behind_pauses_only_as_long_as_its_batches_take() {
        let ms = Duration::from_millis;
        let every = Duration::from_secs(6);
        assert_eq!(pause(ms(3), ms(500), every), BETWEEN_BATCHES);
        assert_eq!(pause(ms(3), ms(7_000), every), ms(3));
        assert_eq!(pause(ms(40), ms(7_000), every), BETWEEN_BATCHES);
    }

    #[test]
    fn passes_run_at_a_tenth_of_the_shortest_period_within_bounds() {
        let days = |n: u64| Some(Duration::from_secs(n * 86_400));
        let r = Retention {
            events: days(30),
            bodies: days(7),
        };
        assert_eq!(r.every(), Some(Duration::from_secs(60)));
        let short = Retention {
            events: Some(Duration::from_secs(3)),
            bodies: None,
        };
        assert_eq!(short.every(), Some(Duration::from_secs(1)));
        assert_eq!(
            Retention {
                events: None,
                bodies: None
            }
            .every(),
            None
        );
    }
}
