//! The poller: what the dispatcher does on its own, apart from what publishes hand it.
//! It claims due work from the store (retries, recoveries, what another process left),
//! renews the leases of what memory holds, and at shutdown hands back what it did not send.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::{lock, Dispatcher, CLAIM_BATCH};

impl Dispatcher {
    /// Polls the store for due work until `shutdown` flips, then waits up to `grace` for the
    /// requests in flight.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>, grace: Duration) {
        match self.inner.store.release_leases().await {
            Ok(n) if n > 0 => {
                tracing::info!(deliveries = n, "resuming deliveries left by a previous run")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e.chain(), "cannot release leases"),
        }
        let renewer = tokio::spawn(self.clone().renew_leases());
        let verifier = tokio::spawn(self.clone().verify_sweep());
        let remote = self.inner.store.work_signal();
        loop {
            self.claim_until_full_at(None).await;
            let remote_work = async {
                match &remote {
                    Some(signal) => signal.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = remote_work => {}
                _ = tokio::time::sleep(self.inner.poll_interval) => {}
                _ = shutdown.changed() => break,
            }
        }
        renewer.abort();
        verifier.abort();
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + grace;
        while self.inner.active.load(std::sync::atomic::Ordering::Relaxed) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match self.inner.store.release_own_leases().await {
            Ok(n) if n > 0 => tracing::info!(deliveries = n, "handed back undelivered work"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e.chain(), "cannot hand back leases; they end on their own")
            }
        }
    }

    /// Keeps the store's leases on everything held in memory alive, so that no other process
    /// takes over work this one is still doing, however long an endpoint's backlog is.
    async fn renew_leases(self) {
        let every = self.inner.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            self.renew_once().await;
        }
    }

    /// One step of the poller, at a time the caller chooses: claims what is due at `now` (a
    /// retry scheduled an hour ahead comes due at `now` an hour ahead) and sends it. For
    /// driving the dispatcher step by step, without waiting for the clock.
    #[cfg(test)]
    pub async fn step(&self, now: DateTime<Utc>) {
        self.claim_until_full_at(Some(now)).await;
    }

    /// Claims work due at `now` (at the clock's time when `None`), each endpoint up to its
    /// share, until the window is full or the store has nothing more that fits.
    async fn claim_until_full_at(&self, now: Option<DateTime<Utc>>) {
        loop {
            if self.lapsed() {
                // Resumed from a stall: what memory holds may have been taken over, and a
                // claim could take it again; first learn which leases are still held.
                self.renew_once().await;
                if self.lapsed() {
                    return;
                }
            }
            let after = lock(&self.inner.claim_cursor).take();
            let mut claim = lock(&self.inner.owned).claim(CLAIM_BATCH, after);
            for id in lock(&self.inner.backed_off).iter() {
                // One is enough to probe with; the rest wait in the store.
                let room = claim.room(id).min(1);
                claim.rooms.insert(id.clone(), room);
            }
            if claim.limit == 0 {
                return;
            }
            let claim = claim.at(now.unwrap_or_else(Utc::now), self.lease_until());
            match self.inner.store.claim_due(&claim).await {
                Ok(jobs) => {
                    let n = jobs.len();
                    if n == claim.limit as usize {
                        // Cut short by the limit: the next claim goes on after the last
                        // endpoint served, so every endpoint gets its turn.
                        *lock(&self.inner.claim_cursor) =
                            claim.last_visited(jobs.iter().map(|j| &j.endpoint_id));
                    }
                    let filled = claim.filled(jobs.iter().map(|j| &j.endpoint_id));
                    // A claim can meet a delivery whose outcome (a retry, due now) was just
                    // written but which has not yet left memory: the claim's lease is the
                    // newer, and memory holds it under that one from now on.
                    self.admit(jobs);
                    self.more_waiting(&filled);
                    if n < claim.limit as usize {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e.chain(), "cannot claim due deliveries");
                    return;
                }
            }
        }
    }
}
