//! The dispatch engine: gets every pending delivery to its endpoint, under that endpoint's
//! limits, and writes back what happened.
//!
//! Fresh deliveries arrive through memory straight from the publish that created them (the
//! fast path); the store is polled only for work memory does not hold: retries coming due,
//! manual recoveries, and whatever a previous process left behind. Each delivery held in
//! memory is *owned* by exactly one worker until its outcome is committed, which is what keeps
//! the fast path and the poller from sending the same delivery twice.

mod attempt;
mod client;
mod outcome;
mod queue;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};

use crate::domain::{DeliveryId, EndpointId};
use crate::store::{Job, Store};

pub use client::{HttpClient, RESPONSE_CAP};
use queue::EndpointQueue;

/// How long a delivery taken into memory stays reserved in the store.
const LEASE: Duration = Duration::from_secs(30);
/// Most deliveries claimed from the store in one query.
const CLAIM_BATCH: usize = 1000;

struct Inner {
    store: Arc<dyn Store>,
    client: HttpClient,
    queues: Mutex<HashMap<EndpointId, Arc<EndpointQueue>>>,
    owned: Mutex<HashSet<DeliveryId>>,
    /// Deliveries held in memory at most; beyond it new work waits in the store.
    window: usize,
    poll_interval: Duration,
    wake: Notify,
    stopping: std::sync::atomic::AtomicBool,
}

/// A cheap handle to the engine, shared by the API (to submit) and the poller.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        client: HttpClient,
        window: usize,
        poll_interval: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                client,
                queues: Mutex::new(HashMap::new()),
                owned: Mutex::new(HashSet::new()),
                window,
                poll_interval,
                wake: Notify::new(),
                stopping: Default::default(),
            }),
        }
    }

    /// Whether fresh deliveries should come through memory; when not, they wait in the store
    /// unleased and the poller takes them as room frees up.
    pub fn has_room(&self) -> bool {
        !self
            .inner
            .stopping
            .load(std::sync::atomic::Ordering::Relaxed)
            && lock(&self.inner.owned).len() < self.inner.window
    }

    pub fn lease_until(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default()
    }

    /// Takes deliveries into memory; ones already held are ignored.
    pub fn submit(&self, jobs: Vec<Job>) {
        let mut fresh = Vec::with_capacity(jobs.len());
        {
            let mut owned = lock(&self.inner.owned);
            for job in jobs {
                if owned.insert(job.delivery_id.clone()) {
                    fresh.push(job);
                }
            }
            metrics::gauge!("herald_dispatch_in_memory").set(owned.len() as f64);
        }
        for job in fresh {
            let queue = {
                let mut queues = lock(&self.inner.queues);
                Arc::clone(
                    queues
                        .entry(job.endpoint_id.clone())
                        .or_insert_with(|| Arc::new(EndpointQueue::new(job.endpoint_id.clone()))),
                )
            };
            queue.push(self, job);
        }
    }

    /// Forgets the cached settings of an endpoint after the API changed it.
    pub fn endpoint_changed(&self, id: &EndpointId) {
        if let Some(queue) = lock(&self.inner.queues).get(id) {
            queue.invalidate();
        }
    }

    /// Asks the poller to look at the store now (a recovery or a short retry is due).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    fn stopping(&self) -> bool {
        self.inner
            .stopping
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn release(&self, id: &DeliveryId) {
        let mut owned = lock(&self.inner.owned);
        owned.remove(id);
        metrics::gauge!("herald_dispatch_in_memory").set(owned.len() as f64);
    }

    fn in_memory(&self) -> usize {
        lock(&self.inner.owned).len()
    }

    /// Polls the store for due work until `shutdown` flips, then waits up to `grace` for the
    /// requests in flight.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>, grace: Duration) {
        match self.inner.store.release_leases().await {
            Ok(n) if n > 0 => {
                tracing::info!(deliveries = n, "resuming deliveries left by a previous run")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot release leases"),
        }
        loop {
            self.claim_until_full().await;
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(self.inner.poll_interval) => {}
                _ = shutdown.changed() => break,
            }
        }
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + grace;
        while attempt::active_requests() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn claim_until_full(&self) {
        loop {
            let room = self
                .inner
                .window
                .saturating_sub(self.in_memory())
                .min(CLAIM_BATCH);
            if room == 0 {
                return;
            }
            let now = Utc::now();
            match self
                .inner
                .store
                .claim_due(now, room as u32, self.lease_until())
                .await
            {
                Ok(jobs) => {
                    let n = jobs.len();
                    self.submit(jobs);
                    if n < room {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim due deliveries");
                    return;
                }
            }
        }
    }
}
