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

/// The schema two migrations back: the status indexes held every delivery, succeeded too,
/// and apps had no `enforce_schemas`.
const STATUS_INDEXES_BEFORE: &str = "ALTER TABLE apps DROP COLUMN enforce_schemas; \
     DROP INDEX deliveries_status; \
     CREATE INDEX deliveries_status ON deliveries (app_id, status, id); \
     DROP INDEX deliveries_endpoint_status; \
     CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, id);";

/// The schema version before the two newest migrations, as each backend records it.
fn previous_version() -> &'static str {
    match on_postgres() {
        true => "DELETE FROM herald_schema WHERE version > 10;",
        false => "PRAGMA user_version = 12;",
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

    dir.1
        .execute(&format!("{STATUS_INDEXES_BEFORE} {}", previous_version()));
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
