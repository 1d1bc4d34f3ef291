//! A client reading a large answer slowly keeps its connection while the answer is being
//! written, far past the idle timeout; one that takes nothing of it for the send timeout
//! loses it.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::harness::{Herald, TempDir, ADMIN};

/// A connection with a small receive buffer, so that the answer waits in Herald, not in
/// the kernel, that has asked for `path`.
async fn ask(herald: &Herald, path: &str) -> TcpStream {
    let addr = herald
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer {ADMIN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    stream
}

/// Reads 1 KB a second for `slow`, then the rest at once; answers everything read.
async fn read_slowly(stream: &mut TcpStream, slow: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let until = tokio::time::Instant::now() + slow;
    let mut chunk = [0u8; 1024];
    while tokio::time::Instant::now() < until {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let _ = stream.read_to_end(&mut got).await;
    got
}

/// The body of a `Connection: close` answer without chunked encoding, as JSON.
fn body_json(raw: &[u8]) -> Option<Value> {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    serde_json::from_slice(&raw[at + 4..]).ok()
}

#[tokio::test]
async fn a_slow_reader_gets_its_whole_answer_and_a_stalled_one_is_closed() {
    let dir = TempDir::new("slow-reader");
    let env = [
        ("HERALD_HTTP_IDLE_TIMEOUT_S", "1"),
        ("HERALD_HTTP_SEND_TIMEOUT_S", "10"),
    ];
    let herald = Herald::start_with(&dir.0, &env);
    let app = herald.create_app("standard").await;
    let pad = "x".repeat(16_000);
    for batch in 0..5 {
        let events: Vec<Value> = (0..50)
            .map(|i| json!({"type": "participant.joined", "data": {"i": batch * 50 + i, "pad": pad}}))
            .collect();
        let (status, _, ack) = herald
            .call(
                "POST",
                &format!("/v1/apps/{app}/events/batch"),
                Some(json!({ "events": events })),
            )
            .await;
        assert_eq!(status, 202, "{ack}");
    }
    let path = format!("/v1/apps/{app}/events?limit=250");

    // About 4 MB, read at 1 KB/s for five times the idle timeout (within the send timeout:
    // the socket may take nothing more of the answer meanwhile, its buffers being full).
    let mut slow = ask(&herald, &path).await;
    let raw = read_slowly(&mut slow, Duration::from_secs(5)).await;
    let list = body_json(&raw).unwrap_or_else(|| panic!("cut short at {} bytes", raw.len()));
    assert_eq!(list["data"].as_array().map(Vec::len), Some(250));

    // One that reads nothing for longer than the send timeout loses the connection.
    let mut stalled = ask(&herald, &path).await;
    tokio::time::sleep(Duration::from_secs(14)).await;
    let raw = read_slowly(&mut stalled, Duration::ZERO).await;
    assert!(
        body_json(&raw).is_none(),
        "a stalled reader kept its connection"
    );
}
