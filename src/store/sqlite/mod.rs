//! The embedded SQLite store: one file, WAL mode, one writer thread committing in groups.
//!
//! SQLite allows one writer at a time, and each commit costs a sync. Rather than let request
//! handlers contend for the write lock, every write is sent to a single thread that takes
//! whatever writes are waiting and commits them in one transaction; one failing write does
//! not undo its neighbours (see `writer`). Under load this turns thousands of syncs a
//! second into a few dozen. Reads run in parallel on a small pool.

mod checkpoint;
mod claims;
mod deliveries;
mod events;
mod fanout;
mod health;
mod ledger;
mod polling;
mod purge;
mod rows;
mod store_impl;
mod tenants;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::{StoreError, StoreResult};
use fanout::FanoutCache;
use writer::{Urgency, Writer};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_lease_owner.sql"),
    include_str!("../migrations/sqlite/0003_claim_per_endpoint.sql"),
    include_str!("../migrations/sqlite/0004_seq.sql"),
    include_str!("../migrations/sqlite/0005_health.sql"),
    include_str!("../migrations/sqlite/0006_list_indexes.sql"),
    include_str!("../migrations/sqlite/0007_sequences.sql"),
    include_str!("../migrations/sqlite/0008_recent_rooms.sql"),
    include_str!("../migrations/sqlite/0009_expiry.sql"),
    include_str!("../migrations/sqlite/0010_polling.sql"),
    include_str!("../migrations/sqlite/0011_verification.sql"),
    include_str!("../migrations/sqlite/0012_fencing.sql"),
    include_str!("../migrations/sqlite/0013_status_without_succeeded.sql"),
    include_str!("../migrations/sqlite/0014_enforce_schemas.sql"),
];
const READERS: usize = 4;

pub struct SqliteStore {
    writer: Writer,
    fanout: FanoutCache,
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: AtomicUsize,
    /// This process's name on the leases it takes.
    owner: Arc<str>,
    /// The last `seq` given to a delivery (this process is the database's only writer).
    seq: Arc<AtomicI64>,
}

/// Options carried in the URL's query: `sqlite://herald.db?synchronous=normal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    /// Every commit is synced to disk: an acknowledged event survives power loss.
    Full,
    /// Commits survive a crash of the process (kill -9) but not of the machine.
    Normal,
}

/// Splits `path?synchronous=...` into the path and its options.
pub fn parse_location(location: &str) -> StoreResult<(String, Sync)> {
    let (path, query) = location.split_once('?').unwrap_or((location, ""));
    let mut sync = Sync::Full;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("synchronous", "full")) => sync = Sync::Full,
            Some(("synchronous", "normal")) => sync = Sync::Normal,
            _ => {
                return Err(StoreError::Unavailable(format!(
                    "unknown SQLite option '{pair}': the only option is synchronous=full|normal"
                )))
            }
        }
    }
    if path.is_empty() {
        return Err(StoreError::Unavailable(
            "the SQLite URL names no file".into(),
        ));
    }
    Ok((path.to_owned(), sync))
}

fn connect(path: &str, sync: Sync) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let sync = match sync {
        Sync::Full => "FULL",
        Sync::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = {sync};
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;"
    ))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Runs the embedded migrations not yet applied, tracked by `PRAGMA user_version`.
fn migrate(conn: &mut Connection) -> StoreResult<usize> {
    incremental_vacuum(conn)?;
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut ran = 0;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        ran += 1;
    }
    Ok(ran)
}

/// Makes the file give purged space back to the file system (see `purge`): set before the
/// first table of a new database; an older database is rewritten once to take it.
fn incremental_vacuum(conn: &Connection) -> StoreResult<()> {
    const INCREMENTAL: i64 = 2;
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode == INCREMENTAL {
        return Ok(());
    }
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    if pages > 0 {
        tracing::info!(
            pages,
            "rewriting the database once so that it can shrink as it is purged"
        );
        conn.execute_batch("VACUUM")?;
    }
    Ok(())
}

/// Where `seq` goes on from: past every pending ordered delivery (the only ones ordering
/// compares) and every row written so far.
fn last_seq(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row(
        "SELECT max(coalesce((SELECT max(seq) FROM deliveries \
           WHERE status = 'pending' AND ordering_key IS NOT NULL), 0), \
         coalesce((SELECT max(rowid) FROM deliveries), 0))",
        [],
        |r| r.get(0),
    )?)
}

impl SqliteStore {
    pub fn open(location: &str) -> StoreResult<Self> {
        let (path, sync) = parse_location(location)?;
        let path = path.as_str();
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = connect(path, sync)?;
        migrate(&mut conn)?;
        let seq = Arc::new(AtomicI64::new(last_seq(&conn)?));
        let readers: Vec<_> = (0..READERS)
            .map(|_| connect(path, sync).map(Mutex::new))
            .collect::<StoreResult<_>>()?;
        let readers = Arc::new(readers);
        let fanout = FanoutCache::default();
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;")?;
        let checkpoints = checkpoint::start(connect(path, sync)?)?;
        Ok(Self {
            writer: Writer::start(conn, fanout.clone(), checkpoints)?,
            fanout,
            readers,
            next_reader: AtomicUsize::new(0),
            owner: crate::store::new_owner(),
            seq,
        })
    }

    /// Runs the migrations only (for `herald migrate`); returns how many ran.
    pub fn migrate_only(location: &str) -> StoreResult<usize> {
        let (path, sync) = parse_location(location)?;
        let mut conn = connect(&path, sync)?;
        migrate(&mut conn)
    }

    /// Runs `f` on a reader connection off the async runtime.
    async fn read<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let index = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let conn = readers[index].lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task failed: {e}")))?
    }

    /// Runs `f` in the writer's next group; `f` may run more than once (see `writer`).
    async fn write<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> StoreResult<R> + Send + 'static,
    {
        self.writer.run(Urgency::Now, f).await
    }

    /// A write of the dispatcher's own, which nobody waits on to answer a user: it may wait
    /// a moment to share its commit (see `writer`).
    async fn write_soon<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> StoreResult<R> + Send + 'static,
    {
        self.writer.run(Urgency::Soon, f).await
    }
}
