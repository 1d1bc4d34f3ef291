//! Secrets at rest: with `HERALD_SECRET_KEY` set, no endpoint secret, ingest secret or portal
//! signing key is stored in clear; without the key (or with another) Herald refuses to start on that database;
//! `herald rekey` moves the secrets to a new key and deliveries still verify.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::db::on_postgres;
use crate::harness::{database_url, herald_verify, Herald, TempDir};
use crate::receiver::Receiver;

const K1: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const K2: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
const INGEST_SECRET: &str = "livekit-ingest-secret-0123456789";

/// Runs `herald` with `args` on the test's database; answers whether it succeeded and what
/// it printed. A command still running after 20 s (a server that did start) is stopped and
/// counts as a success.
fn herald_cmd(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let log = dir
        .0
        .join(format!("cmd-{}.log", crate::harness::rand_suffix()));
    let out = std::fs::File::create(&log).expect("log file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.args(args)
        .args(["--database", &database_url(&dir.0)])
        .env("HERALD_CONFIG", dir.0.join("absent.toml"))
        .env("HERALD_ADMIN_TOKEN", crate::harness::ADMIN)
        .env_remove("HERALD_SECRET_KEY")
        .stdout(out.try_clone().expect("log file"))
        .stderr(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run herald");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let ok = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.success();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (ok, std::fs::read_to_string(&log).unwrap_or_default())
}

/// Every stored byte of the database: the SQLite file and its WAL, or on PostgreSQL the
/// apps' and endpoints' rows as text.
fn stored(dir: &TempDir) -> String {
    let url = database_url(&dir.0);
    if on_postgres() {
        let out = Command::new("psql")
            .args([
                &url,
                "-qAtc",
                "SELECT ingest FROM apps UNION ALL SELECT doc FROM endpoints",
            ])
            .output()
            .expect("psql");
        return String::from_utf8_lossy(&out.stdout).into_owned();
    }
    let path = url.trim_start_matches("sqlite://").to_owned();
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::read(format!("{path}{s}")).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

/// The stored portal signing key, read past Herald.
fn stored_portal_key(dir: &TempDir) -> String {
    let url = database_url(&dir.0);
    let sql = "SELECT value FROM meta WHERE key = 'portal_signing_key'";
    if on_postgres() {
        let out = Command::new("psql")
            .args([&url, "-qAtc", sql])
            .output()
            .expect("psql");
        return String::from_utf8_lossy(&out.stdout).trim().to_owned();
    }
    let conn = rusqlite::Connection::open(url.trim_start_matches("sqlite://")).expect("open");
    conn.query_row(sql, [], |r| r.get(0)).expect("a portal key")
}

/// Mints a portal link to `app`; answers its path.
async fn portal_link(herald: &Herald, app: &str) -> String {
    let path = format!("/v1/apps/{app}/portal-links");
    let (status, _, link) = herald
        .call("POST", &path, Some(json!({"expires_in_s": 600})))
        .await;
    assert_eq!(status, 201, "{link}");
    link["url"].as_str().expect("url").to_owned()
}

/// Whether a portal link opens (a redirect into the app's pages).
async fn opens(herald: &Herald, link: &str) -> bool {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client
        .get(format!("{}{link}", herald.base))
        .send()
        .await
        .expect("open the link");
    resp.status().as_u16() == 303
}

/// Publishes one event and checks that the delivery verifies with `secret`.
async fn delivers_verified(herald: &Herald, app: &str, rx: &Receiver, secret: &str) {
    let before = rx.count();
    herald
        .publish(app, json!({"type": "room.created", "data": {}}))
        .await;
    let got = rx.wait_count(before + 1, Duration::from_secs(10)).await;
    let req = &got[before];
    let (ok, out) = herald_verify("standard", secret, None, &req.headers, &req.body, None);
    assert!(ok, "{out}");
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_refused_without_the_key_and_rekeyed() {
    let dir = TempDir::new("secrets");
    let rx = Receiver::start().await;
    let herald = Herald::start_with(&dir.0, &[("HERALD_SECRET_KEY", K1)]);
    let body = json!({"name": "a", "preset": "standard",
        "ingest": {"livekit": {"api_key": "lk", "api_secret": INGEST_SECRET}}});
    let (s, _, app) = herald.call("POST", "/v1/apps", Some(body)).await;
    assert_eq!(s, 201, "{app}");
    let app = app["id"].as_str().expect("id").to_owned();
    let (ep, secret) = herald.create_endpoint(&app, json!({"url": rx.url})).await;
    delivers_verified(&herald, &app, &rx, &secret).await;
    let link = portal_link(&herald, &app).await;
    assert!(opens(&herald, &link).await, "{link}");
    drop(herald);
    let portal_key = stored_portal_key(&dir);
    assert!(
        portal_key.starts_with("sealed:v1:"),
        "the portal signing key is stored in clear: {portal_key}"
    );
    let raw = stored(&dir);
    let key_material = secret.trim_start_matches("whsec_");
    assert!(raw.contains("sealed:v1:"), "nothing sealed");
    assert!(
        !raw.contains(key_material),
        "an endpoint secret is stored in clear"
    );
    assert!(
        !raw.contains(INGEST_SECRET),
        "an ingest secret is stored in clear"
    );

    let (ok, out) = herald_cmd(&dir, &["serve", "--listen", "127.0.0.1:0"], &[]);
    assert!(
        !ok && out.contains("HERALD_SECRET_KEY"),
        "started without the key: {out}"
    );
    let (ok, out) = herald_cmd(
        &dir,
        &["rekey"],
        &[("HERALD_SECRET_KEY", K1), ("HERALD_NEW_SECRET_KEY", K2)],
    );
    assert!(ok, "{out}");
    let (ok, out) = herald_cmd(
        &dir,
        &["serve", "--listen", "127.0.0.1:0"],
        &[("HERALD_SECRET_KEY", K1)],
    );
    assert!(
        !ok && out.contains("not the key"),
        "started with the old key: {out}"
    );

    let herald = Herald::start_with(&dir.0, &[("HERALD_SECRET_KEY", K2)]);
    let (_, _, shown) = herald
        .call(
            "GET",
            &format!("/v1/apps/{app}/endpoints/{ep}/secret"),
            None,
        )
        .await;
    assert_eq!(shown["secret"], secret.as_str(), "{shown}");
    delivers_verified(&herald, &app, &rx, &secret).await;
    assert!(
        opens(&herald, &link).await,
        "a portal link minted before the rekey stopped working"
    );
    assert_ne!(stored_portal_key(&dir), portal_key, "not resealed");
}

#[tokio::test]
async fn secrets_stored_in_clear_are_sealed_when_a_key_is_set() {
    let dir = TempDir::new("secrets-later");
    let rx = Receiver::start().await;
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let (_, secret) = herald.create_endpoint(&app, json!({"url": rx.url})).await;
    let link = portal_link(&herald, &app).await;
    drop(herald);
    let key_material = secret.trim_start_matches("whsec_").to_owned();
    assert!(
        stored(&dir).contains(&key_material),
        "stored in clear without a key"
    );
    assert!(!stored_portal_key(&dir).starts_with("sealed:"));
    let herald = Herald::start_with(&dir.0, &[("HERALD_SECRET_KEY", K1)]);
    delivers_verified(&herald, &app, &rx, &secret).await;
    assert!(opens(&herald, &link).await, "the link broke when sealed");
    drop(herald);
    assert!(stored_portal_key(&dir).starts_with("sealed:v1:"));
    if !on_postgres() {
        // A SQLite file keeps freed pages until they are reused: look at the live rows.
        let url = database_url(&dir.0);
        let db = url.trim_start_matches("sqlite://");
        let out = Command::new("python3")
            .args(["-c", "import sqlite3,sys; print(''.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select doc from endpoints')))", db])
            .output()
            .expect("python3");
        let docs = String::from_utf8_lossy(&out.stdout);
        assert!(
            docs.contains("sealed:v1:") && !docs.contains(&key_material),
            "{docs}"
        );
    } else {
        assert!(!stored(&dir).contains(&key_material), "still in clear");
    }
}
