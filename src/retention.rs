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

/// Pause between two batches of a pass.
const BETWEEN_BATCHES: Duration = Duration::from_millis(20);

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
        while let Some(purge) = batch.take() {
            if *shutdown.borrow() {
                return;
            }
            match store.purge(&purge).await {
                Ok(done) => {
                    count(&done);
                    batch = purge.next(&done);
                }
                Err(e) => {
                    tracing::warn!(error = %e.chain(), "retention purge failed; retrying at the next pass");
                }
            }
            tokio::time::sleep(BETWEEN_BATCHES).await;
        }
    }
}

fn count(done: &Purged) {
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
        tracing::debug!(events = done.events, deliveries = done.deliveries, "purged");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
