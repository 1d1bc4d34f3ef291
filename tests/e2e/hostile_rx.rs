//! A receiver that misbehaves on purpose. It answers on raw sockets, so every byte Herald reads
//! is one the test chose, including the ones no HTTP library would write.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the receiver does on one connection, once it has read the request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Writes these bytes, then closes.
    Answer(Vec<u8>),
    /// Writes these bytes, then resets the connection (`SO_LINGER` 0).
    Reset(Vec<u8>),
    /// Writes nothing and holds the connection until Herald leaves.
    Silent,
    /// Writes this head, then one body byte (`x`) per interval, until Herald leaves.
    Drip(Vec<u8>, Duration),
    /// Answers 200 with a body of this many bytes, streamed in 64 KiB chunks.
    Huge(usize),
}

/// A status line and `extra` header lines (each ending in CRLF), with no body, closing.
pub fn status(code: u16, extra: &str) -> Behaviour {
    Behaviour::Answer(
        format!("HTTP/1.1 {code} Hostile\r\nContent-Length: 0\r\nConnection: close\r\n{extra}\r\n")
            .into_bytes(),
    )
}

#[derive(Default)]
struct State {
    script: VecDeque<Behaviour>,
    /// When each request arrived.
    got: Vec<SystemTime>,
    /// Body bytes written by `Huge` before Herald stopped reading.
    huge_written: usize,
}

#[derive(Clone)]
pub struct Hostile {
    pub url: String,
    state: Arc<Mutex<State>>,
}

/// Listens on 127.0.0.1:0 and treats each connection with the next behaviour of `script`; the
/// last one repeats.
pub async fn serve(script: Vec<Behaviour>) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let state = Arc::new(Mutex::new(State {
        script: script.into(),
        ..State::default()
    }));
    let rx = Hostile { url, state };
    let server = rx.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(server.clone().handle(stream));
        }
    });
    rx
}

impl Hostile {
    /// When each request arrived, in order.
    pub fn got(&self) -> Vec<SystemTime> {
        self.state.lock().expect("lock").got.clone()
    }

    pub fn huge_written(&self) -> usize {
        self.state.lock().expect("lock").huge_written
    }

    async fn handle(self, mut stream: TcpStream) {
        if !read_request(&mut stream).await {
            return;
        }
        let behaviour = {
            let mut state = self.state.lock().expect("lock");
            state.got.push(SystemTime::now());
            match state.script.len() {
                0 => return,
                1 => state.script[0].clone(),
                _ => state.script.pop_front().expect("a behaviour"),
            }
        };
        match behaviour {
            Behaviour::Answer(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            }
            Behaviour::Reset(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.flush().await;
                stream.set_zero_linger().expect("SO_LINGER 0");
                drop(stream);
            }
            Behaviour::Silent => until_closed(&mut stream).await,
            Behaviour::Drip(head, every) => drip(&mut stream, &head, every).await,
            Behaviour::Huge(len) => self.huge(&mut stream, len).await,
        }
    }

    async fn huge(&self, stream: &mut TcpStream, len: usize) {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'a'; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(chunk.len());
            if stream.write_all(&chunk[..n]).await.is_err() {
                return;
            }
            left -= n;
            self.state.lock().expect("lock").huge_written += n;
        }
    }
}

/// Reads one request head and its `Content-Length` body; answers false if the peer left first.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// Holds the connection, reading and discarding, until the peer closes it.
async fn until_closed(stream: &mut TcpStream) {
    let mut chunk = [0u8; 1024];
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            return;
        }
    }
}

async fn drip(stream: &mut TcpStream, head: &[u8], every: Duration) {
    if stream.write_all(head).await.is_err() {
        return;
    }
    loop {
        tokio::time::sleep(every).await;
        if stream.write_all(b"x").await.is_err() {
            return;
        }
    }
}
