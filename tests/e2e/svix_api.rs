//! Herald's Svix API, driven by the official `svix` client libraries from PyPI and npm
//! (unchanged but for the server URL): applications, an event type with a schema, an
//! endpoint with a type filter, messages (one repeated with its `eventId`), attempts, the
//! secret read and rotated, every delivery verified with the library's `Webhook`, and a
//! second application's key that sees nothing of the first. The scripts are
//! `svix_client.py` and `tests/clients/svix_client.mjs`.

use std::process::Command;

use crate::harness::{Herald, TempDir, ADMIN};

const CLIENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");

/// Runs a client script against a fresh Herald and asserts that every check passed.
fn drive(name: &str, program: &str, script: &str) {
    let dir = TempDir::new(name);
    let herald = Herald::start(&dir.0);
    let out = Command::new(program)
        .args([script, &herald.base, ADMIN])
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the svix client's checks:\n{text}");
    assert!(text.contains("all checks passed"), "{text}");
}

#[test]
fn the_svix_python_client_works_against_herald() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/svix_client.py");
    drive("svix-python", "python3", script);
}

#[test]
fn the_svix_node_client_works_against_herald() {
    let installed = std::path::Path::new(&format!("{CLIENTS}/node_modules/svix")).exists();
    if !installed {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI needs tests/clients/node_modules (see .ci/run)");
        }
        eprintln!("skipped: run `npm ci --prefix tests/clients` first");
        return;
    }
    drive("svix-node", "node", &format!("{CLIENTS}/svix_client.mjs"));
}
