//! [`Store`] for [`SqliteStore`]: writes go through the group-commit writer, reads to the pool.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{claims, deliveries, events, health, ledger, polling, purge, tenants, SqliteStore};
use crate::domain::{
    App, AppId, Attempt, Delivery, DeliveryId, Endpoint, EndpointId, Event, EventId, KeyId,
};
use crate::store::ledger::{Ledger, Subject};
use crate::store::poll::{Poll, Polled};
use crate::store::{
    app_of, ApiKey, AttemptOutcome, Claim, CustomEventType, DeliveryQuery, DeliveryQueue, EventLog,
    EventQuery, Exclusive, HealthChange, HealthUpdate, HeldLease, Job, Lease, Page, Published,
    Purge, Purged, Recovery, Resend, RoomPage, StoreResult, Tenants,
};

/// Most leases renewed in one write: a few milliseconds of the writer, so that a renewal of
/// thousands of leases (hanging endpoints hold their share in memory) does not hold the
/// publishes queued behind it.
const RENEW_BATCH: usize = 250;

#[async_trait]
impl Tenants for SqliteStore {
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_owned();
        self.read(move |c| tenants::meta_get(c, &key)).await
    }
    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |c| tenants::meta_init(c, &key, &value))
            .await
    }
    async fn meta_put(&self, key: &str, value: &str) -> StoreResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |c| tenants::meta_put(c, &key, &value))
            .await
    }
    async fn exclusive(&self, _name: &str) -> StoreResult<Exclusive> {
        // One process owns a SQLite file (its writer thread serialises every write), and
        // start-up runs once per process, so there is nobody to exclude.
        Ok(Box::new(()))
    }

    async fn create_app(&self, app: &App) -> StoreResult<()> {
        let app = app.clone();
        self.write(move |c| tenants::insert_app(c, &app)).await
    }
    async fn get_app(&self, id: &AppId) -> StoreResult<Option<App>> {
        let id = id.clone();
        self.read(move |c| tenants::get_app(c, &id)).await
    }
    async fn list_apps(&self, page: &Page) -> StoreResult<Vec<App>> {
        let page = page.clone();
        self.read(move |c| tenants::list_apps(c, &page)).await
    }
    async fn update_app(&self, app: &App) -> StoreResult<()> {
        let app = app.clone();
        self.write(move |c| tenants::update_app(c, &app)).await
    }
    async fn delete_app(&self, id: &AppId) -> StoreResult<bool> {
        let (id, fanout) = (id.clone(), self.fanout.clone());
        self.write(move |c| {
            fanout.forget(&id);
            tenants::delete_app(c, &id)
        })
        .await
    }

    async fn create_key(&self, key: &ApiKey) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |c| tenants::insert_key(c, &key)).await
    }
    async fn find_key(&self, token_hash: &str) -> StoreResult<Option<ApiKey>> {
        let hash = token_hash.to_owned();
        self.read(move |c| tenants::find_key(c, &hash)).await
    }
    async fn list_keys(&self, app: &AppId) -> StoreResult<Vec<ApiKey>> {
        let app = app.clone();
        self.read(move |c| tenants::list_keys(c, &app)).await
    }
    async fn delete_key(&self, app: &AppId, id: &KeyId) -> StoreResult<bool> {
        let (app, id) = (app.clone(), id.clone());
        self.write(move |c| tenants::delete_key(c, &app, &id)).await
    }

    async fn create_event_type(&self, app: &AppId, def: &CustomEventType) -> StoreResult<()> {
        let (app, def) = (app.clone(), def.clone());
        self.write(move |c| tenants::insert_event_type(c, &app, &def))
            .await
    }
    async fn list_event_types(&self, app: &AppId) -> StoreResult<Vec<CustomEventType>> {
        let app = app.clone();
        self.read(move |c| tenants::list_event_types(c, &app)).await
    }

    async fn create_endpoint(&self, ep: &Endpoint) -> StoreResult<()> {
        let (ep, fanout) = (ep.clone(), self.fanout.clone());
        self.write(move |c| {
            fanout.forget(&ep.app_id);
            tenants::insert_endpoint(c, &ep)
        })
        .await
    }
    async fn get_endpoint(&self, id: &EndpointId) -> StoreResult<Option<Endpoint>> {
        let id = id.clone();
        self.read(move |c| tenants::get_endpoint(c, &id)).await
    }
    async fn list_endpoints(&self, app: &AppId, page: &Page) -> StoreResult<Vec<Endpoint>> {
        let (app, page) = (app.clone(), page.clone());
        self.read(move |c| tenants::list_endpoints(c, &app, &page))
            .await
    }
    async fn update_endpoint(&self, ep: &Endpoint) -> StoreResult<()> {
        let (ep, fanout) = (ep.clone(), self.fanout.clone());
        self.write(move |c| {
            fanout.forget(&ep.app_id);
            tenants::update_endpoint(c, &ep)
        })
        .await
    }
    async fn delete_endpoint(&self, id: &EndpointId) -> StoreResult<bool> {
        let (id, fanout) = (id.clone(), self.fanout.clone());
        self.write(move |c| {
            fanout.clear();
            tenants::delete_endpoint(c, &id)
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn publish(&self, evts: Vec<Event>, lease: &Lease) -> StoreResult<Vec<Published>> {
        let Some(app) = app_of(&evts)? else {
            return Ok(Vec::new());
        };
        let (fanout, owner) = (self.fanout.clone(), self.owner.clone());
        let (lease, seq) = (lease.clone(), Arc::clone(&self.seq));
        self.write(move |c| events::publish(c, &app, &evts, &lease, &owner, &fanout, &seq))
            .await
    }
    async fn get_event(&self, app: &AppId, id: &EventId) -> StoreResult<Option<Event>> {
        let (app, id) = (app.clone(), id.clone());
        self.read(move |c| events::get_event(c, &app, &id)).await
    }
    async fn ledger(&self, app: &AppId, subject: &Subject) -> StoreResult<Option<Ledger>> {
        let (app, subject) = (app.clone(), subject.clone());
        self.read(move |c| ledger::ledger(c, &app, &subject)).await
    }
    async fn recent_rooms(&self, app: &AppId, limit: u32) -> StoreResult<Vec<String>> {
        let app = app.clone();
        self.read(move |c| ledger::recent_rooms(c, &app, limit))
            .await
    }
    async fn room_events(&self, app: &AppId, room: &RoomPage) -> StoreResult<Vec<Event>> {
        let (app, room) = (app.clone(), room.clone());
        self.read(move |c| events::room_events(c, &app, &room))
            .await
    }
    async fn list_events(&self, app: &AppId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let (app, q) = (app.clone(), q.clone());
        self.read(move |c| events::list_events(c, &app, &q)).await
    }

    async fn list_deliveries(&self, app: &AppId, q: &DeliveryQuery) -> StoreResult<Vec<Delivery>> {
        let (app, q) = (app.clone(), q.clone());
        self.read(move |c| deliveries::list(c, &app, &q)).await
    }
    async fn get_delivery(
        &self,
        app: &AppId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
        let (app, id) = (app.clone(), id.clone());
        self.read(move |c| deliveries::get(c, &app, &id)).await
    }
    async fn purge(&self, p: &Purge) -> StoreResult<Purged> {
        let p = p.clone();
        self.write_soon(move |c| purge::purge(c, &p)).await
    }
}

#[async_trait]
impl DeliveryQueue for SqliteStore {
    async fn resend(&self, resend: &Resend) -> StoreResult<Option<Job>> {
        let (resend, owner) = (resend.clone(), self.owner.clone());
        self.write(move |c| deliveries::resend(c, &resend, &owner))
            .await
    }
    async fn recover(&self, scope: &Recovery) -> StoreResult<u64> {
        let scope = scope.clone();
        self.write(move |c| deliveries::recover(c, &scope)).await
    }

    async fn claim_due(&self, claim: &Claim) -> StoreResult<Vec<Job>> {
        let (owner, claim) = (self.owner.clone(), claim.clone());
        self.write_soon(move |c| claims::claim_due(c, &claim, &owner))
            .await
    }
    async fn blocked(&self, job: &Job) -> StoreResult<bool> {
        let job = job.clone();
        self.read(move |c| claims::blocked(c, &job)).await
    }
    async fn release(&self, lease: &HeldLease) -> StoreResult<()> {
        let lease = lease.clone();
        self.write_soon(move |c| claims::release(c, &lease)).await
    }
    async fn release_leases(&self) -> StoreResult<u64> {
        self.write(claims::release_leases).await
    }
    /// One process owns the file: all leases are this process's.
    async fn release_own_leases(&self) -> StoreResult<u64> {
        self.write(claims::release_leases).await
    }
    async fn renew_leases(
        &self,
        held: &[HeldLease],
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<DeliveryId>> {
        let mut lost = Vec::new();
        for chunk in held.chunks(RENEW_BATCH) {
            let (chunk, owner) = (chunk.to_vec(), self.owner.clone());
            let write = move |c: &_| claims::renew_leases(c, &chunk, until, &owner);
            lost.extend(self.write_soon(write).await?);
        }
        Ok(lost)
    }
    async fn record_attempts(&self, outcomes: Vec<AttemptOutcome>) -> StoreResult<Vec<DeliveryId>> {
        let (fanout, owner) = (self.fanout.clone(), self.owner.clone());
        self.write_soon(move |c| {
            if outcomes.iter().any(|o| o.disable_endpoint.is_some()) {
                fanout.clear();
            }
            deliveries::record(c, &outcomes, &owner)
        })
        .await
    }
    async fn pending_count(&self) -> StoreResult<u64> {
        self.read(deliveries::pending_count).await
    }
    async fn poll(&self, poll: &Poll) -> StoreResult<Polled> {
        let poll = poll.clone();
        self.write(move |c| polling::poll(c, &poll)).await
    }
    async fn update_health(
        &self,
        id: &EndpointId,
        change: HealthChange,
    ) -> StoreResult<Option<HealthUpdate>> {
        let (id, fanout) = (id.clone(), self.fanout.clone());
        self.write_soon(move |c| {
            let update = health::update_health(c, &id, &change)?;
            if let Some(u) = update.as_ref().filter(|u| u.disabled) {
                fanout.forget(&u.endpoint.app_id);
            }
            Ok(update)
        })
        .await
    }
}
