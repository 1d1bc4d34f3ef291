//! The writer's group commit: a failing write undoes only itself.

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

/// With autocheckpoints off, the checkpointer and the writer's finishing checkpoint still
/// make the WAL start over while commits keep coming: its file stays shorter than all the
/// pages written.
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

    // Each commit writes at least three pages: the row's leaf and two overflow pages.
    let started = std::time::Instant::now();
    let mut commits: u64 = 0;
    while commits < 3000 || started.elapsed() < std::time::Duration::from_secs(1) {
        let k = commits as i64;
        writer
            .run(move |c| {
                c.execute("INSERT INTO b VALUES (?1, zeroblob(8000))", [k])?;
                Ok(())
            })
            .await
            .expect("insert");
        commits += 1;
    }
    let wal = std::fs::metadata(dir.join("wal.db-wal"))
        .expect("wal")
        .len();
    let pages = wal / (4096 + 24);
    assert!(
        pages < commits * 3 / 2,
        "the WAL holds {pages} pages after {commits} commits of 3 or more"
    );
    drop(writer);
    let _ = std::fs::remove_dir_all(&dir);
}
