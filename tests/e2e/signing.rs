//! Standard Webhooks' `v1a` (ed25519) signatures, checked by the `cryptography` package over
//! `{id}.{timestamp}.{body}` with the endpoint's `whpk_` public key, and through rotations.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{herald_verify, python_on_request, Herald, TempDir};
use crate::receiver::{Received, Receiver};

fn verifies(public: &str, req: &Received) -> bool {
    python_on_request("verify_ed25519.py", &[public], req).0
}

fn tampered(req: &Received) -> Received {
    let mut req = req.clone();
    if let Some(i) = req.body.iter().position(|b| *b == b'm') {
        req.body[i] = b'M';
    }
    req
}

async fn send(herald: &Herald, app: &str, rx: &Receiver, n: usize) -> Received {
    let (status, ack) = herald
        .publish(
            app,
            json!({"type": "room.created", "data": {"name": "main"}}),
        )
        .await;
    assert_eq!(status, 202, "{ack}");
    rx.wait_count(n, Duration::from_secs(10)).await[n - 1].clone()
}

async fn rotate(herald: &Herald, app: &str, ep: &str, body: Value) -> Value {
    let path = format!("/v1/apps/{app}/endpoints/{ep}/secret/rotate");
    let (status, _, view) = herald.call("POST", &path, Some(body)).await;
    assert_eq!(status, 200, "{view}");
    view
}

#[tokio::test]
async fn ed25519_endpoints_sign_v1a_that_the_public_key_verifies() {
    let dir = TempDir::new("ed25519");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    let body = json!({"url": rx.url, "signing": "ed25519"});
    let path = format!("/v1/apps/{app}/endpoints");
    let (status, _, ep) = herald.call("POST", &path, Some(body)).await;
    assert_eq!(status, 201, "{ep}");
    let secret = ep["secret"].as_str().expect("secret").to_owned();
    let public = ep["public_key"].as_str().expect("public_key").to_owned();
    assert!(
        secret.starts_with("whsk_") && public.starts_with("whpk_"),
        "{ep}"
    );
    let id = ep["id"].as_str().expect("id").to_owned();
    let (_, _, shown) = herald.call("GET", &format!("{path}/{id}"), None).await;
    assert_eq!(shown["public_key"], json!(public), "{shown}");
    assert!(
        !shown.to_string().contains(&secret),
        "the private key leaked: {shown}"
    );

    let req = send(&herald, &app, &rx, 1).await;
    let sig = req.header("webhook-signature").unwrap_or_default();
    assert!(sig.starts_with("v1a,") && !sig.contains("v1,"), "{sig}");
    assert!(
        verifies(&public, &req),
        "cryptography rejected a genuine v1a"
    );
    assert!(
        !verifies(&public, &tampered(&req)),
        "a tampered body verified"
    );
    let (ok, out) = herald_verify("standard", &public, None, &req.headers, &req.body, None);
    assert!(ok, "herald verify rejected a genuine v1a: {out}");
    let bad = tampered(&req);
    let (ok, out) = herald_verify("standard", &public, None, &bad.headers, &bad.body, None);
    assert!(!ok && out.starts_with("invalid:"), "{out}");

    // A rotation keeps the scheme, and both keys sign during the grace period.
    let view = rotate(&herald, &app, &id, json!({"grace_period_s": 600})).await;
    let new_public = view["public_key"].as_str().expect("public_key").to_owned();
    assert_ne!(new_public, public);
    let req = send(&herald, &app, &rx, 2).await;
    let sig = req.header("webhook-signature").unwrap_or_default();
    assert_eq!(sig.matches("v1a,").count(), 2, "{sig}");
    assert!(verifies(&public, &req) && verifies(&new_public, &req));
    // Without a grace period only the new key signs.
    let view = rotate(&herald, &app, &id, json!({"grace_period_s": 0})).await;
    let latest = view["public_key"].as_str().expect("public_key").to_owned();
    let req = send(&herald, &app, &rx, 3).await;
    assert!(verifies(&latest, &req) && !verifies(&new_public, &req));
}

#[tokio::test]
async fn an_hmac_endpoint_moves_to_ed25519_through_a_rotation() {
    let dir = TempDir::new("ed25519-move");
    let herald = Herald::start(&dir.0);
    let rx = Receiver::start().await;
    let app = herald.create_app("standard").await;
    let path = format!("/v1/apps/{app}/endpoints");
    let (status, _, ep) = herald
        .call("POST", &path, Some(json!({"url": rx.url})))
        .await;
    assert_eq!(status, 201, "{ep}");
    assert_eq!(ep["public_key"], Value::Null, "{ep}");
    let (hmac, id) = (
        ep["secret"].as_str().expect("secret"),
        ep["id"].as_str().expect("id"),
    );
    let view = rotate(&herald, &app, id, json!({"signing": "ed25519"})).await;
    let public = view["public_key"].as_str().expect("public_key").to_owned();
    let req = send(&herald, &app, &rx, 1).await;
    let (old_ok, out) = python_on_request("verify_standard.py", &[hmac], &req);
    assert!(
        old_ok,
        "standardwebhooks rejected the old secret's v1 mid-rotation: {out}"
    );
    assert!(verifies(&public, &req), "the new key's v1a did not verify");
}

#[tokio::test]
async fn signing_is_refused_where_it_cannot_apply() {
    let dir = TempDir::new("ed25519-bad");
    let herald = Herald::start(&dir.0);
    let app = herald.create_app("standard").await;
    let path = format!("/v1/apps/{app}/endpoints");
    let url = "http://127.0.0.1:9/hook";
    let cases = [
        json!({"url": url, "format": "sendbird", "signing": "ed25519"}),
        json!({"url": url, "signing": "rsa"}),
        json!({"url": url, "signing": "hmac", "secret": "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}),
    ];
    for body in cases {
        let (status, _, problem) = herald.call("POST", &path, Some(body.clone())).await;
        assert_eq!(status, 422, "{body} -> {problem}");
        assert!(
            problem.to_string().contains("signing"),
            "{body} -> {problem}"
        );
    }
    let bad_key = json!({"url": url, "secret": "whsk_AAAA"});
    let (status, _, problem) = herald.call("POST", &path, Some(bad_key)).await;
    assert_eq!(status, 422, "{problem}");
}

#[tokio::test]
async fn herald_listen_checks_v1a_with_the_public_key() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = TempDir::new("ed25519-listen");
    let herald = Herald::start(&dir.0);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let app = herald.create_app("standard").await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let body = json!({"url": url, "signing": "ed25519"});
    let path = format!("/v1/apps/{app}/endpoints");
    let (status, _, ep) = herald.call("POST", &path, Some(body)).await;
    assert_eq!(status, 201, "{ep}");
    let public = ep["public_key"].as_str().expect("public_key");
    let mut listen = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["listen", "--port", &port.to_string(), "--secret", public])
        .stdout(Stdio::piped())
        .spawn()
        .expect("herald listen");
    let lines = BufReader::new(listen.stdout.take().expect("stdout")).lines();
    let (tx, verdicts) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.starts_with("signature:") || line.starts_with("herald listen:") {
                let _ = tx.send(line);
            }
        }
    });
    let ready = verdicts.recv_timeout(Duration::from_secs(20));
    assert!(
        ready.as_deref().is_ok_and(|l| l.contains("receiving")),
        "{ready:?}"
    );
    let (status, ack) = herald
        .publish(&app, json!({"type": "room.created", "data": {}}))
        .await;
    assert_eq!(status, 202, "{ack}");
    let verdict = verdicts.recv_timeout(Duration::from_secs(20));
    let _ = listen.kill();
    let _ = listen.wait();
    assert_eq!(verdict.ok().as_deref(), Some("signature: valid (standard)"));
}
