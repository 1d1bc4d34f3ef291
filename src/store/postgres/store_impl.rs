//! [`Store`] for [`PgStore`]: every call is a query or one transaction on the shared pool.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{deliveries, events, health, leases, ledger, polling, purge, tenants, PgStore};
use crate::domain::{
    App, AppId, Attempt, Delivery, DeliveryId, Endpoint, EndpointId, Event, EventId, KeyId,
};
use crate::store::ledger::{Ledger, Subject};
use crate::store::poll::{Poll, Polled};
use crate::store::{
    app_of, ApiKey, AttemptOutcome, Claim, CustomEventType, DeliveryQuery, DeliveryQueue, EventLog,
    EventQuery, Exclusive, HealthChange, HealthUpdate, HeldLease, Job, Lease, Page, Published,
    Purge, Purged, Recovery, Resend, RoomPage, StoreError, StoreResult, Tenants,
};

#[async_trait]
impl Tenants for PgStore {
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>> {
        tenants::meta_get(&self.pool, key).await
    }
    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String> {
        tenants::meta_init(&self.pool, key, value).await
    }
    async fn meta_put(&self, key: &str, value: &str) -> StoreResult<()> {
        tenants::meta_put(&self.pool, key, value).await
    }
    async fn exclusive(&self, name: &str) -> StoreResult<Exclusive> {
        // A session-level advisory lock on a connection taken out of the pool: dropping
        // the connection closes it, and the server releases the lock with the session.
        // A stalled holder keeps its session until TCP gives up on it: wait a bounded time.
        let mut conn = self.pool.acquire().await?.detach();
        sqlx::query("SET lock_timeout = '60s'")
            .execute(&mut conn)
            .await?;
        sqlx::query("SELECT pg_advisory_lock($1, hashtext($2))")
            .bind(super::LOCK_SPACE)
            .bind(name)
            .execute(&mut conn)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "another Herald process has held the lock '{name}' for a minute: {e}"
                ))
            })?;
        Ok(Box::new(conn))
    }

    async fn create_app(&self, app: &App) -> StoreResult<()> {
        tenants::insert_app(&self.pool, app).await
    }
    async fn get_app(&self, id: &AppId) -> StoreResult<Option<App>> {
        tenants::get_app(&self.pool, id).await
    }
    async fn list_apps(&self, page: &Page) -> StoreResult<Vec<App>> {
        tenants::list_apps(&self.pool, page).await
    }
    async fn update_app(&self, app: &App) -> StoreResult<()> {
        tenants::update_app(&self.pool, app).await
    }
    async fn delete_app(&self, id: &AppId) -> StoreResult<bool> {
        tenants::delete_app(&self.pool, id).await
    }

    async fn create_key(&self, key: &ApiKey) -> StoreResult<()> {
        tenants::insert_key(&self.pool, key).await
    }
    async fn find_key(&self, token_hash: &str) -> StoreResult<Option<ApiKey>> {
        tenants::find_key(&self.pool, token_hash).await
    }
    async fn list_keys(&self, app: &AppId) -> StoreResult<Vec<ApiKey>> {
        tenants::list_keys(&self.pool, app).await
    }
    async fn delete_key(&self, app: &AppId, id: &KeyId) -> StoreResult<bool> {
        tenants::delete_key(&self.pool, app, id).await
    }

    async fn create_event_type(&self, app: &AppId, def: &CustomEventType) -> StoreResult<()> {
        tenants::insert_event_type(&self.pool, app, def).await
    }
    async fn list_event_types(&self, app: &AppId) -> StoreResult<Vec<CustomEventType>> {
        tenants::list_event_types(&self.pool, app).await
    }

    async fn create_endpoint(&self, ep: &Endpoint) -> StoreResult<()> {
        tenants::insert_endpoint(&self.pool, ep).await
    }
    async fn get_endpoint(&self, id: &EndpointId) -> StoreResult<Option<Endpoint>> {
        let mut c = self.pool.acquire().await?;
        tenants::get_endpoint(&mut c, id).await
    }
    async fn list_endpoints(&self, app: &AppId, page: &Page) -> StoreResult<Vec<Endpoint>> {
        tenants::list_endpoints(&self.pool, app, page).await
    }
    async fn update_endpoint(&self, ep: &Endpoint) -> StoreResult<()> {
        let mut c = self.pool.acquire().await?;
        tenants::update_endpoint(&mut c, ep).await
    }
    async fn delete_endpoint(&self, id: &EndpointId) -> StoreResult<bool> {
        tenants::delete_endpoint(&self.pool, id).await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait]
impl EventLog for PgStore {
    async fn publish(&self, evts: Vec<Event>, lease: &Lease) -> StoreResult<Vec<Published>> {
        let Some(app) = app_of(&evts)? else {
            return Ok(Vec::new());
        };
        self.alive_for(lease.until).await?;
        self.publishes.publish(&app, evts, lease).await
    }
    async fn get_event(&self, app: &AppId, id: &EventId) -> StoreResult<Option<Event>> {
        events::get_event(&self.pool, app, id).await
    }
    async fn ledger(&self, app: &AppId, subject: &Subject) -> StoreResult<Option<Ledger>> {
        ledger::ledger(&self.pool, app, subject).await
    }
    async fn recent_rooms(&self, app: &AppId, limit: u32) -> StoreResult<Vec<String>> {
        ledger::recent_rooms(&self.pool, app, limit).await
    }
    async fn room_events(&self, app: &AppId, room: &RoomPage) -> StoreResult<Vec<Event>> {
        events::room_events(&self.pool, app, room).await
    }
    async fn list_events(&self, app: &AppId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        events::list_events(&self.pool, app, q).await
    }

    async fn list_deliveries(&self, app: &AppId, q: &DeliveryQuery) -> StoreResult<Vec<Delivery>> {
        deliveries::list(&self.pool, app, q).await
    }
    async fn get_delivery(
        &self,
        app: &AppId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
        deliveries::get(&self.pool, app, id).await
    }
    async fn purge(&self, p: &Purge) -> StoreResult<Purged> {
        purge::purge(&self.pool, p).await
    }
}

#[async_trait]
impl DeliveryQueue for PgStore {
    async fn resend(&self, resend: &Resend) -> StoreResult<Option<Job>> {
        self.alive_for(resend.lease_until).await?;
        deliveries::resend(&self.pool, resend, &self.owner).await
    }
    async fn recover(&self, scope: &Recovery) -> StoreResult<u64> {
        deliveries::recover(&self.pool, scope).await
    }

    async fn claim_due(&self, claim: &Claim) -> StoreResult<Vec<Job>> {
        leases::claim_due(&self.pool, claim, &self.owner).await
    }
    async fn blocked(&self, job: &Job) -> StoreResult<bool> {
        leases::blocked(&self.pool, job).await
    }
    async fn release(&self, lease: &HeldLease) -> StoreResult<()> {
        leases::release(&self.pool, lease, &self.owner).await
    }
    /// Other processes may be alive and holding leases: theirs end with their heartbeat.
    async fn release_leases(&self) -> StoreResult<u64> {
        Ok(0)
    }
    async fn release_own_leases(&self) -> StoreResult<u64> {
        leases::release_all(&self.pool, &self.owner).await
    }
    async fn renew_leases(
        &self,
        held: &[HeldLease],
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<DeliveryId>> {
        leases::renew(&self.pool, held, until, &self.owner).await
    }
    fn work_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        Some(Arc::clone(&self.work))
    }
    async fn record_attempts(&self, outcomes: Vec<AttemptOutcome>) -> StoreResult<Vec<DeliveryId>> {
        self.outcomes.record(outcomes).await
    }
    async fn pending_count(&self) -> StoreResult<u64> {
        deliveries::pending_count(&self.pool).await
    }
    async fn poll(&self, poll: &Poll) -> StoreResult<Polled> {
        polling::poll(&self.pool, poll).await
    }
    async fn update_health(
        &self,
        id: &EndpointId,
        change: HealthChange,
    ) -> StoreResult<Option<HealthUpdate>> {
        health::update_health(&self.pool, id, &change).await
    }
}
