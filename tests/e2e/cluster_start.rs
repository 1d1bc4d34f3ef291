//! Several Herald processes started at the same moment on a new PostgreSQL database, with
//! no admin token set and a static endpoint in their configuration file: one admin token is
//! generated for all of them, and the app and endpoint of the file exist once. Runs only
//! when `HERALD_TEST_DATABASE_URL` names a PostgreSQL server.

use crate::db::needs_postgres;
use crate::harness::{Herald, TempDir};

const NODES: usize = 3;

#[tokio::test]
async fn cluster_nodes_started_together_share_one_token_and_one_static_endpoint() {
    if !needs_postgres() {
        return;
    }
    let dir = TempDir::new("cluster-start");
    let config = dir.0.join("herald.toml");
    std::fs::write(
        &config,
        "[[static_endpoints]]\napp = \"server\"\npreset = \"plugnmeet\"\nname = \"server webhook\"\nurl = \"http://127.0.0.1:9/hook\"\nformat = \"plugnmeet\"\napi_key = \"plugnmeet\"\nsecret = \"a-long-shared-api-secret-value\"\n",
    )
    .expect("write config");
    let config = config.to_str().unwrap_or_default().to_owned();
    let env = [
        ("HERALD_CONFIG", config.as_str()),
        ("HERALD_ADMIN_TOKEN", ""),
    ];
    let nodes: Vec<Herald> = std::thread::scope(|s| {
        let started: Vec<_> = (0..NODES)
            .map(|_| s.spawn(|| Herald::start_with(&dir.0, &env)))
            .collect();
        started
            .into_iter()
            .map(|h| h.join().expect("a node started"))
            .collect()
    });

    let printed: Vec<String> = nodes
        .iter()
        .flat_map(|n| n.startup.iter())
        .filter_map(|l| l.split_once("(shown once, keep it): "))
        .map(|(_, token)| token.trim().to_owned())
        .collect();
    assert_eq!(printed.len(), 1, "exactly one node prints the token");
    let token = &printed[0];
    for node in &nodes {
        let (s, _, apps) = node.call_as(token, "GET", "/v1/apps", None).await;
        assert_eq!(s, 200, "every node accepts the one token: {apps}");
        let apps = apps["data"].as_array().cloned().unwrap_or_default();
        assert_eq!(apps.len(), 1, "the static app exists once: {apps:?}");
        let app = apps[0]["id"].as_str().unwrap_or_default();
        let (_, _, eps) = node
            .call_as(token, "GET", &format!("/v1/apps/{app}/endpoints"), None)
            .await;
        assert_eq!(
            eps["data"].as_array().map(Vec::len),
            Some(1),
            "the static endpoint exists once: {eps}"
        );
    }
}
