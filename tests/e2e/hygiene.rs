//! Connection hygiene: stalled connections are closed on time and cannot lock normal
//! clients out, even with few descriptors; oversized request heads get problem+json.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Herald, TempDir, ADMIN};

const TIMEOUTS: [(&str, &str); 3] = [
    ("HERALD_HTTP_HEADER_TIMEOUT_MS", "2000"),
    ("HERALD_HTTP_IDLE_TIMEOUT_S", "2"),
    ("HERALD_HTTP_BODY_TIMEOUT_S", "2"),
];

fn addr(herald: &Herald) -> String {
    herald.base.trim_start_matches("http://").to_owned()
}

/// Reads what the server sends until it closes the connection (or `limit` passes).
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

/// Sends raw bytes and answers the status line and the response's Content-Type.
async fn raw_request(herald: &Herald, bytes: Vec<u8>) -> (String, String) {
    let mut stream = TcpStream::connect(addr(herald)).await.expect("connect");
    stream.write_all(&bytes).await.expect("send");
    let resp = read_to_close(&mut stream, Duration::from_secs(20))
        .await
        .expect("an answer, then close");
    let status = resp.lines().next().unwrap_or_default().to_owned();
    let ct = resp
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or_default()
        .to_owned();
    (status, ct)
}

#[tokio::test]
async fn stalled_connections_are_closed_and_cannot_lock_clients_out() {
    // This process opens more than 1,024 connections itself.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let dir = TempDir::new("hygiene-flood");
    let herald = Herald::start_under(&dir.0, &TIMEOUTS, &["prlimit", "--nofile=1024:1024"]);
    let app = herald.create_app("standard").await;
    let target = addr(&herald);

    // 1,100 connections that stall: silent, half a head, or a head and part of its body.
    let mut stalled = Vec::new();
    for i in 0..1_100 {
        let Ok(mut s) = TcpStream::connect(&target).await else {
            continue; // the listen queue is full: the server is evicting
        };
        let bytes: &[u8] = match i % 3 {
            0 => b"",
            1 => b"POST /v1/apps HTTP/1.1\r\nHost: herald\r\nContent-Ty",
            _ => b"POST /v1/apps HTTP/1.1\r\nHost: herald\r\nContent-Length: 100\r\n\r\n{\"na",
        };
        let _ = s.write_all(bytes).await;
        stalled.push(s);
    }
    // A normal client on a new connection is answered at once.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let resp = client
        .post(format!("{}/v1/apps/{app}/events", herald.base))
        .bearer_auth(ADMIN)
        .json(&json!({"type": "room.created", "data": {}}))
        .send()
        .await
        .expect("a publish answered within 5 s beside 1,100 stalled connections");
    assert_eq!(resp.status(), 202);
    drop(stalled);

    // Each kind of stalled connection is closed within its timeout (2 s, checked every
    // half second); a body that stops is answered 408 first.
    let partial_body = format!(
        "POST /v1/apps HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {ADMIN}\r\nContent-Length: 50\r\n\r\n{{"
    );
    for (bytes, answer) in [
        (String::new(), None),
        ("GET /healthz HTTP/1.1\r\nHost: h".to_owned(), None),
        (partial_body, Some("408")),
    ] {
        let mut s = TcpStream::connect(&target).await.expect("connect");
        s.write_all(bytes.as_bytes()).await.expect("send");
        let got = read_to_close(&mut s, Duration::from_secs(6)).await;
        let got = got.expect("a stalled connection was left open past its timeout");
        match answer {
            None => assert!(got.is_empty(), "{got}"),
            Some(status) => {
                assert!(got.starts_with(&format!("HTTP/1.1 {status}")), "{got}");
                assert!(got.contains("application/problem+json"), "{got}");
            }
        }
    }
}

#[tokio::test]
async fn oversized_heads_get_problem_json() {
    let dir = TempDir::new("hygiene-heads");
    let herald = Herald::start_with(&dir.0, &TIMEOUTS);
    let long_line = format!(
        "GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1_000_000)
    );
    let many: String = (0..10_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET /healthz HTTP/1.1\r\nHost: h\r\n{many}\r\n");
    let long_url = format!(
        "GET /healthz?x={} HTTP/1.1\r\nHost: h\r\n\r\n",
        "a".repeat(100_000)
    );
    for (head, status) in [(long_line, "431"), (many, "431"), (long_url, "414")] {
        let (line, ct) = raw_request(&herald, head.into_bytes()).await;
        assert!(line.starts_with(&format!("HTTP/1.1 {status}")), "{line}");
        assert_eq!(ct, "application/problem+json", "{line}");
    }
}

#[tokio::test]
async fn http2_connections_carry_large_bodies_between_idle_spells() {
    let dir = TempDir::new("hygiene-h2");
    let herald = Herald::start_with(&dir.0, &TIMEOUTS);
    let app = herald.create_app("standard").await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let body = json!({"type": "room.created", "data": {"blob": "x".repeat(20_000)}});
    for _ in 0..3 {
        let resp = client
            .post(format!("{}/v1/apps/{app}/events", herald.base))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .expect("publish over HTTP/2");
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.status(), 202);
        // Shorter than the idle timeout, but long enough to go idle between requests.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
