//! An endpoint edited through one node is honoured by the dispatcher of another within a
//! few seconds: its retries go to the new URL. Runs only when `HERALD_TEST_DATABASE_URL`
//! names a PostgreSQL server.

use std::time::Duration;

use serde_json::json;

use crate::db::needs_postgres;
use crate::harness::{Herald, TempDir};
use crate::receiver::{Receiver, Reply};

#[tokio::test]
async fn cluster_dispatchers_follow_an_endpoint_edited_on_another_node() {
    if !needs_postgres() {
        return;
    }
    let dir = TempDir::new("cluster-edit");
    let api = Herald::start_with(&dir.0, &[("HERALD_ROLE", "api")]);
    let _sender = Herald::start_with(&dir.0, &[("HERALD_ROLE", "dispatcher")]);

    let old = Receiver::start().await;
    old.set_default(Reply::Status(500));
    let new = Receiver::start().await;
    let app = api.create_app("standard").await;
    let (ep, _) = api
        .create_endpoint(
            &app,
            json!({"url": old.url, "retry_schedule_s": vec![1; 30]}),
        )
        .await;
    let (status, _) = api
        .publish(&app, json!({"type": "participant.joined", "data": {}}))
        .await;
    assert_eq!(status, 202);
    // The dispatcher has the endpoint's settings in hand once it has tried the old URL.
    old.wait_count(2, Duration::from_secs(15)).await;

    let (s, _, body) = api
        .call(
            "PATCH",
            &format!("/v1/apps/{app}/endpoints/{ep}"),
            Some(json!({"url": new.url})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // Retries come every second; the other node's settings are at most 2 s old. Before, it
    // kept them for 30 s.
    new.wait_count(1, Duration::from_secs(10)).await;
}
