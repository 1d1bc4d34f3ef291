//! The OpenAPI document as a contract for bad input: schemathesis (from PyPI) generates
//! requests for every operation in `/openapi.json`, valid and invalid bodies, parameters
//! and headers, and fails the test on any 5xx answer. With a fixed seed the same cases run
//! every time, so a failure reproduces.

use std::process::Command;

use serde_json::json;

use crate::harness::{Herald, TempDir, ADMIN};

#[tokio::test]
async fn no_generated_request_gets_a_server_error() {
    let dir = TempDir::new("fuzz");
    // API only: the generated endpoints name arbitrary hosts, and nothing is sent to them.
    let herald = Herald::start_with(&dir.0, &[("HERALD_ROLE", "api")]);
    // Real ids for the path parameters, so that the cases reach past the 404s.
    let app = herald.create_app("digitalsamba").await;
    let (ep, _) = herald
        .create_endpoint(&app, json!({"url": "http://127.0.0.1:9/hook"}))
        .await;
    let config = dir.0.join("schemathesis.toml");
    std::fs::write(
        &config,
        format!("[parameters]\n\"path.app\" = \"{app}\"\n\"path.ep\" = \"{ep}\"\n"),
    )
    .expect("write the schemathesis config");

    let out = Command::new("python3")
        .args(["-m", "schemathesis.cli"])
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/openapi.json", herald.base)])
        .args(["-H", &format!("Authorization: Bearer {ADMIN}")])
        .args(["--checks", "not_a_server_error"])
        .args(["--phases", "coverage,fuzzing", "--max-examples", "40"])
        .args(["--seed", "20261123", "--no-color"])
        .current_dir(&dir.0)
        .output()
        .expect("run schemathesis (pip install -r tests/requirements.txt)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a generated request got a server error:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
    assert_eq!(
        herald.call("GET", "/healthz", None).await.0,
        200,
        "the server is still up"
    );
}
