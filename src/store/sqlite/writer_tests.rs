//! The writer's group commit: a failing write undoes only itself; writes nobody waits on
//! wait for company, until an urgent one comes.

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
    let checkpoints = super::super::checkpoint::start(Connection::open(&path).expect("open"))
        .expect("checkpointer");
    let writer =
        Arc::new(Writer::start(conn, FanoutCache::default(), checkpoints).expect("writer"));
    (writer, path)
}

#[tokio::test]
async fn a_failing_write_undoes_only_itself() {
    let dir = std::env::temp_dir().join(format!("herald-writer-{}", std::process::id()));
    let (writer, path) = writer(&dir);

    // The first write holds the writer until the others are queued: they share a group.
    let (go, wait) = mpsc::channel::<()>();
    let wait = Mutex::new(wait);
    let w = Arc::clone(&writer);
    let first = tokio::spawn(async move {
        w.run(Urgency::Now, move |c| {
            let _ = wait.lock().map(|rx| rx.recv());
            insert(c, 0)
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut queued = Vec::new();
    // 3 twice: the second fails, after having written 13 in the same write.
    for (k, extra) in [(1, None), (2, None), (3, None), (3, Some(13)), (4, None)] {
        let (w, runs) = (Arc::clone(&writer), Arc::clone(&runs));
        queued.push(tokio::spawn(async move {
            w.run(Urgency::Now, move |c| {
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
    tokio::time::sleep(Duration::from_millis(100)).await;
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
        .run(Urgency::Now, |c| {
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

/// The WAL header's checkpoint sequence number (bytes 12 to 15, big-endian): SQLite adds
/// one each time the WAL starts over.
fn wal_restarts(wal: &std::path::Path) -> Option<u32> {
    let bytes = std::fs::read(wal).ok()?;
    let field: [u8; 4] = bytes.get(12..16)?.try_into().ok()?;
    Some(u32::from_be_bytes(field))
}

/// With autocheckpoints off, the checkpointer and the writer's finishing checkpoint still
/// make the WAL start over, again and again, while commits keep coming.
#[tokio::test]
async fn the_wal_starts_over_while_the_writer_goes_on() {
    let dir = std::env::temp_dir().join(format!("herald-wal-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("wal.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE b (k INTEGER PRIMARY KEY, v BLOB)",
    )
    .expect("schema");
    let checkpoints = super::super::checkpoint::start(Connection::open(&path).expect("open"))
        .expect("checkpointer");
    let writer = Writer::start(conn, FanoutCache::default(), checkpoints).expect("writer");

    let wal = dir.join("wal.db-wal");
    let mut first = None;
    let mut commits: i64 = 0;
    // Bounded by commits, not time: on a loaded machine the checkpointer may run late.
    while commits < 2_000_000 {
        writer
            .run(Urgency::Now, move |c| {
                c.execute("INSERT INTO b VALUES (?1, zeroblob(8000))", [commits])?;
                Ok(())
            })
            .await
            .expect("insert");
        commits += 1;
        first = first.or_else(|| wal_restarts(&wal));
        if commits % 500 == 0 && restarted_twice(first, wal_restarts(&wal)) {
            break;
        }
    }
    let now = wal_restarts(&wal);
    assert!(
        restarted_twice(first, now),
        "the WAL started over fewer than twice in {commits} commits: {first:?} then {now:?}"
    );
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
}

fn restarted_twice(first: Option<u32>, now: Option<u32>) -> bool {
    matches!((first, now), (Some(a), Some(b)) if b.wrapping_sub(a) >= 2)
}

/// A write for `gather`, which only looks at its urgency.
fn queued(urgency: Urgency) -> Box<dyn Write> {
    let (reply, _) = oneshot::channel::<StoreResult<()>>();
    Box::new(Pending {
        f: |_: &Connection| Ok(()),
        urgency,
        result: None,
        reply,
    })
}

#[test]
fn a_patient_group_waits_for_company_until_an_urgent_write() {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        let _ = tx.send(queued(Urgency::Soon));
        std::thread::sleep(Duration::from_millis(20));
        let _ = tx.send(queued(Urgency::Now));
        // Sent only once the group is gathered: it must not be waited for.
        let _ = done_rx.recv();
        let _ = tx.send(queued(Urgency::Soon));
    });
    let mut group = vec![queued(Urgency::Soon)];
    // An hour's patience: only the urgent write ends the wait.
    gather(&rx, &mut group, Duration::from_secs(3600));
    let urgencies: Vec<bool> = group.iter().map(|w| w.urgency() == Urgency::Now).collect();
    assert_eq!(urgencies, [false, false, true]);
    let _ = done_tx.send(());
    sender.join().expect("sender");
    assert!(
        rx.recv().is_ok(),
        "the later write is left for the next group"
    );
}

#[test]
fn an_urgent_group_takes_what_is_queued_and_waits_for_nothing() {
    let (tx, rx) = mpsc::channel();
    let _ = tx.send(queued(Urgency::Soon));
    let mut group = vec![queued(Urgency::Now)];
    // Kept open: an urgent group must not wait for more.
    gather(&rx, &mut group, Duration::from_secs(3600));
    assert_eq!(group.len(), 2);
    let mut lone = vec![queued(Urgency::Soon)];
    gather(&rx, &mut lone, Duration::from_millis(10));
    assert_eq!(
        lone.len(),
        1,
        "a lone patient write commits after its patience"
    );
    drop(tx);
}
