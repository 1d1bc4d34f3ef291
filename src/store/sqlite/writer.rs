//! The single writer thread and its group commit.

use std::sync::mpsc as std_mpsc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::fanout::FanoutCache;
use crate::store::{StoreError, StoreResult};

/// Most writes folded into one transaction; bounds the latency a large group adds.
const MAX_GROUP: usize = 1024;

/// Called once the group's fate is known: with `Ok` after COMMIT, with the error otherwise.
type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;
/// A write: runs inside its savepoint; answers whether it succeeded, and how to report back.
type WriteFn = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

pub struct Writer {
    tx: mpsc::UnboundedSender<WriteFn>,
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

    /// Queues `f` for the next group and waits until its transaction has committed.
    pub async fn run<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<R>>();
        let job: WriteFn = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let done: Completion = Box::new(move |committed| {
                let _ = reply.send(committed.and(result));
            });
            (ok, done)
        });
        self.tx
            .send(job)
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?
    }
}

fn run_loop(conn: Connection, mut rx: mpsc::UnboundedReceiver<WriteFn>, fanout: FanoutCache) {
    let mut group: Vec<WriteFn> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&conn, &mut group, &fanout);
    }
}

/// Runs a statement through the statement cache: the per-write savepoints would otherwise be
/// parsed again for every write.
fn run_cached(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn commit_group(conn: &Connection, group: &mut Vec<WriteFn>, fanout: &FanoutCache) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let err = StoreError::from(e);
        for job in group.drain(..) {
            // Nothing ran: report the failure to begin without running the write.
            drop(job);
        }
        tracing::error!(error = %err, "cannot begin a write transaction");
        return;
    }
    let mut completions = Vec::with_capacity(group.len());
    for job in group.drain(..) {
        let _ = run_cached(conn, "SAVEPOINT w");
        let (ok, done) = job(conn);
        if !ok {
            let _ = run_cached(conn, "ROLLBACK TO w");
        }
        let _ = run_cached(conn, "RELEASE w");
        completions.push(done);
    }
    let committed = run_cached(conn, "COMMIT");
    if let Err(e) = &committed {
        tracing::error!(error = %e, "group commit failed");
        let _ = conn.execute_batch("ROLLBACK");
        // Anything cached from inside the failed transaction is not in the database.
        fanout.clear();
    }
    for done in completions {
        let outcome = match &committed {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::Unavailable(e.to_string())),
        };
        done(outcome);
    }
}
