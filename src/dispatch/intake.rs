//! How deliveries leased to this process at a publish or a resend reach memory.
//!
//! The store writes such a delivery with this process as its holder, and on a shared store a
//! holder's lease lasts as long as the process lives. Were the step from the commit to
//! memory cut short (the caller stops waiting: an HTTP client that timed out or hung up makes
//! the server drop the request's future), the delivery would stay held by a process that
//! never sends it, and on an ordered endpoint its whole room would wait behind it. So the
//! commit and the hand-over to memory run together in a task of their own, which the
//! caller awaits but cannot cancel.

use std::future::Future;

use tracing::Instrument;

use super::Dispatcher;
use crate::domain::Event;
use crate::store::{Lease, Published, Resend, StoreError, StoreResult};

impl Dispatcher {
    /// Commits `events`, and takes the deliveries leased to this process into memory; what
    /// the lease did not cover waits in the store, and the poller is woken for it.
    pub async fn publish(&self, events: Vec<Event>) -> StoreResult<Vec<Published>> {
        let d = self.clone();
        to_the_end(async move {
            let lease = d.lease();
            let mut published = d.inner.store.publish(events, &lease).await?;
            for p in &mut published {
                d.take_published(&lease, std::mem::take(&mut p.jobs), &p.leased);
            }
            Ok(published)
        })
        .await
    }

    /// Resends a delivery now, leased to this process, and takes it into memory; `None`
    /// when the store has no such delivery to resend.
    pub async fn resend(&self, mut resend: Resend) -> StoreResult<Option<()>> {
        let d = self.clone();
        resend.lease_until = self.lease_until();
        to_the_end(async move {
            let Some(job) = d.inner.store.resend(&resend).await? else {
                return Ok(None);
            };
            d.submit(vec![job]);
            Ok(Some(()))
        })
        .await
    }

    fn take_published(&self, lease: &Lease, jobs: Vec<crate::store::Job>, leased: &[bool]) {
        let waiting = jobs
            .iter()
            .zip(leased)
            .any(|(j, l)| lease.wakes(&j.endpoint_id, *l));
        self.submit(
            jobs.into_iter()
                .zip(leased)
                .filter_map(|(job, leased)| leased.then_some(job))
                .collect(),
        );
        if waiting {
            self.wake();
        }
    }
}

/// Runs `work` in a task of its own, in the caller's span, to its end whether or not the
/// caller still waits for the answer.
async fn to_the_end<T: Send + 'static>(
    work: impl Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    let task = tokio::spawn(work.instrument(tracing::Span::current()));
    task.await
        .map_err(|e| StoreError::Internal(format!("a publish stopped before its end: {e}")))?
}
