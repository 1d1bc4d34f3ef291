//! A store whose secrets are sealed at rest (see `seal`): it hands every call to the store
//! under it, sealing endpoint and ingest secrets, and the shared values named in
//! [`SECRET_META`], on their way in and opening them on their way out. Both backends get it
//! alike, and neither knows of it.
//!
//! Secrets are opened only where a caller reads an app or an endpoint. What the backends
//! read for themselves (fan-out, a 410's disable, a health change) round-trips the sealed
//! value untouched.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::ledger::{Ledger, Subject};
use super::poll::{Poll, Polled};
use super::seal::Sealer;
use super::{
    ApiKey, AttemptOutcome, Claim, CustomEventType, DeliveryQuery, DeliveryQueue, EventLog,
    EventQuery, Exclusive, HealthChange, HealthUpdate, HeldLease, Job, Lease, Page, Published,
    Purge, Purged, Recovery, Resend, RoomPage, Store, StoreResult, Tenants,
};
use crate::domain::{
    App, AppId, Attempt, Delivery, DeliveryId, Endpoint, EndpointId, EndpointSecret, Event,
    EventId, KeyId,
};

/// The shared values (`meta_*`) that are secrets: the key portal links are signed with.
/// Sealed like endpoint secrets, and moved to a new key by `herald rekey`.
pub const SECRET_META: &[&str] = &[PORTAL_SIGNING_KEY];

/// The key under which the nodes share the portal links' signing key.
pub const PORTAL_SIGNING_KEY: &str = "portal_signing_key";

pub struct Sealed {
    inner: Arc<dyn Store>,
    sealer: Sealer,
}

impl Sealed {
    pub fn new(inner: Arc<dyn Store>, sealer: Sealer) -> Self {
        Self { inner, sealer }
    }

    fn seal_endpoint(&self, ep: &Endpoint) -> Endpoint {
        let mut ep = ep.clone();
        ep.secret = EndpointSecret::from_trusted(self.sealer.seal(ep.secret.expose()));
        if let Some((old, until)) = &ep.previous_secret {
            let old = EndpointSecret::from_trusted(self.sealer.seal(old.expose()));
            ep.previous_secret = Some((old, *until));
        }
        ep
    }

    pub(crate) fn open_endpoint(&self, mut ep: Endpoint) -> StoreResult<Endpoint> {
        ep.secret = EndpointSecret::from_trusted(self.sealer.open(ep.secret.expose())?);
        if let Some((old, until)) = ep.previous_secret.take() {
            let old = EndpointSecret::from_trusted(self.sealer.open(old.expose())?);
            ep.previous_secret = Some((old, until));
        }
        Ok(ep)
    }

    fn seal_app(&self, app: &App) -> App {
        let mut app = app.clone();
        if let Some(lk) = &mut app.ingest.livekit {
            lk.api_secret = self.sealer.seal(&lk.api_secret);
        }
        app
    }

    fn seal_meta(&self, key: &str, value: &str) -> String {
        match SECRET_META.contains(&key) {
            true => self.sealer.seal(value),
            false => value.to_owned(),
        }
    }

    fn open_meta(&self, key: &str, value: String) -> StoreResult<String> {
        match SECRET_META.contains(&key) {
            true => self.sealer.open(&value),
            false => Ok(value),
        }
    }

    pub(crate) fn open_app(&self, mut app: App) -> StoreResult<App> {
        if let Some(lk) = &mut app.ingest.livekit {
            lk.api_secret = self.sealer.open(&lk.api_secret)?;
        }
        Ok(app)
    }
}

#[async_trait]
impl Tenants for Sealed {
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>> {
        let value = self.inner.meta_get(key).await?;
        value.map(|v| self.open_meta(key, v)).transpose()
    }
    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String> {
        let stored = self
            .inner
            .meta_init(key, &self.seal_meta(key, value))
            .await?;
        self.open_meta(key, stored)
    }
    async fn meta_put(&self, key: &str, value: &str) -> StoreResult<()> {
        self.inner.meta_put(key, &self.seal_meta(key, value)).await
    }
    async fn exclusive(&self, name: &str) -> StoreResult<Exclusive> {
        self.inner.exclusive(name).await
    }
    async fn create_app(&self, app: &App) -> StoreResult<()> {
        self.inner.create_app(&self.seal_app(app)).await
    }
    async fn get_app(&self, id: &AppId) -> StoreResult<Option<App>> {
        let app = self.inner.get_app(id).await?;
        app.map(|a| self.open_app(a)).transpose()
    }
    async fn list_apps(&self, page: &Page) -> StoreResult<Vec<App>> {
        let apps = self.inner.list_apps(page).await?;
        apps.into_iter().map(|a| self.open_app(a)).collect()
    }
    async fn update_app(&self, app: &App) -> StoreResult<()> {
        self.inner.update_app(&self.seal_app(app)).await
    }
    async fn delete_app(&self, id: &AppId) -> StoreResult<bool> {
        self.inner.delete_app(id).await
    }
    async fn create_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.inner.create_key(key).await
    }
    async fn find_key(&self, token_hash: &str) -> StoreResult<Option<ApiKey>> {
        self.inner.find_key(token_hash).await
    }
    async fn list_keys(&self, app: &AppId) -> StoreResult<Vec<ApiKey>> {
        self.inner.list_keys(app).await
    }
    async fn delete_key(&self, app: &AppId, id: &KeyId) -> StoreResult<bool> {
        self.inner.delete_key(app, id).await
    }
    async fn create_event_type(&self, app: &AppId, def: &CustomEventType) -> StoreResult<()> {
        self.inner.create_event_type(app, def).await
    }
    async fn list_event_types(&self, app: &AppId) -> StoreResult<Vec<CustomEventType>> {
        self.inner.list_event_types(app).await
    }
    async fn create_endpoint(&self, ep: &Endpoint) -> StoreResult<()> {
        self.inner.create_endpoint(&self.seal_endpoint(ep)).await
    }
    async fn get_endpoint(&self, id: &EndpointId) -> StoreResult<Option<Endpoint>> {
        let ep = self.inner.get_endpoint(id).await?;
        ep.map(|e| self.open_endpoint(e)).transpose()
    }
    async fn list_endpoints(&self, app: &AppId, page: &Page) -> StoreResult<Vec<Endpoint>> {
        let eps = self.inner.list_endpoints(app, page).await?;
        eps.into_iter().map(|e| self.open_endpoint(e)).collect()
    }
    async fn update_endpoint(&self, ep: &Endpoint) -> StoreResult<()> {
        self.inner.update_endpoint(&self.seal_endpoint(ep)).await
    }
    async fn delete_endpoint(&self, id: &EndpointId) -> StoreResult<bool> {
        self.inner.delete_endpoint(id).await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
}

#[async_trait]
impl EventLog for Sealed {
    async fn publish(&self, events: Vec<Event>, lease: &Lease) -> StoreResult<Vec<Published>> {
        self.inner.publish(events, lease).await
    }
    async fn get_event(&self, app: &AppId, id: &EventId) -> StoreResult<Option<Event>> {
        self.inner.get_event(app, id).await
    }
    async fn list_events(&self, app: &AppId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        self.inner.list_events(app, q).await
    }
    async fn room_events(&self, app: &AppId, room: &RoomPage) -> StoreResult<Vec<Event>> {
        self.inner.room_events(app, room).await
    }
    async fn ledger(&self, app: &AppId, subject: &Subject) -> StoreResult<Option<Ledger>> {
        self.inner.ledger(app, subject).await
    }
    async fn recent_rooms(&self, app: &AppId, limit: u32) -> StoreResult<Vec<String>> {
        self.inner.recent_rooms(app, limit).await
    }
    async fn list_deliveries(&self, app: &AppId, q: &DeliveryQuery) -> StoreResult<Vec<Delivery>> {
        self.inner.list_deliveries(app, q).await
    }
    async fn get_delivery(
        &self,
        app: &AppId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
        self.inner.get_delivery(app, id).await
    }
    async fn purge(&self, purge: &Purge) -> StoreResult<Purged> {
        self.inner.purge(purge).await
    }
}

#[async_trait]
impl DeliveryQueue for Sealed {
    async fn resend(&self, resend: &Resend) -> StoreResult<Option<Job>> {
        self.inner.resend(resend).await
    }
    async fn recover(&self, scope: &Recovery) -> StoreResult<u64> {
        self.inner.recover(scope).await
    }
    async fn claim_due(&self, claim: &Claim) -> StoreResult<Vec<Job>> {
        self.inner.claim_due(claim).await
    }
    async fn blocked(&self, job: &Job) -> StoreResult<bool> {
        self.inner.blocked(job).await
    }
    async fn release(&self, lease: &HeldLease) -> StoreResult<()> {
        self.inner.release(lease).await
    }
    async fn release_leases(&self) -> StoreResult<u64> {
        self.inner.release_leases().await
    }
    async fn release_own_leases(&self) -> StoreResult<u64> {
        self.inner.release_own_leases().await
    }
    async fn renew_leases(
        &self,
        held: &[HeldLease],
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<DeliveryId>> {
        self.inner.renew_leases(held, until).await
    }
    fn work_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        self.inner.work_signal()
    }
    async fn record_attempts(&self, outcomes: Vec<AttemptOutcome>) -> StoreResult<Vec<DeliveryId>> {
        self.inner.record_attempts(outcomes).await
    }
    async fn pending_count(&self) -> StoreResult<u64> {
        self.inner.pending_count().await
    }
    async fn poll(&self, poll: &Poll) -> StoreResult<Polled> {
        self.inner.poll(poll).await
    }
    async fn update_health(
        &self,
        id: &EndpointId,
        change: HealthChange,
    ) -> StoreResult<Option<HealthUpdate>> {
        let Some(mut update) = self.inner.update_health(id, change).await? else {
            return Ok(None);
        };
        update.endpoint = self.open_endpoint(update.endpoint)?;
        Ok(Some(update))
    }
}
