//! How a job leaves a worker other than with its outcome written: back to the store unsent
//! (its room has an earlier delivery pending elsewhere, or its lease was lost), or back in
//! its line to go again later (a retry kept in memory, a room held while the store cannot
//! tell whether it may go).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::ordering::{self, Check, Next, Settled};
use super::queue::EndpointQueue;
use super::{lock, Dispatcher};
use crate::domain::Trigger;
use crate::store::{HeldLease, Job};

/// The longest wait between two tries to give a delivery back to a store that refused it.
const GIVE_BACK_WAIT_MAX: Duration = Duration::from_secs(5);

/// How long a room waits to ask the store again when it could not tell whether an earlier
/// delivery of the room is still pending.
const HOLD_ON_ERROR: chrono::Duration = chrono::Duration::seconds(1);

impl Dispatcher {
    /// Gives a delivery this process holds back to the store, unsent: claimable again by
    /// any process. A shared store keeps a holder's lease for as long as the holder lives,
    /// so a give-back the store refused (the database restarting, a full disk) is tried
    /// again until it is taken, in the background; never assumed to end on its own. A
    /// lease that changed hands meanwhile is left alone by the store.
    pub(super) async fn give_back(&self, lease: HeldLease) {
        let Err(e) = self.inner.store.release(&lease).await else {
            return;
        };
        tracing::warn!(delivery = %lease.id, error = %e.chain(), "cannot hand a delivery back yet; trying again");
        let d = self.clone();
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(200);
            // A stopping process gives back everything it holds at once.
            while !d.stopping() {
                tokio::time::sleep(wait).await;
                if d.inner.store.release(&lease).await.is_ok() {
                    return tracing::info!(delivery = %lease.id, "handed a delivery back");
                }
                wait = (wait * 2).min(GIVE_BACK_WAIT_MAX);
            }
        });
    }
}

impl EndpointQueue {
    /// A fresh ordered job whose key has an earlier delivery pending outside memory (after a
    /// restart, or one waiting in the store) goes back to the store with every later job of
    /// its key; the poller brings them back one at a time, in order. When the store cannot
    /// tell, the room is held and asks again shortly: it never sends on a guess.
    pub(super) async fn wait_for_earlier(
        self: &Arc<Self>,
        dispatcher: &Dispatcher,
        job: &Job,
    ) -> bool {
        let answer = dispatcher.inner.store.blocked(job).await;
        if let Err(e) = &answer {
            tracing::warn!(delivery = %job.delivery_id, error = %e.chain(), "cannot tell whether an earlier delivery of the room is pending; holding the room");
        }
        match ordering::check(answer) {
            Check::Send => return false,
            Check::Overtaking => self.hand_back(dispatcher, job).await,
            Check::Hold => self.back_later(dispatcher, job.clone(), Utc::now() + HOLD_ON_ERROR),
        }
        true
    }

    /// Gives `job` back to the store unsent, claimable at its scheduled time; an ordered
    /// job takes every later job of its room with it, so the room comes back in order. Also
    /// how a job whose lease was lost leaves memory: its room's later jobs must not go
    /// before it, wherever it is now.
    pub(super) async fn hand_back(&self, dispatcher: &Dispatcher, job: &Job) {
        let later = match &job.ordering_key {
            None => Vec::new(),
            Some(key) => match lock(&self.state)
                .rooms
                .settle(key.as_str(), Settled::Overtaking)
            {
                Next::HandBack(later) => later,
                _ => Vec::new(),
            },
        };
        let leases = std::iter::once(HeldLease::of(job)).chain(later.iter().map(HeldLease::of));
        for lease in leases {
            // Not one memory no longer holds under this lease: it is not this process's to
            // give back.
            let held = lock(&dispatcher.inner.owned).holds(&lease);
            if held {
                dispatcher.give_back(lease.clone()).await;
            }
            dispatcher.release(&lease);
        }
    }

    /// A job to retry stays in memory, leased: an ordered one at the head of its key's line,
    /// so nothing later in that room overtakes it; an unordered one (due at once) at the end
    /// of the endpoint's line.
    pub(super) fn retry_in_place(
        self: &Arc<Self>,
        dispatcher: &Dispatcher,
        mut job: Job,
        at: chrono::DateTime<Utc>,
    ) {
        job.attempt_count += 1;
        job.trigger = Trigger::Scheduled;
        self.back_later(dispatcher, job, at);
    }

    /// Puts a job back in its line at `at` (an ordered one at the head of its room, which
    /// stays busy until then).
    pub(super) fn back_later(
        self: &Arc<Self>,
        dispatcher: &Dispatcher,
        job: Job,
        at: chrono::DateTime<Utc>,
    ) {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        let (queue, dispatcher) = (Arc::clone(self), dispatcher.clone());
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            lock(&queue.state).add(job, true);
            queue.spawn_workers(&dispatcher);
        });
    }
}
