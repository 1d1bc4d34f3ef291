//! A database left by the previous schema, holding work of every kind, is upgraded in place
//! when Herald starts on it, and all of that work is delivered.
//!
//! The work is made by Herald itself (pending retries, failed deliveries and an ordered
//! room held behind its head), then the database is taken back to the previous schema (what
//! the newest migration changed, undone) and Herald started again on it.

use std::time::Duration;

use serde_json::json;

use crate::db::on_postgres;
use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

/// What the newest migration changed, undone, and the version before it, per backend. On
/// PostgreSQL (0011) the status indexes held every delivery, succeeded too; on SQLite (0014)
/// every attempt was a row of `attempts`, none was kept in its delivery's row.
fn previous_schema() -> String {
    const FIRSTS: [&str; 8] = [
        "id",
        "started_at",
        "duration_ms",
        "status_code",
        "error_kind",
        "response_body",
        "request_headers",
        "trigger",
    ];
    match on_postgres() {
        true => "DROP INDEX deliveries_status; \
             CREATE INDEX deliveries_status ON deliveries (app_id, status, id); \
             DROP INDEX deliveries_endpoint_status; \
             CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, id); \
             DELETE FROM herald_schema WHERE version > 10;"
            .to_owned(),
        false => {
            let cols = FIRSTS.map(|c| format!("a1_{c}")).join(", ");
            let drops: String = FIRSTS
                .iter()
                .map(|c| format!("ALTER TABLE deliveries DROP COLUMN a1_{c}; "))
                .collect();
            format!(
                "INSERT INTO attempts (delivery_id, number, lapsed_lease, {}) \
                 SELECT id, 1, 0, {cols} FROM deliveries WHERE a1_id IS NOT NULL; \
                 {drops} PRAGMA user_version = 13;",
                FIRSTS.join(", ")
            )
        }
    }
}

/// Short leases, so that what the killed process held is claimable soon after; no breaker,
/// so that the 503s before the upgrade do not hold the endpoints after it.
const ENV: [(&str, &str); 2] = [("HERALD_LEASE_S", "3"), ("HERALD_BREAKER_FAILURES", "0")];

#[tokio::test]
async fn pending_failed_and_ordered_work_survives_the_upgrade() {
    let dir = TempDir::new("upgrade");
    let mut herald = Herald::start_with(&dir.0, &ENV);
    let (failing, retrying, ordered) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    for rx in [&failing, &retrying, &ordered] {
        rx.set_default(Reply::Status(503));
    }
    let app = herald.create_app("standard").await;
    let (failed_ep, _) = herald
        .create_endpoint(&app, json!({"url": failing.url, "retry_schedule_s": []}))
        .await;
    herald
        .create_endpoint(
            &app,
            json!({"url": retrying.url, "retry_schedule_s": [1, 1, 1, 1, 1, 1, 1, 1]}),
        )
        .await;
    herald
        .create_endpoint(
            &app,
            json!({"url": ordered.url, "ordering": "per_room", "retry_schedule_s": [1, 1, 1, 1, 1, 1, 1, 1]}),
        )
        .await;
    for n in 0..4 {
        let (s, _) = herald
            .publish(
                &app,
                json!({"type": "participant.joined", "labels": {"room_id": "r1"}, "data": {"n": n}}),
            )
            .await;
        assert_eq!(s, 202);
    }
    herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries?status=failed"),
            Duration::from_secs(20),
            |v| v["data"].as_array().map(Vec::len) == Some(4),
        )
        .await;
    retrying.wait_count(4, Duration::from_secs(20)).await;
    ordered.wait_count(1, Duration::from_secs(20)).await;
    herald.kill();

    dir.1.execute(&previous_schema());
    for rx in [&failing, &retrying, &ordered] {
        rx.set_default(Reply::Status(200));
    }
    let herald = Herald::start_with(&dir.0, &ENV);
    let (s, _, out) = herald
        .call(
            "POST",
            &format!("/v1/apps/{app}/endpoints/{failed_ep}/recover"),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!((s, out["recovered"].clone()), (202, json!(4)), "{out}");
    herald
        .wait_for(
            &format!("/v1/apps/{app}/deliveries?status=succeeded&limit=50"),
            Duration::from_secs(60),
            |v| v["data"].as_array().map(Vec::len) == Some(12),
        )
        .await;
    let (_, _, pending) = herald
        .call(
            "GET",
            &format!("/v1/apps/{app}/deliveries?status=pending"),
            None,
        )
        .await;
    assert_eq!(pending["data"], json!([]), "{pending}");
    // Each delivery's log reads whole, attempts from before the upgrade and after it in
    // order, from the first to the success.
    let all = herald.list_all(&format!("/v1/apps/{app}/deliveries")).await;
    for d in &all {
        let path = format!(
            "/v1/apps/{app}/deliveries/{}",
            d["id"].as_str().expect("id")
        );
        let (_, _, detail) = herald.call("GET", &path, None).await;
        let attempts = detail["attempts"].as_array().expect("attempts");
        let numbers: Vec<u64> = attempts
            .iter()
            .filter_map(|a| a["number"].as_u64())
            .collect();
        assert!(
            numbers.first() == Some(&1) && numbers.is_sorted(),
            "{detail}"
        );
        let last = attempts.last().expect("an attempt");
        assert_eq!(last["status_code"], 200, "{detail}");
    }

    // The ordered room reached its endpoint in publish order: the first success of each
    // event comes after the first success of the one before.
    let firsts: Vec<i64> = ordered
        .got()
        .iter()
        .filter(|r| r.replied == 200)
        .map(|r| r.json()["data"]["n"].as_i64().expect("n"))
        .fold(Vec::new(), |mut seen, n| {
            if !seen.contains(&n) {
                seen.push(n);
            }
            seen
        });
    assert_eq!(firsts, vec![0, 1, 2, 3]);
    // The status indexes were rebuilt without the succeeded deliveries.
    let definition = match on_postgres() {
        true => dir
            .1
            .scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'deliveries_status'"),
        false => dir
            .1
            .scalar("SELECT sql FROM sqlite_master WHERE name = 'deliveries_status'"),
    };
    assert!(definition.contains("succeeded"), "{definition}");
}
