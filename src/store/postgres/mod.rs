//! The PostgreSQL store: one database shared by any number of Herald processes.
//!
//! Nothing is cached across requests that another process could change, because another
//! process can change anything. Processes share work through leases on deliveries: a claim
//! takes due rows with `FOR UPDATE SKIP LOCKED`, so two dispatchers never take the same row,
//! and stamps them with this process's owner name, which a heartbeat keeps alive; a process
//! that dies stops beating, and its rows are freed for the others (see `leases`). Writers
//! that leave work for others `NOTIFY` them, and each process `LISTEN`s, so an API-only
//! node's publish starts a dispatcher elsewhere at once rather than at its next poll.

mod batch;
mod deliveries;
mod events;
mod health;
mod labels;
mod leases;
mod ledger;
mod outcomes;
mod polling;
mod publisher;
mod purge;
mod rows;
mod sequences;
mod store_impl;
mod tenants;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::Notify;

use super::{StoreError, StoreResult};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_claim_per_endpoint.sql"),
    include_str!("../migrations/postgres/0003_health.sql"),
    include_str!("../migrations/postgres/0004_list_indexes.sql"),
    include_str!("../migrations/postgres/0005_sequences.sql"),
    include_str!("../migrations/postgres/0006_recent_rooms.sql"),
    include_str!("../migrations/postgres/0007_expiry.sql"),
    include_str!("../migrations/postgres/0008_polling.sql"),
    include_str!("../migrations/postgres/0009_verification.sql"),
    include_str!("../migrations/postgres/0010_fencing.sql"),
    include_str!("../migrations/postgres/0011_status_without_succeeded.sql"),
    include_str!("../migrations/postgres/0012_enforce_schemas.sql"),
];
/// The channel a process notifies when it leaves claimable work behind.
const WORK_CHANNEL: &str = "herald_work";
/// Serialises migrations when several processes start at once.
const MIGRATION_LOCK: i64 = 0x4845_5241_4c44;
/// The first key of Herald's named two-key advisory locks (`Store::exclusive`), so that
/// they cannot collide with another application's locks on the same database.
const LOCK_SPACE: i32 = 0x4845_5241;
const POOL_SIZE: u32 = 16;

pub struct PgStore {
    pool: PgPool,
    /// This process's name on the leases it takes.
    owner: Arc<str>,
    work: Arc<Notify>,
    outcomes: outcomes::OutcomeWriter,
    publishes: publisher::PublishWriter,
    /// Whether this process has announced itself in `nodes`, which it must before it
    /// leases anything: a lease whose owner is unknown is taken over as abandoned.
    registered: std::sync::atomic::AtomicBool,
}

async fn connect(url: &str) -> StoreResult<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
    let options = options.application_name("herald");
    PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _| Box::pin(plan_for_the_table_as_it_is(conn)))
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))
}

/// Has every statement planned for the table as it is when it runs. With cached generic
/// plans, a statement first prepared on a new, empty database keeps the sequential scan that
/// suited the empty table (until the next ANALYZE), and write-backs that should touch a few
/// rows by key read the whole deliveries table: W1 on a fresh database went from about
/// 4,300 to 5,900 events/s delivered, p99 from seconds to 22 ms. Set per session rather
/// than as a startup option, which connection poolers such as PgBouncer refuse; a server
/// without the setting (before PostgreSQL 12) keeps its default.
async fn plan_for_the_table_as_it_is(conn: &mut sqlx::PgConnection) -> sqlx::Result<()> {
    use sqlx::Executor;
    if let Err(e) = conn
        .execute("SET plan_cache_mode = force_custom_plan")
        .await
    {
        tracing::warn!(error = %e, "cannot set plan_cache_mode; statements keep cached plans");
    }
    Ok(())
}

/// Applies the migrations not yet applied, under an advisory lock so that processes starting
/// together run them once.
async fn migrate(pool: &PgPool) -> StoreResult<usize> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS herald_schema (version INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let applied: i32 = sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM herald_schema")
        .fetch_one(&mut *tx)
        .await?;
    let mut ran = 0;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO herald_schema (version) VALUES ($1)")
            .bind(i as i32 + 1)
            .execute(&mut *tx)
            .await?;
        ran += 1;
    }
    tx.commit().await?;
    Ok(ran)
}

/// For `herald migrate`.
pub async fn migrate_only(url: &str) -> StoreResult<usize> {
    let pool = connect(url).await?;
    let ran = migrate(&pool).await;
    pool.close().await;
    ran
}

impl PgStore {
    pub async fn open(url: &str) -> StoreResult<Self> {
        let pool = connect(url).await?;
        migrate(&pool).await?;
        let work = Arc::new(Notify::new());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(WORK_CHANNEL).await?;
        tokio::spawn(listen(listener, Arc::clone(&work)));
        let owner = super::new_owner();
        Ok(Self {
            outcomes: outcomes::OutcomeWriter::start(pool.clone(), Arc::clone(&owner)),
            publishes: publisher::PublishWriter::start(pool.clone(), Arc::clone(&owner)),
            pool,
            owner,
            work,
            registered: Default::default(),
        })
    }

    /// Announces this process before it takes a lease that lasts until `until`.
    async fn alive_for(&self, until: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
        use std::sync::atomic::Ordering;
        if until > chrono::Utc::now() && !self.registered.load(Ordering::Relaxed) {
            leases::heartbeat(&self.pool, &self.owner, until).await?;
            self.registered.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Wakes the local dispatcher on every notification. `PgListener` reconnects by itself after
/// a lost connection; the dispatcher's polling covers what is missed meanwhile.
async fn listen(mut listener: PgListener, work: Arc<Notify>) {
    loop {
        match listener.recv().await {
            Ok(_) => work.notify_one(),
            Err(e) => {
                tracing::warn!(error = %e, "lost the PostgreSQL notification connection");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Commits `tx`, first telling every dispatcher that work is claimable when `freed` says so.
async fn commit_notifying(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    freed: bool,
) -> StoreResult<()> {
    if freed {
        notify_work(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Tells every process's dispatcher that claimable work exists; delivered on commit.
async fn notify_work(tx: &mut sqlx::PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(WORK_CHANNEL)
        .execute(tx)
        .await?;
    Ok(())
}

/// One column of a statement that binds rows as arrays: `f` of each item.
fn col<'a, T, U>(items: &'a [T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}
