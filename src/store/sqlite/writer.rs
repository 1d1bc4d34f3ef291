//! The single writer thread and its group commit.
//!
//! A group runs first without savepoints: a savepoint makes SQLite copy every page a
//! write touches into its statement journal, which for a publish (a row and its indexes in
//! two tables) cost about a sixth of the whole W1 throughput. Writes almost never fail, so
//! the group is only run again, with a savepoint around each write from the failed one on,
//! when one of them did: the failed transaction is rolled back whole, and the second run
//! commits the others. That is why a write must be safe to run more than once (`Fn`):
//! only the run that commits, or the last one, is reported.

use std::sync::mpsc as std_mpsc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::fanout::FanoutCache;
use crate::store::{StoreError, StoreResult};

/// Most writes folded into one transaction; bounds the latency a large group adds.
const MAX_GROUP: usize = 1024;

/// A queued write: runs (possibly more than once), then hears the group's fate.
trait Write: Send {
    /// Runs the write in the open transaction; answers whether it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Reports the last run's result, or `committed`'s error if the group was lost.
    fn finish(self: Box<Self>, committed: StoreResult<()>);
}

struct Pending<R, F> {
    f: F,
    result: Option<StoreResult<R>>,
    reply: oneshot::Sender<StoreResult<R>>,
}

impl<R, F> Write for Pending<R, F>
where
    R: Send,
    F: Fn(&Connection) -> StoreResult<R> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let result = (self.f)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: StoreResult<()>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(StoreError::Unavailable("the write did not run".into())));
        let _ = self.reply.send(committed.and(result));
    }
}

pub struct Writer {
    tx: mpsc::UnboundedSender<Box<dyn Write>>,
}

impl Writer {
    pub fn start(conn: Connection, fanout: FanoutCache) -> StoreResult<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("herald-sqlite-writer".into())
            .spawn(move || {
                let _ = ready_tx.send(());
                run_loop(conn, rx, fanout);
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        let _ = ready_rx.recv();
        Ok(Self { tx })
    }

    /// Queues `f` for the next group and waits until its transaction has committed. `f` may
    /// run more than once, each time in a fresh transaction (see the module documentation).
    pub async fn run<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<R>>();
        let write = Pending {
            f,
            result: None,
            reply,
        };
        self.tx
            .send(Box::new(write))
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?
    }
}

fn run_loop(
    conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Box<dyn Write>>,
    fanout: FanoutCache,
) {
    let mut group: Vec<Box<dyn Write>> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(write) => group.push(write),
                Err(_) => break,
            }
        }
        let committed = commit_group(&conn, &mut group, &fanout);
        for write in group.drain(..) {
            write.finish(committed.clone());
        }
    }
}

/// Runs a statement through the statement cache: the per-write savepoints would otherwise be
/// parsed again for every write.
fn run_cached(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Writes the group in one transaction: at once if every write succeeds. When write `k`
/// fails, the transaction is rolled back and run again: the writes before `k` as they were,
/// and from `k` on each inside a savepoint, so that only the failed ones are undone. Should
/// an earlier write fail this time, the savepoints start there; each round starts them
/// earlier, so this ends. An error here is the transaction's (it could not begin or
/// commit): nothing of the group was written.
fn commit_group(
    conn: &Connection,
    group: &mut [Box<dyn Write>],
    fanout: &FanoutCache,
) -> StoreResult<()> {
    let lost = |e: StoreError| {
        rollback(conn, fanout);
        StoreError::Unavailable(format!("the write transaction failed: {e}"))
    };
    let mut careful_from = group.len();
    while let Some(failed) = run_group(conn, group, careful_from).map_err(lost)? {
        rollback(conn, fanout);
        if group.len() == 1 {
            // Alone in its group: its own error is the answer, and nothing was written.
            return Ok(());
        }
        careful_from = failed;
    }
    run_cached(conn, "COMMIT").map_err(|e| {
        tracing::error!(error = %e, "group commit failed");
        lost(e)
    })
}

/// Runs the writes inside one new transaction, those from `careful_from` on each inside a
/// savepoint. Answers the index of a write before `careful_from` that failed, at which it
/// stopped (the caller must then roll back), or `None` when every write ran.
fn run_group(
    conn: &Connection,
    group: &mut [Box<dyn Write>],
    careful_from: usize,
) -> StoreResult<Option<usize>> {
    conn.execute_batch("BEGIN IMMEDIATE").inspect_err(|e| {
        tracing::error!(error = %e, "cannot begin a write transaction");
    })?;
    for (i, write) in group.iter_mut().enumerate() {
        if i < careful_from {
            if !write.run(conn) {
                return Ok(Some(i));
            }
            continue;
        }
        run_cached(conn, "SAVEPOINT w")?;
        if !write.run(conn) {
            run_cached(conn, "ROLLBACK TO w")?;
        }
        run_cached(conn, "RELEASE w")?;
    }
    Ok(None)
}

fn rollback(conn: &Connection, fanout: &FanoutCache) {
    if let Err(e) = conn.execute_batch("ROLLBACK") {
        if !conn.is_autocommit() {
            // Every later BEGIN would fail: say so loudly rather than fail each write quietly.
            tracing::error!(error = %e, "cannot roll back the write transaction");
        }
    }
    // Anything cached from inside the rolled-back transaction is not in the database.
    fanout.clear();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    fn insert(c: &Connection, k: i64) -> StoreResult<()> {
        c.execute("INSERT INTO t (k) VALUES (?1)", [k])?;
        Ok(())
    }

    fn keys(c: &Connection) -> Vec<i64> {
        let mut stmt = c.prepare("SELECT k FROM t ORDER BY k").expect("prepare");
        let rows = stmt.query_map([], |r| r.get(0)).expect("query");
        rows.map(|r| r.expect("row")).collect()
    }

    /// A writer on a fresh database of one table, and the database's path.
    fn writer(dir: &std::path::Path) -> (Arc<Writer>, std::path::PathBuf) {
        let _ = std::fs::create_dir_all(dir);
        let path = dir.join("w.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY)")
            .expect("schema");
        let writer = Arc::new(Writer::start(conn, FanoutCache::default()).expect("writer"));
        (writer, path)
    }

    #[tokio::test]
    async fn a_failing_write_undoes_only_itself() {
        let dir = std::env::temp_dir().join(format!("herald-writer-{}", std::process::id()));
        let (writer, path) = writer(&dir);

        // The first write holds the writer until the others are queued: they share a group.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let wait = Mutex::new(wait);
        let w = Arc::clone(&writer);
        let first = tokio::spawn(async move {
            w.run(move |c| {
                let _ = wait.lock().map(|rx| rx.recv());
                insert(c, 0)
            })
            .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let runs = Arc::new(AtomicUsize::new(0));
        let mut queued = Vec::new();
        // 3 twice: the second fails, after having written 13 in the same write.
        for (k, extra) in [(1, None), (2, None), (3, None), (3, Some(13)), (4, None)] {
            let (w, runs) = (Arc::clone(&writer), Arc::clone(&runs));
            queued.push(tokio::spawn(async move {
                w.run(move |c| {
                    runs.fetch_add(1, Ordering::Relaxed);
                    if let Some(e) = extra {
                        insert(c, e)?;
                    }
                    insert(c, k)
                })
                .await
            }));
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        go.send(()).expect("release the first write");

        first.await.expect("join").expect("the first write commits");
        let mut results = Vec::new();
        for q in queued {
            results.push(q.await.expect("join"));
        }
        assert!(
            results[3].as_ref().is_err_and(StoreError::is_conflict),
            "{results:?}"
        );
        for (i, r) in results.iter().enumerate().filter(|(i, _)| *i != 3) {
            assert!(r.is_ok(), "write {i}: {r:?}");
        }
        // The writes up to the failure ran twice: once as a plain group, then again, the
        // failed one and those after it each inside a savepoint.
        assert_eq!(runs.load(Ordering::Relaxed), 4 + 5);

        // Alone in its group, a failing write leaves nothing behind either.
        alone_and_after(&writer, &path).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn alone_and_after(writer: &Writer, path: &std::path::Path) {
        let alone = writer
            .run(|c| {
                insert(c, 20)?;
                insert(c, 1)
            })
            .await;
        assert!(
            alone.as_ref().is_err_and(StoreError::is_conflict),
            "{alone:?}"
        );

        let check = Connection::open(path).expect("reopen");
        assert_eq!(keys(&check), vec![0, 1, 2, 3, 4]);
    }
}
