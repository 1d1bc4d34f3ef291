//! WAL checkpoints, mostly on a thread of their own, out of the writer's commits.
//!
//! Left to itself SQLite checkpoints inside the commit that takes the WAL past 1,000 pages:
//! that commit copies the pages into the database file and syncs it before its writes are
//! acknowledged, and every write queued behind it waits. Under W1 the WAL passed 1,000 pages
//! dozens of times a second (each commit writes every page it touches, and the hot index
//! pages are touched by every commit), and those checkpoints took a sixth of the writer's time.
//!
//! So the writer's connection runs with `wal_autocheckpoint = 0`, and a thread of its own
//! runs a PASSIVE checkpoint (one that blocks neither the writer nor a reader) a short while
//! after commits, copying each page once however many commits wrote it. That alone never
//! lets the WAL start over, since new commits land while it copies; so once the WAL is long,
//! the writer, between two groups, runs one more PASSIVE checkpoint itself. That one copies
//! only the pages written since, and the next transaction then starts the WAL from the top.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

/// How long commits gather before the checkpointer copies them: long enough that a hot page
/// written by many commits is copied once, short enough that the WAL stays a few MB.
const GATHER: Duration = Duration::from_millis(200);

/// WAL pages past which the writer finishes the checkpoint so that the WAL starts over.
const RESTART_PAGES: i64 = 1000;

/// The writer's side: tells the checkpointer about commits, and finishes its checkpoints.
pub struct Checkpoints {
    nudge: SyncSender<()>,
    finish: Arc<AtomicBool>,
}

impl Checkpoints {
    /// Called by the writer after each group, outside any transaction: never blocks it on
    /// the checkpointer, and only copies pages itself when the WAL should start over.
    pub fn committed(&self, writer: &Connection) {
        // Kept until it copies everything: it cannot while the checkpointer's own pass runs.
        if self.finish.load(Ordering::Relaxed) && checkpoint(writer).is_some_and(|c| c.complete()) {
            self.finish.store(false, Ordering::Relaxed);
        }
        // Full: a checkpoint is already due. Gone: the store is closing.
        let _ = self.nudge.try_send(());
    }
}

/// Starts the checkpointer on `conn`, a connection of its own to the writer's database.
/// It stops, after a last checkpoint, once the writer's `Checkpoints` is dropped.
pub fn start(conn: Connection) -> StoreResult<Checkpoints> {
    let (nudge, rx) = mpsc::sync_channel::<()>(1);
    let finish = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&finish);
    std::thread::Builder::new()
        .name("herald-sqlite-checkpoint".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                let more = gather(&rx);
                if checkpoint(&conn).is_some_and(|c| c.log >= RESTART_PAGES) {
                    flag.store(true, Ordering::Relaxed);
                }
                if !more {
                    break;
                }
            }
        })
        .map_err(|e| StoreError::Internal(format!("cannot start the checkpointer: {e}")))?;
    Ok(Checkpoints { nudge, finish })
}

/// Waits out the gathering time; answers false when the writer has gone.
fn gather(rx: &mpsc::Receiver<()>) -> bool {
    let until = Instant::now() + GATHER;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(()) if !left.is_zero() => continue,
            Ok(()) | Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

/// What a checkpoint did: whether another checkpoint kept it from running, the WAL's length
/// in pages, and how many of them are in the database file now.
struct Done {
    busy: bool,
    log: i64,
    copied: i64,
}

impl Done {
    /// Every page is in the database file: the next transaction starts the WAL over.
    fn complete(&self) -> bool {
        !self.busy && self.copied >= self.log
    }
}

/// One PASSIVE checkpoint. A failure (a full disk, a read-only file) is logged and tried
/// again after the next commits: the WAL keeps every page meanwhile, so nothing is lost.
fn checkpoint(conn: &Connection) -> Option<Done> {
    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok(Done {
            busy: r.get::<_, i64>(0)? != 0,
            log: r.get(1)?,
            copied: r.get(2)?,
        })
    });
    match done {
        Ok(done) => Some(done),
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed; it is tried again");
            None
        }
    }
}
