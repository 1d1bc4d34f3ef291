//! The dispatch engine: gets every pending delivery to its endpoint, under that endpoint's
//! limits, and writes back what happened.
//!
//! Fresh deliveries arrive through memory straight from the publish that created them (the
//! fast path); the store is polled only for work memory does not hold: retries coming due,
//! manual recoveries, and whatever a previous process left behind. Each delivery held in
//! memory is *owned* by exactly one worker until its outcome is committed, which is what keeps
//! the fast path and the poller from sending the same delivery twice.

mod attempt;
mod breaker;
mod client;
mod fence;
mod intake;
mod lines;
mod notices;
mod ordering;
mod outcome;
mod poller;
mod queue;
mod returns;
mod settings;
mod share;
#[cfg(test)]
mod step_tests;
mod verify;
mod window;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::domain::{BreakerPolicy, DeliveryId, EndpointId};
use crate::store::{HeldLease, Job, Lease, Store};

pub use client::HttpClient;
pub use notices::announce;
use queue::EndpointQueue;
use share::Holdings;

/// Most deliveries claimed from the store in one query.
const CLAIM_BATCH: usize = 1000;

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
    /// When the store last confirmed the leases held in memory, in milliseconds since
    /// `clock` (see `fence`).
    renewed_ms: std::sync::atomic::AtomicU64,
    clock: std::time::Instant,
    /// Held while a renewal runs: one at a time.
    renewing: tokio::sync::Mutex<()>,
    wake: Notify,
    stopping: std::sync::atomic::AtomicBool,
    /// Deliveries being worked on (sent, or their outcome being written).
    active: Arc<std::sync::atomic::AtomicUsize>,
    /// The circuit breakers' settings.
    breaker: BreakerPolicy,
    /// Endpoints whose breaker is not closed, or that are disabled, as this process last
    /// saw them: publishes lease none of their deliveries, and claims take at most one.
    backed_off: Mutex<HashSet<EndpointId>>,
    /// The trace of the request that published each fresh delivery, while spans are
    /// exported: its first attempt's span joins that trace.
    origins: Mutex<HashMap<DeliveryId, opentelemetry::Context>>,
    /// Endpoints whose verification this process is checking now: one check at a time each.
    verifying: Mutex<HashSet<EndpointId>>,
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
        breaker: BreakerPolicy,
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
                renewed_ms: Default::default(),
                clock: std::time::Instant::now(),
                renewing: Default::default(),
                wake: Notify::new(),
                active: Arc::default(),
                origins: Mutex::default(),
                breaker,
                backed_off: Mutex::default(),
                verifying: Mutex::default(),
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
        let full = owned.full();
        let backed_off = lock(&self.inner.backed_off);
        let except = if backed_off.is_empty() {
            full
        } else {
            Arc::new(full.iter().chain(backed_off.iter()).cloned().collect())
        };
        Lease {
            until: self.lease_until(),
            except,
            per_endpoint: owned.fresh_share(),
        }
    }

    /// Notes whether an endpoint is backed off (its breaker open, or disabled).
    fn backed_off(&self, id: &EndpointId, yes: bool) {
        let mut set = lock(&self.inner.backed_off);
        if yes {
            set.insert(id.clone());
        } else {
            set.remove(id);
        }
    }

    pub fn lease_until(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.inner.lease).unwrap_or_default()
    }

    /// Takes deliveries into memory; ones already held are ignored. Their first attempts
    /// join the trace of the span this is called in, when spans are exported.
    pub fn submit(&self, jobs: Vec<Job>) {
        let current = tracing::Span::current();
        if !current.is_disabled() {
            let cx = current.context();
            let mut origins = lock(&self.inner.origins);
            for job in &jobs {
                origins.insert(job.delivery_id.clone(), cx.clone());
            }
        }
        self.admit(jobs);
    }

    /// The trace a delivery's attempt joins, once.
    fn origin(&self, id: &DeliveryId) -> Option<opentelemetry::Context> {
        lock(&self.inner.origins).remove(id)
    }

    /// Takes deliveries into memory, ignoring those already held under the same lease. One
    /// held under an older lease (claimed again after that one lapsed) is queued again under
    /// the new one; the copy of the old lease is sent no more (see `fence`).
    fn admit(&self, jobs: Vec<Job>) {
        let mut fresh = Vec::with_capacity(jobs.len());
        {
            let mut owned = lock(&self.inner.owned);
            for job in jobs {
                if owned.take(&HeldLease::of(&job), &job.endpoint_id) {
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

    /// A delivery leaves memory, unless memory holds it under another lease than `lease`.
    fn release(&self, lease: &HeldLease) {
        lock(&self.inner.origins).remove(&lease.id);
        let released = {
            let mut owned = lock(&self.inner.owned);
            let released = owned.release(lease);
            metrics::gauge!("herald_dispatch_in_memory").set(owned.len() as f64);
            released
        };
        if released.wake {
            self.wake();
        }
    }

    /// Marks the endpoints a claim filled as having more in the store (see
    /// [`share::Holdings::more_waiting`]). Not a backed-off one: its one probe fills its room
    /// of one, and what it has in the store waits for the breaker to close, which wakes the
    /// poller itself.
    fn more_waiting(&self, endpoints: &[EndpointId]) {
        let endpoints: Vec<&EndpointId> = {
            let backed_off = lock(&self.inner.backed_off);
            endpoints
                .iter()
                .filter(|ep| !backed_off.contains(*ep))
                .collect()
        };
        let mut owned = lock(&self.inner.owned);
        let mut wake = false;
        for ep in endpoints {
            wake |= owned.more_waiting(ep).wake;
        }
        drop(owned);
        if wake {
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
}
