//! The single writer thread and its group commit.
//!
//! A group runs first without savepoints: a savepoint makes SQLite copy every page a
//! write touches into its statement journal, which for a publish (a row and its indexes in
//! two tables) cost about a sixth of the whole W1 throughput. Writes almost never fail, so
//! the group is only run again, with a savepoint around each write from the failed one on,
//! when one of them did: the failed transaction is rolled back whole, and the second run
//! commits the others. That is why a write must be safe to run more than once (`Fn`):
//! only the run that commits, or the last one, is reported.
//!
//! Every commit costs a sync of the WAL, whatever it holds; under a heavy load groups are
//! large and that cost is shared, but at a moderate rate each write would pay it alone. So
//! the writes that no user is waiting on (an attempt's outcome, a health change, a claim, a
//! delivery handed back) may wait a moment for company: a group made only of such writes
//! waits up to [`PATIENCE`] for more, and the first write someone is waiting on (a publish,
//! an API change) ends the wait. At 1,000 events/s with one delivery each, this turns about
//! 1,650 commits a second into 975: each publish carries the outcomes that came before it.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpoint::Checkpoints;
use super::fanout::FanoutCache;
use crate::store::{StoreError, StoreResult};

/// Most writes folded into one transaction; bounds the latency a large group adds.
const MAX_GROUP: usize = 1024;

/// The longest a group of writes nobody is waiting on waits for company.
const PATIENCE: Duration = Duration::from_millis(2);

/// Whether someone is waiting on a write to answer a user.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// A publish, an API change: committed as soon as the writer is free.
    Now,
    /// The dispatcher's own bookkeeping: may wait [`PATIENCE`] to share a commit.
    Soon,
}

/// A queued write: runs (possibly more than once), then hears the group's fate.
trait Write: Send {
    fn urgency(&self) -> Urgency;
    /// Runs the write in the open transaction; answers whether it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Reports the last run's result, or `committed`'s error if the group was lost.
    fn finish(self: Box<Self>, committed: StoreResult<()>);
}

struct Pending<R, F> {
    f: F,
    urgency: Urgency,
    result: Option<StoreResult<R>>,
    reply: oneshot::Sender<StoreResult<R>>,
}

impl<R, F> Write for Pending<R, F>
where
    R: Send,
    F: Fn(&Connection) -> StoreResult<R> + Send,
{
    fn urgency(&self) -> Urgency {
        self.urgency
    }

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
    tx: mpsc::Sender<Box<dyn Write>>,
}

impl Writer {
    pub fn start(
        conn: Connection,
        fanout: FanoutCache,
        checkpoints: Checkpoints,
    ) -> StoreResult<Self> {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("herald-sqlite-writer".into())
            .spawn(move || {
                let _ = ready_tx.send(());
                run_loop(conn, rx, fanout, checkpoints);
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        let _ = ready_rx.recv();
        Ok(Self { tx })
    }

    /// Queues `f` for the next group and waits until its transaction has committed. `f` may
    /// run more than once, each time in a fresh transaction (see the module documentation).
    pub async fn run<R, F>(&self, urgency: Urgency, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<R>>();
        let write = Pending {
            f,
            urgency,
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
    rx: mpsc::Receiver<Box<dyn Write>>,
    fanout: FanoutCache,
    checkpoints: Checkpoints,
) {
    let mut group: Vec<Box<dyn Write>> = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = rx.recv() {
        group.push(first);
        gather(&rx, &mut group, PATIENCE);
        let committed = commit_group(&conn, &mut group, &fanout);
        checkpoints.committed(&conn);
        for write in group.drain(..) {
            write.finish(committed.clone());
        }
    }
}

/// Adds to `group` the writes queued behind its first; a group nobody is waiting on waits up
/// to `patience` for more, and stops waiting at the first urgent write.
fn gather(
    rx: &mpsc::Receiver<Box<dyn Write>>,
    group: &mut Vec<Box<dyn Write>>,
    patience: Duration,
) {
    let until = Instant::now() + patience;
    let mut patient = group.iter().all(|w| w.urgency() == Urgency::Soon);
    while group.len() < MAX_GROUP {
        let next = match patient {
            true => rx
                .recv_timeout(until.saturating_duration_since(Instant::now()))
                .ok(),
            false => rx.try_recv().ok(),
        };
        let Some(write) = next else {
            return;
        };
        patient &= write.urgency() == Urgency::Soon;
        group.push(write);
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
#[path = "writer_tests.rs"]
mod tests;
