//! The store's three parts, each a trait both backends implement: tenants and their
//! configuration, the event log, and the delivery queue. A caller names the part it needs;
//! `Store` is all three.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::ledger::{Ledger, Subject};
use super::poll::{Poll, Polled};
use super::{
    ApiKey, AttemptOutcome, Claim, CustomEventType, DeliveryQuery, EventQuery, Exclusive,
    HealthChange, HealthUpdate, HeldLease, Job, Lease, Page, Published, Purge, Purged, Recovery,
    Resend, RoomPage, StoreResult,
};
#[cfg(doc)]
use crate::domain::Health;
use crate::domain::{
    App, AppId, Attempt, Delivery, DeliveryId, Endpoint, EndpointId, Event, EventId, KeyId,
};

/// Apps, their keys, event types and endpoints, and the few values and locks the processes
/// sharing a database agree on.
#[async_trait]
pub trait Tenants: Send + Sync {
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` under `key` unless a value is already there, and answers the stored
    /// value: of several processes initialising one key at once, the first one wins.
    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Stores `value` under `key`, replacing what was there.
    async fn meta_put(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Waits until no other process on this database holds the lock named `name`, then
    /// holds it until the answer is dropped (or the process dies). For start-up work that
    /// two processes starting together must not both do, such as creating static endpoints.
    async fn exclusive(&self, name: &str) -> StoreResult<Exclusive>;

    async fn create_app(&self, app: &App) -> StoreResult<()>;
    async fn get_app(&self, id: &AppId) -> StoreResult<Option<App>>;
    async fn list_apps(&self, page: &Page) -> StoreResult<Vec<App>>;
    async fn update_app(&self, app: &App) -> StoreResult<()>;
    /// Deletes the app and everything it owns.
    async fn delete_app(&self, id: &AppId) -> StoreResult<bool>;

    async fn create_key(&self, key: &ApiKey) -> StoreResult<()>;
    async fn find_key(&self, token_hash: &str) -> StoreResult<Option<ApiKey>>;
    /// The app's keys (their hashes, never their tokens), oldest first.
    async fn list_keys(&self, app: &AppId) -> StoreResult<Vec<ApiKey>>;
    async fn delete_key(&self, app: &AppId, id: &KeyId) -> StoreResult<bool>;

    async fn create_event_type(&self, app: &AppId, def: &CustomEventType) -> StoreResult<()>;
    async fn list_event_types(&self, app: &AppId) -> StoreResult<Vec<CustomEventType>>;

    async fn create_endpoint(&self, ep: &Endpoint) -> StoreResult<()>;
    async fn get_endpoint(&self, id: &EndpointId) -> StoreResult<Option<Endpoint>>;
    async fn list_endpoints(&self, app: &AppId, page: &Page) -> StoreResult<Vec<Endpoint>>;
    async fn update_endpoint(&self, ep: &Endpoint) -> StoreResult<()>;
    async fn delete_endpoint(&self, id: &EndpointId) -> StoreResult<bool>;

    /// Answers when the database does (for readiness).
    async fn ping(&self) -> StoreResult<()>;
}

/// What was published and what became of it: events, their deliveries and every attempt,
/// for the API to show. Publishing writes an event and its fan-out in one transaction.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Writes events of one app and their fan-out atomically: all of `events` or none. The
    /// deliveries `lease` covers are created leased to this process, for the in-memory fast
    /// path.
    async fn publish(&self, events: Vec<Event>, lease: &Lease) -> StoreResult<Vec<Published>>;
    async fn get_event(&self, app: &AppId, id: &EventId) -> StoreResult<Option<Event>>;
    async fn list_events(&self, app: &AppId, q: &EventQuery) -> StoreResult<Vec<Event>>;
    /// A room's events by sequence, for receivers healing their gaps.
    async fn room_events(&self, app: &AppId, room: &RoomPage) -> StoreResult<Vec<Event>>;
    /// A room's or a bot's ledger; `None` when it has no events.
    async fn ledger(&self, app: &AppId, subject: &Subject) -> StoreResult<Option<Ledger>>;
    /// The rooms whose last event is the newest, newest first.
    async fn recent_rooms(&self, app: &AppId, limit: u32) -> StoreResult<Vec<String>>;

    async fn list_deliveries(&self, app: &AppId, q: &DeliveryQuery) -> StoreResult<Vec<Delivery>>;
    async fn get_delivery(
        &self,
        app: &AppId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>>;

    /// Carries out one batch of `purge`, atomically: an event goes with all its deliveries
    /// and their attempts, and never while one of its deliveries is pending.
    async fn purge(&self, purge: &Purge) -> StoreResult<Purged>;
}

/// The deliveries waiting to be attempted, and the leases that keep two dispatchers from
/// sending the same one.
///
/// The lease protocol:
/// - A dispatcher takes a pending delivery into memory only under a lease: created leased by
///   `publish` (see [`Lease`]), or taken by `claim_due` (due, unleased, and for an ordered
///   delivery the head of its room by `seq`). A leased delivery is not claimable by anyone
///   until the lease ends.
/// - The holder renews its leases (`renew_leases`) while it lives, gives back what it will
///   not send (`release`, at its scheduled time), and ends a lease by writing the outcome
///   (`record_attempts`), which may keep it leased for an ordered retry held in memory.
/// - Leases are fenced: each has an epoch ([`HeldLease`]), and a release, renewal or outcome
///   that presents an epoch other than the delivery's current one changes nothing.
/// - A lease that is not renewed expires; any dispatcher may then claim the delivery again
///   (take-over). On a single-owner store every lease left at start is from a previous run
///   and is released (`release_leases`).
/// - What a lease guarantees: while it lasts, no other dispatcher claims the delivery. What
///   it does not: that the holder is alive, or that a request it started did not reach the
///   receiver before it died; a taken-over delivery may be sent twice, which receivers
///   de-duplicate by the delivery id. Delivery is at least once. What fencing adds: a holder
///   that resumes after losing its lease cannot undo what the new holder wrote.
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Carries out `resend`; answers the delivery's job, or `None` when the app has no such
    /// delivery.
    async fn resend(&self, resend: &Resend) -> StoreResult<Option<Job>>;
    /// Re-queues what `scope` names; answers how many deliveries it re-queued.
    async fn recover(&self, scope: &Recovery) -> StoreResult<u64>;

    /// Leases pending, unleased deliveries due at `claim.now` until `claim.until`: of each
    /// endpoint at most its room in `claim` (earliest due first, a room's head only),
    /// `claim.limit` in all. Disabled endpoints, and endpoints whose health holds their
    /// deliveries back at `claim.now` ([`Health::paused_until`]), are skipped.
    async fn claim_due(&self, claim: &Claim) -> StoreResult<Vec<Job>>;
    /// Whether an earlier delivery with the job's ordering key is still pending (the job
    /// must wait for it).
    async fn blocked(&self, job: &Job) -> StoreResult<bool>;
    /// Gives a delivery held in memory back to the store, claimable at its scheduled time;
    /// nothing when `lease` is no longer the delivery's.
    async fn release(&self, lease: &HeldLease) -> StoreResult<()>;
    /// Run at start: a store with a single owner (SQLite) releases every lease, since any
    /// lease left is from a previous run; a shared store keeps them, as other processes may
    /// be alive, and leaves them to expire.
    async fn release_leases(&self) -> StoreResult<u64>;
    /// Run at a graceful stop: gives back what this process still holds, so that other
    /// processes (or the next run) take it at once rather than when its lease ends.
    async fn release_own_leases(&self) -> StoreResult<u64>;
    /// Extends this process's leases `held` (deliveries it holds in memory) to `until`, and
    /// answers the deliveries among them that are under another lease now: taken over while
    /// this process was not renewing (and perhaps delivered since by their new holder), they
    /// are no longer its to send. One whose outcome this process wrote meanwhile is not
    /// among them. A shared store may renew all of a process's leases at once.
    async fn renew_leases(
        &self,
        held: &[HeldLease],
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<DeliveryId>>;
    /// Fires when another process left claimable work in a shared store (PostgreSQL
    /// `LISTEN/NOTIFY`); `None` when only this process writes.
    fn work_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
    /// Writes each outcome's attempt and, when its lease is still the delivery's and the
    /// delivery pending, the delivery's new state. Answers the deliveries whose outcome came
    /// under a lapsed lease: their attempt is logged as such (the request did go out), and
    /// nothing else changed.
    async fn record_attempts(&self, outcomes: Vec<AttemptOutcome>) -> StoreResult<Vec<DeliveryId>>;
    /// Applies `change` to the endpoint's health in one transaction (see [`HealthChange`]);
    /// while the new health is open, no delivery of the endpoint is claimed. `None` when the
    /// endpoint is gone.
    async fn update_health(
        &self,
        id: &EndpointId,
        change: HealthChange,
    ) -> StoreResult<Option<HealthUpdate>>;
    /// Counts of pending deliveries (for readiness and metrics).
    async fn pending_count(&self) -> StoreResult<u64>;
    /// Serves a polling endpoint's consumer (see [`super::poll`]): acknowledges the items up
    /// to its cursor, numbers what is new, and answers the items after the cursor.
    async fn poll(&self, poll: &Poll) -> StoreResult<Polled>;
}
