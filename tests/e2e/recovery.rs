//! Crashes, resends, recovery and endpoints that ask to be disabled.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{database_url, Herald, TempDir, ADMIN};
use crate::receiver::{Receiver, Reply};

#[tokio::test]
async fn sigkill_under_load_loses_no_acknowledged_event() {
    let dir = TempDir::new("sigkill");
    let mut herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    herald
        .create_endpoint(
            &app,
            json!({"url": rx.url, "retry_schedule_s": [0, 1, 1, 1, 1]}),
        )
        .await;
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let url = format!("{}/v1/apps/{app}/events", herald.base);
    let mut clients = Vec::new();
    for c in 0..8 {
        let (acked, url) = (Arc::clone(&acked), url.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for n in 0.. {
                let marker = format!("c{c}-{n}");
                let body = json!({"type": "participant.joined", "data": {"marker": marker}});
                match http.post(&url).bearer_auth(ADMIN).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 202 => {
                        acked.lock().expect("lock").insert(marker);
                    }
                    Ok(r) => panic!("publish answered {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    herald.kill();
    for c in clients {
        let _ = c.await;
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() > 100,
        "too little load before the kill: {}",
        acked.len()
    );
    let restarted = Herald::start(&dir.0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen: HashSet<String> = rx
            .got()
            .iter()
            .filter_map(|r| r.json()["data"]["marker"].as_str().map(str::to_owned))
            .collect();
        let missing: Vec<_> = acked.iter().filter(|m| !seen.contains(*m)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} acknowledged events never delivered, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(restarted);
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_resend_delivers_again() {
    let dir = TempDir::new("gone");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.script(vec![Reply::Status(410)]);
    let app = herald.create_app("standard").await;
    let (ep, _) = herald.create_endpoint(&app, json!({"url": rx.url})).await;
    herald
        .publish(&app, json!({"type": "room.created", "data": {}}))
        .await;
    let list = herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries"),
            Duration::from_secs(10),
            |v| v["data"][0]["status"] == "failed",
        )
        .await;
    let (_, _, endpoint) = herald
        .call("GET", &format!("/v1/apps/{app}/endpoints/{ep}"), None)
        .await;
    assert_eq!(endpoint["enabled"], false);
    assert!(endpoint["disabled_reason"]
        .as_str()
        .unwrap_or_default()
        .contains("410"));
    // Re-enable, then resend by hand: a manual attempt that succeeds.
    let (s, _, _) = herald
        .call(
            "PATCH",
            &format!("/v1/apps/{app}/endpoints/{ep}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, 200);
    let dlv = list["data"][0]["id"].as_str().expect("id");
    let (s, _, _) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/deliveries/{dlv}/resend"),
            None,
        )
        .await;
    assert_eq!(s, 202);
    let detail = herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries/{dlv}"),
            Duration::from_secs(10),
            |v| v["status"] == "succeeded",
        )
        .await;
    assert_eq!(detail["attempts"][1]["trigger"], "manual");
    assert_eq!(rx.count(), 2);
}

#[tokio::test]
async fn recover_requeues_failed_deliveries() {
    let dir = TempDir::new("recover");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.script(vec![
        Reply::Status(500),
        Reply::Status(500),
        Reply::Status(500),
    ]);
    let app = herald.create_app("standard").await;
    let (ep, _) = herald
        .create_endpoint(&app, json!({"url": rx.url, "retry_schedule_s": []}))
        .await;
    for n in 0..3 {
        herald
            .publish(&app, json!({"type": "room.created", "data": {"n": n}}))
            .await;
    }
    herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries?status=failed"),
            Duration::from_secs(10),
            |v| v["data"].as_array().map(Vec::len) == Some(3),
        )
        .await;
    let (s, _, out) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/endpoints/{ep}/recover"),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!((s, out["recovered"].clone()), (202, json!(3)));
    herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries?status=succeeded"),
            Duration::from_secs(10),
            |v| v["data"].as_array().map(Vec::len) == Some(3),
        )
        .await;
    assert_eq!(rx.count(), 6);
}

// Multi-threaded: the test blocks on the child's exit while its receiver must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_exits_cleanly_and_migrate_runs_alone() {
    let dir = TempDir::new("shutdown");
    let mut herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    rx.script(vec![Reply::Slow(Duration::from_millis(700), 200)]);
    let app = herald.create_app("standard").await;
    herald.create_endpoint(&app, json!({"url": rx.url})).await;
    herald
        .publish(&app, json!({"type": "room.created", "data": {}}))
        .await;
    rx.wait_count(1, Duration::from_secs(5)).await;
    // The request is in flight; SIGTERM lets it finish and record before exiting.
    let pid = herald.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let exited = herald.child.wait().expect("wait");
    assert!(exited.success(), "herald exited with {exited}");
    let restarted = Herald::start(&dir.0);
    let (_, _, list) = restarted
        .call("GET", &format!("/v1/apps/{app}/deliveries"), None)
        .await;
    assert_eq!(list["data"][0]["status"], "succeeded", "{list}");
    drop(restarted);

    let fresh_dir = TempDir::new("migrate");
    let fresh = database_url(&fresh_dir.0);
    let migrate = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["migrate", "--database", &fresh])
            .env("HERALD_CONFIG", dir.0.join("absent.toml"))
            .output()
            .expect("migrate");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = migrate();
    assert!(
        first.contains("migration(s) applied") && !first.contains(": 0 migration"),
        "{first}"
    );
    assert!(migrate().contains(": 0 migration(s) applied"));
}
