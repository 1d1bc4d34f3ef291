//! Failing storage under a SQLite database: a full file system, and files that refuse writes.
//! Publishes answer 503 while the database cannot write (never 202 for something unstored,
//! never 500), every 202 is delivered, and Herald recovers by itself once writes work again.
//! The full file system is a small tmpfs the test mounts (the suite runs as root). Retries
//! wait for the store: no request goes out whose previous attempt has no row.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::db::on_postgres;
use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn new(dir: &Path, size: &str) -> Mount {
        let at = dir.join("disk");
        std::fs::create_dir_all(&at).expect("mkdir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "cannot mount a tmpfs at {} (the suite runs as root)",
            at.display()
        );
        Mount(at)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Herald on a SQLite file inside `mount`, with an app and an endpoint at `rx`.
async fn start_on(dir: &TempDir, mount: &Mount, rx: &Receiver) -> (Herald, String) {
    let url = format!("sqlite://{}", mount.0.join("herald.db").display());
    std::fs::write(dir.0.join("database_url"), url).expect("point the test at the mount");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    herald.create_endpoint(&app, json!({"url": rx.url})).await;
    (herald, app)
}

/// Publishes events `from..to` of about 20 KB each (`data.i` numbers them): the numbers
/// acknowledged with 202, and every status seen.
async fn publish_some(herald: &Herald, app: &str, from: u64, to: u64) -> (Vec<u64>, HashSet<u16>) {
    let (mut acked, mut seen) = (Vec::new(), HashSet::new());
    let pad = "x".repeat(20_000);
    for i in from..to {
        let body = json!({"type": "room.created", "data": {"i": i, "pad": pad}});
        let (s, _) = herald.publish(app, body).await;
        seen.insert(s);
        if s == 202 {
            acked.push(i);
        }
    }
    (acked, seen)
}

/// Waits until the receiver got every acknowledged event.
async fn all_delivered(rx: &Receiver, acked: &[u64]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got: HashSet<u64> = rx
            .got()
            .iter()
            .filter_map(|r| r.json()["data"]["i"].as_u64())
            .collect();
        let missing: Vec<&u64> = acked.iter().filter(|i| !got.contains(i)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "acknowledged events never arrived: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Publishes until one answers 503 (the file system is full), checking nothing else but
/// 202 and 503 is ever answered; answers what was acknowledged.
async fn until_refused(herald: &Herald, app: &str, from: u64) -> Vec<u64> {
    let (acked, seen) = publish_some(herald, app, from, from + 40).await;
    assert!(seen.contains(&503), "never refused: {seen:?}");
    assert!(seen.iter().all(|s| matches!(s, 202 | 503)), "{seen:?}");
    acked
}

#[tokio::test]
async fn a_full_disk_answers_503_loses_no_202_and_recovers_without_a_restart() {
    if on_postgres() {
        return eprintln!("skipped: a SQLite file system test");
    }
    let dir = TempDir::new("disk-full");
    let mount = Mount::new(&dir.0, "6m");
    let rx = Receiver::start().await;
    let (herald, app) = start_on(&dir, &mount, &rx).await;
    let (mut acked, _) = publish_some(&herald, &app, 0, 10).await;
    all_delivered(&rx, &acked).await;
    // Fill what is left of the file system.
    let filler = mount.0.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 8 << 20]);
    acked.extend(until_refused(&herald, &app, 100).await);
    let (s, _, ready) = herald.call("GET", "/readyz", None).await;
    assert!(s == 200 || s == 503, "{s} {ready}");
    std::fs::remove_file(&filler).expect("free the space");
    let (more, seen) = publish_some(&herald, &app, 200, 210).await;
    assert_eq!(seen, HashSet::from([202]), "publishing did not recover");
    acked.extend(more);
    all_delivered(&rx, &acked).await;
}

/// Sets or clears the immutable flag of the database's files: writes to them fail, even
/// through descriptors already open (as root, permissions alone would not stop them).
fn immutable(db: &Path, on: bool) {
    for suffix in ["", "-wal"] {
        let file = format!("{}{suffix}", db.display());
        let flag = if on { "+i" } else { "-i" };
        let ok = Command::new("chattr")
            .args([flag, &file])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chattr {flag} {file}");
    }
}

#[tokio::test]
async fn a_database_that_cannot_be_written_answers_503_and_recovers() {
    if on_postgres() {
        return eprintln!("skipped: a SQLite file system test");
    }
    let dir = TempDir::new("disk-ro");
    let rx = Receiver::start().await;
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    herald.create_endpoint(&app, json!({"url": rx.url})).await;
    let (mut acked, _) = publish_some(&herald, &app, 0, 5).await;
    let db = dir.0.join("herald.db");
    immutable(&db, true);
    let (none, seen) = publish_some(&herald, &app, 100, 105).await;
    immutable(&db, false);
    assert!(
        none.is_empty(),
        "acknowledged while the file could not be written: {none:?}"
    );
    assert_eq!(seen, HashSet::from([503]));
    let (more, seen) = publish_some(&herald, &app, 200, 205).await;
    assert_eq!(seen, HashSet::from([202]), "publishing did not recover");
    acked.extend(more);
    all_delivered(&rx, &acked).await;
}

#[tokio::test]
async fn retries_wait_for_a_store_that_cannot_take_their_attempts() {
    if on_postgres() {
        return eprintln!("skipped: a SQLite file system test");
    }
    let dir = TempDir::new("disk-ro-retries");
    let rx = Receiver::start().await;
    rx.set_default(Reply::Status(500));
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let endpoint = json!({"url": rx.url, "retry_schedule_s": vec![1; 30]});
    herald.create_endpoint(&app, endpoint).await;
    let (acked, _) = publish_some(&herald, &app, 0, 3).await;
    assert_eq!(acked.len(), 3);
    rx.wait_count(6, Duration::from_secs(20)).await;

    let db = dir.0.join("herald.db");
    immutable(&db, true);
    let before = rx.count();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let during = rx.count() - before;
    rx.set_default(Reply::Status(200));
    immutable(&db, false);
    // Each delivery's try whose row could not be written, and none after it.
    assert!(
        during <= 3,
        "{during} requests went out while no row could be written"
    );

    let list = format!("/v1/apps/{app}/deliveries?status=succeeded");
    let done = herald
        .wait_for(&list, Duration::from_secs(60), |v| {
            v["data"].as_array().is_some_and(|d| d.len() == 3)
        })
        .await;
    let seen = rx.per_delivery();
    for d in done["data"].as_array().expect("deliveries") {
        let id = d["id"].as_str().expect("id");
        let path = format!("/v1/apps/{app}/deliveries/{id}");
        let attempts = herald.call("GET", &path, None).await.2["attempts"].clone();
        let logged = attempts.as_array().map_or(0, Vec::len);
        assert_eq!(logged, seen[id], "{id}: attempt rows vs requests received");
    }
}
