//! Persistence. The [`Store`] trait is the only place SQL lives; the API and the dispatcher
//! speak in domain values.
//!
//! Publishing is one store call that writes the event *and* its deliveries in one transaction
//! (a transactional outbox), so there is no moment at which an acknowledged event exists
//! without the deliveries that will carry it.

mod doc;
mod error;
mod lease;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use crate::domain::Job;
use crate::domain::{
    App, AppId, Attempt, Delivery, DeliveryId, DeliveryStatus, Endpoint, EndpointId, Event,
    EventId, EventTypeName, KeyId,
};

pub use doc::EndpointDoc;
pub use error::StoreError;
pub use lease::{Claim, Lease, LeasePlanner};

pub type StoreResult<T> = Result<T, StoreError>;

/// An app-scoped API key; the token is stored only as its SHA-256.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: KeyId,
    pub app_id: AppId,
    pub name: String,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A type an app registered beyond its preset.
#[derive(Debug, Clone)]
pub struct CustomEventType {
    pub name: EventTypeName,
    pub family: String,
    pub description: String,
    pub schema: Option<serde_json::Value>,
}

/// A page request: newest first, strictly older than `before` when given.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: u32,
    pub before: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub event_type: Option<String>,
    pub labels: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub endpoint: Option<EndpointId>,
    pub event: Option<EventId>,
    pub status: Option<DeliveryStatus>,
    pub labels: Vec<(String, String)>,
}

/// What one publish did: the event (new, or the original for a repeated idempotency key) and
/// the deliveries it created.
#[derive(Debug, Clone)]
pub struct Published {
    pub event: Arc<Event>,
    pub created: bool,
    /// Every delivery the event fanned out to.
    pub jobs: Vec<Job>,
    /// For each of `jobs`, whether it was created leased to this process (see [`Lease`]).
    pub leased: Vec<bool>,
}

impl Published {
    /// The answer for an event whose idempotency key was taken: the original, with no new
    /// deliveries.
    pub fn duplicate(original: Event) -> Self {
        Self {
            event: Arc::new(original),
            created: false,
            jobs: Vec::new(),
            leased: Vec::new(),
        }
    }
}

/// Which deliveries a recovery re-queues, decided by the caller and only translated by the
/// backends: the endpoint's deliveries in status `from`, created in `[since, until)`, become
/// pending and due at `at`, as manual attempts.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub endpoint: EndpointId,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub from: DeliveryStatus,
    pub at: DateTime<Utc>,
}

impl Recovery {
    /// What `POST .../recover` asks for: the deliveries that failed.
    pub fn failed(endpoint: EndpointId, since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            endpoint,
            since,
            until,
            from: DeliveryStatus::Failed,
            at: Utc::now(),
        }
    }
}

/// The outcome of one attempt, written back with the delivery's new state.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub delivery_id: DeliveryId,
    /// `None` when the delivery was settled without a request (its endpoint is gone).
    pub attempt: Option<Attempt>,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Set when the receiver asked to be disabled (410 Gone).
    pub disable_endpoint: Option<(EndpointId, String)>,
    /// Set when the delivery stays in this process's memory to be retried there (ordered
    /// endpoints): the store keeps it leased to this process until then, not claimable by
    /// another at its retry time.
    pub lease_until: Option<DateTime<Utc>>,
}

/// A lock held by [`Store::exclusive`] until dropped.
pub type Exclusive = Box<dyn Send>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn meta_get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` under `key` unless a value is already there, and answers the stored
    /// value: of several processes initialising one key at once, the first one wins.
    async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String>;
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
    async fn delete_key(&self, app: &AppId, id: &KeyId) -> StoreResult<bool>;

    async fn create_event_type(&self, app: &AppId, def: &CustomEventType) -> StoreResult<()>;
    async fn list_event_types(&self, app: &AppId) -> StoreResult<Vec<CustomEventType>>;

    async fn create_endpoint(&self, ep: &Endpoint) -> StoreResult<()>;
    async fn get_endpoint(&self, id: &EndpointId) -> StoreResult<Option<Endpoint>>;
    async fn list_endpoints(&self, app: &AppId, page: &Page) -> StoreResult<Vec<Endpoint>>;
    async fn update_endpoint(&self, ep: &Endpoint) -> StoreResult<()>;
    async fn delete_endpoint(&self, id: &EndpointId) -> StoreResult<bool>;

    /// Writes events and their fan-out atomically: all of `events` or none. The deliveries
    /// `lease` covers are created leased to this process, for the in-memory fast path.
    async fn publish(
        &self,
        app: &AppId,
        events: Vec<Event>,
        lease: &Lease,
    ) -> StoreResult<Vec<Published>>;
    async fn get_event(&self, app: &AppId, id: &EventId) -> StoreResult<Option<Event>>;
    async fn list_events(
        &self,
        app: &AppId,
        q: &EventQuery,
        page: &Page,
    ) -> StoreResult<Vec<Event>>;

    async fn list_deliveries(
        &self,
        app: &AppId,
        q: &DeliveryQuery,
        page: &Page,
    ) -> StoreResult<Vec<Delivery>>;
    async fn get_delivery(
        &self,
        app: &AppId,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Vec<Attempt>)>>;
    /// Puts a delivery back to `pending`, due now, whatever its state; returns its job.
    async fn resend(
        &self,
        app: &AppId,
        id: &DeliveryId,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Job>>;
    /// Re-queues what `scope` names; answers how many deliveries it re-queued.
    async fn recover(&self, scope: &Recovery) -> StoreResult<u64>;

    /// Leases due, unleased pending deliveries until `lease_until`: of each endpoint at most
    /// its room in `claim` (earliest due first, a room's head only), `claim.limit` in all.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        claim: &Claim,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<Job>>;
    /// Whether an earlier delivery with the job's ordering key is still pending (the job
    /// must wait for it).
    async fn blocked(&self, job: &Job) -> StoreResult<bool>;
    /// Gives a delivery held in memory back to the store, claimable at its scheduled time.
    async fn release(&self, id: &DeliveryId) -> StoreResult<()>;
    /// Run at start: a store with a single owner (SQLite) releases every lease, since any
    /// lease left is from a previous run; a shared store keeps them, as other processes may
    /// be alive, and leaves them to expire.
    async fn release_leases(&self) -> StoreResult<u64>;
    /// Run at a graceful stop: gives back what this process still holds, so that other
    /// processes (or the next run) take it at once rather than when its lease ends.
    async fn release_own_leases(&self) -> StoreResult<u64>;
    /// Extends this process's leases on `ids` (deliveries it holds in memory) to `until`;
    /// answers how many of them it holds. A shared store may renew all of them at once.
    async fn renew_leases(&self, ids: &[DeliveryId], until: DateTime<Utc>) -> StoreResult<u64>;
    /// Fires when another process left claimable work in a shared store (PostgreSQL
    /// `LISTEN/NOTIFY`); `None` when only this process writes.
    fn work_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
    async fn record_attempts(&self, outcomes: Vec<AttemptOutcome>) -> StoreResult<()>;
    /// Counts of pending deliveries (for readiness and metrics).
    async fn pending_count(&self) -> StoreResult<u64>;
    async fn ping(&self) -> StoreResult<()>;
}

/// Opens the store a database URL names and runs its migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let store = sqlite::SqliteStore::open(path)?;
        return Ok(Arc::new(store));
    }
    if is_postgres(url) {
        return Ok(Arc::new(postgres::PgStore::open(url).await?));
    }
    Err(unsupported(url))
}

/// Runs the migrations of the database `url` names, and nothing else; answers how many ran.
pub async fn migrate(url: &str) -> Result<usize, StoreError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        return sqlite::SqliteStore::migrate_only(path);
    }
    if is_postgres(url) {
        return postgres::migrate_only(url).await;
    }
    Err(unsupported(url))
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn unsupported(url: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "unsupported database URL '{url}': expected sqlite://PATH or postgres://USER@HOST/DB"
    ))
}

/// A fresh name for this process's leases: unique per start, so a restarted process never
/// mistakes a lease of its previous life for its own.
pub fn new_owner() -> Arc<str> {
    Arc::from(ulid::Ulid::new().to_string())
}

/// Milliseconds since the epoch, the store's time representation.
pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
