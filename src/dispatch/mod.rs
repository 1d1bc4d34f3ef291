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
mod lines;
mod ordering;
mod outcome;
mod queue;
mod share;
#[cfg(test)]
mod step_tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};

use crate::domain::{DeliveryId, EndpointId};
use crate::store::{Job, Lease, Store};

pub use client::HttpClient;
use queue::EndpointQueue;
use share::Holdings;

/// Most deliveries claimed from the store in one query.
const CLAIM_BATCH: usize = 1000;
/// Most leases renewed in one statement.
const RENEW_BATCH: usize = 5000;

struct Inner {
    store: Arc<dyn Store>,
    client: HttpClient,
    queues: Mutex<HashMap<EndpointId, Arc<EndpointQueue>>>,
    /// The deliveries held in memory, each owned by one worker, counted per endpoint
    /// against the window.
    owned: Mutex<Holdings>,
    /// Where the last claim cut short by the window stopped; the next one starts there.
    claim_cursor: Mutex<Option<EndpointId>>,
    poll_interval: Duration,
    /// How long a delivery taken into memory stays reserved in the store; renewed at a third
    /// of it while the process lives.
    lease: Duration,
    wake: Notify,
    stopping: std::sync::atomic::AtomicBool,
    /// Deliveries being worked on (sent, or their outcome being written).
    active: Arc<std::sync::atomic::AtomicUsize>,
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
        lease: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                client,
                queues: Mutex::new(HashMap::new()),
                owned: Mutex::new(Holdings::new(window)),
                claim_cursor: Mutex::new(None),
                poll_interval,
                lease,
                wake: Notify::new(),
                active: Arc::default(),
                stopping: Default::default(),
            }),
        }
    }

    /// Which fresh deliveries of a publish come through memory: none while stopping or when
    /// the window is full, else those of every endpoint below its share. The others wait in
    /// the store unleased, and the poller takes them as room frees up.
    pub fn lease(&self) -> Lease {
        let owned = lock(&self.inner.owned);
        if self.stopping() || owned.room() == 0 {
            return Lease::none();
        }
        Lease {
            until: self.lease_until(),
            except: owned.full(),
            per_endpoint: owned.fresh_share(),
        }
    }

    pub fn lease_until(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.inner.lease).unwrap_or_default()
    }

    /// Takes deliveries into memory; ones already held are ignored.
    pub fn submit(&self, jobs: Vec<Job>) {
        self.admit(jobs);
    }

    /// Takes deliveries into memory; answers the ones already held.
    fn admit(&self, jobs: Vec<Job>) -> Vec<DeliveryId> {
        let mut fresh = Vec::with_capacity(jobs.len());
        let mut held = Vec::new();
        {
            let mut owned = lock(&self.inner.owned);
            for job in jobs {
                if owned.take(&job.delivery_id, &job.endpoint_id) {
                    fresh.push(job);
                } else {
                    held.push(job.delivery_id);
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
        held
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
        let released = {
            let mut owned = lock(&self.inner.owned);
            let released = owned.release(id);
            metrics::gauge!("herald_dispatch_in_memory").set(owned.len() as f64);
            released
        };
        if released.wake {
            self.wake();
        }
    }

    /// Records an endpoint's `max_in_flight`, which sizes its share of the window.
    fn endpoint_read(&self, id: &EndpointId, max_in_flight: u32) {
        if lock(&self.inner.owned)
            .set_max_in_flight(id, max_in_flight)
            .wake
        {
            self.wake();
        }
    }

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
            let held: Vec<DeliveryId> = lock(&self.inner.owned).ids().cloned().collect();
            let until = self.lease_until();
            // An empty call still counts: a shared store renews by heartbeat.
            for chunk in held
                .chunks(RENEW_BATCH)
                .chain(held.is_empty().then_some(&[][..]))
            {
                if let Err(e) = self.inner.store.renew_leases(chunk, until).await {
                    tracing::warn!(error = %e.chain(), "cannot renew leases");
                }
            }
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
            let after = lock(&self.inner.claim_cursor).take();
            let claim = lock(&self.inner.owned).claim(CLAIM_BATCH, after);
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
                    // A claim can meet a delivery whose outcome was just written but which
                    // has not yet left memory: hand that lease back, or it would outlive
                    // the copy held here.
                    for id in self.admit(jobs) {
                        if let Err(e) = self.inner.store.release(&id).await {
                            tracing::warn!(delivery = %id, error = %e.chain(), "cannot hand back a claimed duplicate");
                        }
                    }
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
