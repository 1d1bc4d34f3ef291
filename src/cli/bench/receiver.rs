//! The benchmark's receiver: answers 200 at once and records when each delivery arrived.
//!
//! Every published event carries its publish time (`data.sent_ns`, nanoseconds since the
//! run's origin) so the receiver can compute end-to-end latency without clock questions: both
//! ends share one process and one monotonic clock.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;

pub struct Recorder {
    origin: Instant,
    pub received: AtomicU64,
    latencies_ns: Mutex<Vec<u64>>,
    last_ns: AtomicU64,
}

impl Recorder {
    pub fn new(origin: Instant) -> Arc<Self> {
        Arc::new(Self {
            origin,
            received: AtomicU64::new(0),
            latencies_ns: Mutex::new(Vec::new()),
            last_ns: AtomicU64::new(0),
        })
    }

    pub fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    fn record(&self, body: &[u8]) {
        let now = self.now_ns();
        self.received.fetch_add(1, Ordering::Relaxed);
        self.last_ns.fetch_max(now, Ordering::Relaxed);
        let sent = sent_ns(body);
        if let Some(sent) = sent {
            let mut lat = self.latencies_ns.lock().unwrap_or_else(|p| p.into_inner());
            lat.push(now.saturating_sub(sent));
        }
    }

    /// Clears the record between workloads.
    pub fn reset(&self) {
        self.received.store(0, Ordering::Relaxed);
        self.last_ns.store(0, Ordering::Relaxed);
        self.latencies_ns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub fn last_ns(&self) -> u64 {
        self.last_ns.load(Ordering::Relaxed)
    }

    /// p50, p99 and max latency in milliseconds.
    pub fn latency_ms(&self) -> (f64, f64, f64) {
        let mut lat = self
            .latencies_ns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if lat.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        lat.sort_unstable();
        let at = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)] as f64 / 1e6;
        (at(0.50), at(0.99), lat[lat.len() - 1] as f64 / 1e6)
    }
}

/// Finds `"sent_ns":<digits>` without parsing the whole body: the receiver must cost as
/// little as possible, since it shares the machine with what is measured.
fn sent_ns(body: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"sent_ns\":";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits: Vec<u8> = body[at..]
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

async fn receive(State(rec): State<Arc<Recorder>>, body: Bytes) -> &'static str {
    rec.record(&body);
    "ok"
}

/// Starts the receiver on a random loopback port.
pub async fn start(rec: Arc<Recorder>) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/hook", post(receive)).with_state(rec);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
