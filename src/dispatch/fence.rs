//! What this process may still send: the leases it holds, as the store last confirmed them.
//!
//! A lease is only as good as its last renewal. A process that stalls (a pause of the whole
//! process, a VM that stops being scheduled, a partition from the database) cannot tell
//! while it stalls; when it resumes, its own clock says how long it has been since the store
//! last confirmed its leases. Past the lease time, another process may have taken its work
//! over, so it sends nothing from memory, and claims nothing, until a renewal has said which
//! leases are still its own. The deliveries that were taken over leave memory at once;
//! should one of their requests have gone out anyway (it was in flight across the pause), the
//! store refuses its outcome (see [`crate::store::HeldLease`]), so the delivery's new holder
//! keeps the last word.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{lock, Dispatcher};
use crate::store::{HeldLease, Job};

impl Dispatcher {
    /// Whether more than a lease time has passed since the store last confirmed this
    /// process's leases.
    pub(super) fn lapsed(&self) -> bool {
        let since = self.inner.clock.elapsed().as_millis() as u64;
        let renewed = self.inner.renewed_ms.load(Ordering::Relaxed);
        Duration::from_millis(since.saturating_sub(renewed)) >= self.inner.lease
    }

    /// Renews every lease memory holds, and lets go of those the store says were taken over.
    /// One renewal at a time: callers that arrive while one runs wait for it, and go on
    /// without another when it confirmed the leases.
    pub(super) async fn renew_once(&self) {
        let _one = self.inner.renewing.lock().await;
        let started = self.inner.clock.elapsed().as_millis() as u64;
        if started.saturating_sub(self.inner.renewed_ms.load(Ordering::Relaxed))
            < (self.inner.lease / 10).as_millis() as u64
        {
            return;
        }
        let held = lock(&self.inner.owned).leases();
        // Even with nothing held: a shared store renews by heartbeat.
        let lost = match self
            .inner
            .store
            .renew_leases(&held, self.lease_until())
            .await
        {
            Ok(lost) => lost,
            Err(e) => return tracing::warn!(error = %e.chain(), "cannot renew leases"),
        };
        self.inner.renewed_ms.store(started, Ordering::Relaxed);
        if !lost.is_empty() {
            self.drop_lost(&held, &lost);
        }
    }

    /// Lets go of the leases among `held` that the store found under another lease.
    fn drop_lost(&self, held: &[HeldLease], lost: &[crate::domain::DeliveryId]) {
        let lost: std::collections::HashSet<_> = lost.iter().collect();
        let mut dropped = Vec::new();
        for lease in held.iter().filter(|l| lost.contains(&l.id)) {
            if lock(&self.inner.owned).holds(lease) {
                self.release(lease);
                dropped.push(lease.id.as_str());
            }
        }
        metrics::counter!("herald_leases_lost_total").increment(dropped.len() as u64);
        if let Some(first) = dropped.first() {
            tracing::warn!(deliveries = dropped.len(), first = %first, "leases lost: taken over while this process was not renewing, these deliveries leave memory unsent");
        }
    }

    /// Whether `job` may be sent now: once its lease is confirmed (renewing first when the
    /// leases have lapsed, and waiting while the store cannot be reached), and only when
    /// memory still holds it under the lease it was taken with. `false` while stopping.
    pub(super) async fn may_send(&self, job: &Job) -> bool {
        while self.lapsed() {
            if self.stopping() {
                return false;
            }
            self.renew_once().await;
            if self.lapsed() {
                tokio::time::sleep(self.inner.poll_interval.min(Duration::from_secs(1))).await;
            }
        }
        lock(&self.inner.owned).holds(&HeldLease::of(job))
    }
}
