//! Persistence, in three parts ([`Tenants`], [`EventLog`], [`DeliveryQueue`]; a [`Store`] is
//! all three). Only the backends hold SQL, and they hold nothing else: which deliveries an
//! event fans out to, how a room is ordered, what a 410 or a recovery does are decided in
//! `domain` and `dispatch` and handed to the store as data. Rows map to domain values once,
//! in `rows`, for both backends.
//!
//! Publishing is one store call that writes the event *and* its deliveries in one transaction
//! (a transactional outbox), so there is no moment at which an acknowledged event exists
//! without the deliveries that will carry it.

pub mod at_rest;
mod cells;
mod doc;
mod error;
pub mod filter;
mod health;
mod lease;
pub mod ledger;
pub mod poll;
pub mod postgres;
mod rows;
mod seal;
mod sealed;
pub mod sqlite;
mod traits;
mod upkeep;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use crate::domain::Job;

/// The `due_at` of a delivery no dispatcher ever claims: a polling endpoint's, which waits
/// for its consumer to pull it.
pub const NEVER_DUE: i64 = i64::MAX;
use crate::domain::{
    AppId, Attempt, DeliveryId, DeliveryStatus, EndpointId, Event, EventId, EventTypeName, KeyId,
};

pub use at_rest::{open_sealed, rekey};
pub use doc::EndpointDoc;
pub use error::{DbKind, StoreError};
pub use health::{Changed, HealthChange, HealthUpdate};
pub use lease::{Claim, HeldLease, Lease, LeasePlanner};
pub use sealed::PORTAL_SIGNING_KEY;
pub use traits::{DeliveryQueue, EventLog, Tenants};
pub use upkeep::{Purge, Purged};

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
    /// Seconds its deliveries stay worth sending; `None` never expires.
    pub ttl_s: Option<u32>,
}

/// A page request: newest first, strictly older than `before` when given, and created from
/// `since` until before `until`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: u32,
    pub before: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub event_type: Option<String>,
    pub labels: Vec<(String, String)>,
    pub page: Page,
}

/// A page of one room's events in sequence order: `limit` of them after sequence `after`.
#[derive(Debug, Clone)]
pub struct RoomPage {
    pub room: String,
    pub after: i64,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub endpoint: Option<EndpointId>,
    pub event: Option<EventId>,
    pub status: Option<DeliveryStatus>,
    pub labels: Vec<(String, String)>,
    pub page: Page,
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

/// A manual resend: the app's delivery goes back to `pending`, due now, whatever its state,
/// leased to this process until `lease_until` (when that is in the future) so that it is
/// sent from memory.
#[derive(Debug, Clone)]
pub struct Resend {
    pub app: AppId,
    pub delivery: DeliveryId,
    pub lease_until: DateTime<Utc>,
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
    /// The lease the attempt was made under ([`Job::lease_epoch`]): an outcome of a lease
    /// that has since been taken over changes nothing but the attempt log.
    pub lease_epoch: i64,
}

/// A lock held by [`Store::exclusive`] until dropped.
pub type Exclusive = Box<dyn Send>;

/// The whole store: every backend is all three parts.
pub trait Store: Tenants + EventLog + DeliveryQueue + 'static {}

impl<T: Tenants + EventLog + DeliveryQueue + 'static> Store for T {}

/// The one app the events of a publish belong to; `None` for no events.
pub(crate) fn app_of(events: &[Event]) -> StoreResult<Option<AppId>> {
    let Some(first) = events.first() else {
        return Ok(None);
    };
    if events.iter().any(|e| e.app_id != first.app_id) {
        return Err(StoreError::Internal(
            "one publish writes events of one app".into(),
        ));
    }
    Ok(Some(first.app_id.clone()))
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
