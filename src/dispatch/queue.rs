//! One queue per endpoint, drained by at most `max_in_flight` workers (fewer while its
//! window is small, see `window`).
//!
//! Workers exist only while the queue has work, so an idle endpoint costs nothing, and a
//! hanging endpoint ties up its own workers and nobody else's. For endpoints ordered per
//! room, jobs wait in one line per ordering key: a key has at most one job in flight or
//! waiting to retry, so its events arrive in publish order while other keys proceed.

use std::sync::Arc;

use chrono::Utc;

use super::breaker::{self, Admit};
use super::lines::State;
use super::ordering::{Next, Settled};
use super::{attempt, lock, outcome, Dispatcher};
use crate::domain::{DeliveryStatus, Endpoint, EndpointId};
use crate::store::{AttemptOutcome, HeldLease, Job};

/// An attempt's outcome, and the endpoint it was sent to (none when it was not sent).
type Sent = (AttemptOutcome, Option<Arc<Endpoint>>);

/// An unordered retry due within this is sent again from memory rather than from the store.
const RETRY_IN_MEMORY: chrono::Duration = chrono::Duration::milliseconds(50);

pub struct EndpointQueue {
    pub(super) id: EndpointId,
    pub(super) state: std::sync::Mutex<State>,
}

impl EndpointQueue {
    pub fn new(id: EndpointId) -> Self {
        Self {
            id,
            state: Default::default(),
        }
    }

    pub fn push(self: &Arc<Self>, dispatcher: &Dispatcher, job: Job) {
        lock(&self.state).add(job, false);
        self.spawn_workers(dispatcher);
    }

    /// Starts workers while there is runnable work and room under `max_in_flight` (one
    /// worker until the settings are known).
    pub(super) fn spawn_workers(self: &Arc<Self>, dispatcher: &Dispatcher) {
        let mut state = lock(&self.state);
        let limit = state
            .endpoint
            .as_ref()
            .map_or(1, |(ep, _)| state.window.limit(ep.max_in_flight as usize));
        while state.workers < limit && state.workers < state.runnable() {
            state.workers += 1;
            let (queue, dispatcher) = (Arc::clone(self), dispatcher.clone());
            tokio::spawn(async move { queue.work(dispatcher).await });
        }
    }

    async fn work(self: Arc<Self>, dispatcher: Dispatcher) {
        loop {
            let (job, in_progress) = {
                let mut state = lock(&self.state);
                match state.take().filter(|_| !dispatcher.stopping()) {
                    Some(job) => (job, attempt::InProgress::start(&dispatcher.inner.active)),
                    None => {
                        state.workers -= 1;
                        return;
                    }
                }
            };
            let endpoint = self.settings(&dispatcher).await;
            self.spawn_workers(&dispatcher);
            if job.expired(Utc::now()) {
                // Not worth sending any more, and it must not hold its room: it ends here.
                let result = (outcome::expired(&job), None);
                self.finish(&dispatcher, job, result, in_progress).await;
                continue;
            }
            if job.ordering_key.is_some()
                && job.attempt_count == 0
                && self.wait_for_earlier(&dispatcher, &job).await
            {
                continue;
            }
            let admit = match &endpoint {
                Ok(Some(ep)) => self.admit(&dispatcher, ep).await,
                Ok(None) => Admit::Abandon,
                Err(()) => Admit::HandBack,
            };
            let result = match (admit, endpoint) {
                (Admit::Send, Ok(Some(ep))) => {
                    self.throttle().await;
                    if !dispatcher.may_send(&job).await {
                        self.hand_back(&dispatcher, &job).await;
                        continue;
                    }
                    (attempt::send(&dispatcher, &ep, &job).await, Some(ep))
                }
                (Admit::HandBack, _) => {
                    self.hand_back(&dispatcher, &job).await;
                    continue;
                }
                _ => (outcome::abandoned(&job), None),
            };
            self.finish(&dispatcher, job, result, in_progress).await;
        }
    }

    async fn finish(
        self: &Arc<Self>,
        dispatcher: &Dispatcher,
        job: Job,
        result: Sent,
        in_progress: attempt::InProgress,
    ) {
        match job.ordering_key.clone() {
            None => {
                self.finish_unordered(dispatcher, job, result, in_progress)
                    .await
            }
            Some(key) => {
                self.finish_ordered(dispatcher, job, key.as_str(), result, in_progress)
                    .await
            }
        }
    }

    /// Unordered: the receiver's slot is free once it answered; the write-back goes on beside
    /// the next request, so the store's commit latency does not cap what one endpoint
    /// receives. A retry due at once stays in memory, leased, and goes again when its
    /// outcome is written: handed to the store, it would cost a claim that visits every
    /// endpoint to find that one delivery.
    async fn finish_unordered(
        self: &Arc<Self>,
        dispatcher: &Dispatcher,
        job: Job,
        (mut result, endpoint): Sent,
        in_progress: attempt::InProgress,
    ) {
        // Not while stopping: the shutdown hands every lease back, and a lease kept by a
        // write landing after that would hold the delivery until the next start.
        let again = retry_at(&result)
            .filter(|at| *at <= Utc::now() + RETRY_IN_MEMORY && !dispatcher.stopping());
        if again.is_some() {
            result.lease_until = Some(dispatcher.lease_until());
        }
        let background = self.start_writing(endpoint.as_deref());
        let (queue, dispatcher) = (Arc::clone(self), dispatcher.clone());
        let write = async move {
            let _in_progress = in_progress;
            let applied = queue.record(&dispatcher, &job, &result, endpoint).await;
            match again.filter(|_| applied) {
                Some(at) => queue.retry_in_place(&dispatcher, job, at),
                None => dispatcher.release(&HeldLease::of(&job)),
            }
            if background {
                lock(&queue.state).writing -= 1;
            }
        };
        if background {
            tokio::spawn(write);
        } else {
            write.await;
        }
    }

    /// Writes the outcome back, then counts it on the endpoint's health; answers whether it
    /// changed the delivery (not when it came under a lapsed lease).
    async fn record(
        &self,
        dispatcher: &Dispatcher,
        job: &Job,
        result: &AttemptOutcome,
        endpoint: Option<Arc<Endpoint>>,
    ) -> bool {
        let applied = attempt::record(dispatcher, job, result).await;
        if let (Some(ep), Some(failure)) = (&endpoint, breaker::counted(result)) {
            let mut state = lock(&self.state);
            match failure {
                None => state.window.succeeded(ep.max_in_flight as usize),
                Some(_) => state.window.failed(),
            }
        }
        if let Some(ep) = endpoint {
            self.fold(dispatcher, &ep, job, result).await;
        }
        applied
    }

    /// Ordered: the outcome is written before the room moves on; a retry stays at the head
    /// of its room.
    async fn finish_ordered(
        self: &Arc<Self>,
        dispatcher: &Dispatcher,
        job: Job,
        key: &str,
        (mut result, endpoint): Sent,
        in_progress: attempt::InProgress,
    ) {
        if result.status == DeliveryStatus::Pending {
            // Retried in place: the lease must outlive the wait.
            result.lease_until = Some(dispatcher.lease_until());
        }
        let applied = self.record(dispatcher, &job, &result, endpoint).await;
        drop(in_progress);
        if !applied {
            // Another process holds the delivery now: the room's later jobs go back.
            return self.hand_back(dispatcher, &job).await;
        }
        if let Some(at) = retry_at(&result) {
            return self.retry_in_place(dispatcher, job, at);
        }
        let how = match result.status {
            DeliveryStatus::Succeeded => Settled::Succeeded,
            _ => Settled::Failed,
        };
        let drained = matches!(lock(&self.state).rooms.settle(key, how), Next::Drained);
        dispatcher.release(&HeldLease::of(&job));
        if drained {
            // The room's next delivery may be waiting in the store (this endpoint's share
            // was full when it was published): claim it now rather than at the next poll.
            dispatcher.wake();
        }
    }

    /// Counts one more write in the background, unless `max_in_flight` are already.
    fn start_writing(&self, endpoint: Option<&Endpoint>) -> bool {
        let limit = endpoint.map_or(1, |ep| ep.max_in_flight.max(1) as usize);
        let mut state = lock(&self.state);
        let room = state.writing < limit;
        state.writing += usize::from(room);
        room
    }
}

fn retry_at(result: &AttemptOutcome) -> Option<chrono::DateTime<Utc>> {
    result
        .next_attempt_at
        .filter(|_| result.status == DeliveryStatus::Pending)
}
