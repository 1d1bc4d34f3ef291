//! Serving the API over TCP with connection hygiene.
//!
//! `axum::serve` keeps a connection for as long as the peer does: one that sends half a
//! request head, or nothing, or a body that never ends, holds a descriptor for ever, and
//! enough of them lock every client out. Here each connection is watched:
//!
//! - a request head must arrive within `header_timeout` of its first byte;
//! - a connection with no request under way is closed after `idle_timeout`;
//! - a request body must arrive whole within `body_timeout` of its head (a 408 otherwise);
//! - an answer being written keeps its connection, however slowly the peer reads it, until
//!   the peer has taken nothing of it for `send_timeout`;
//! - at most `max_connections` are open; at the bound, the connection that has stalled or
//!   idled longest makes room for the new one, so a flood of stalled connections cannot
//!   keep a normal client out. A connection with a request under way is never evicted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service;

pub use super::conn::Limits;
use super::conn::{Answering, Conn};
use super::deadline::{Deadline, Watched};

/// Largest request head the HTTP layer reads; Herald's own, smaller limits are enforced
/// above it with problem+json answers (see `head_limits`).
const HEAD_BUFFER: usize = 2 * 1024 * 1024;
/// Header lines the HTTP layer makes room for in every request (it allocates them each
/// time): above Herald's limit, which the socket wrapper enforces first (`head_scan`).
const HEADER_LINES: usize = super::head_limits::MAX_HEADERS + 28;

#[derive(Default)]
struct Open {
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self) -> (u64, Arc<Conn>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new());
        self.lock().insert(id, Arc::clone(&conn));
        (id, conn)
    }

    /// Closes the connection that has waited on its peer longest; `false` if every open
    /// connection has a request under way.
    fn evict_one(&self, limits: &Limits) -> bool {
        let now = Instant::now();
        let conns = self.lock();
        let oldest = conns
            .values()
            .filter_map(|c| c.stalled_since(limits, now).map(|(at, _)| (at, c)))
            .min_by_key(|(at, _)| *at);
        match oldest {
            Some((_, conn)) => {
                conn.shut();
                true
            }
            None => false,
        }
    }

    /// Closes every connection past its header or idle timeout.
    fn reap(&self, limits: &Limits) {
        let now = Instant::now();
        for conn in self.lock().values() {
            if matches!(conn.stalled_since(limits, now), Some((_, true))) {
                conn.shut();
            }
        }
    }
}

/// Removes a connection from the open set however its task ends.
struct Entry(Arc<Open>, u64);

impl Drop for Entry {
    fn drop(&mut self) {
        self.0.lock().remove(&self.1);
    }
}

/// Accepts connections until `shutdown` flips, then lets open requests finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let open = Arc::new(Open::default());
    let reaper = tokio::spawn(reap(Arc::clone(&open), limits.clone()));
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .max_buf_size(HEAD_BUFFER)
        .max_headers(HEADER_LINES);
    http.http2().max_header_list_size(HEAD_BUFFER as u32);
    let http = Arc::new(http);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = async { shutdown.wait_for(|s| *s).await.map(|_| ()) } => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors (or another transient error): make room, then retry.
                tracing::warn!(error = %e, "cannot accept a connection");
                let pause = if open.evict_one(&limits) { 5 } else { 50 };
                // Let the evicted connection close before trying again.
                tokio::time::sleep(Duration::from_millis(pause)).await;
                continue;
            }
        };
        if open.lock().len() >= limits.max_connections && !open.evict_one(&limits) {
            continue; // every connection is answering a request: refuse this one
        }
        let (id, conn) = open.add();
        let task = Connection {
            http: Arc::clone(&http),
            router: router.clone(),
            conn,
            body_timeout: limits.body_timeout,
        };
        let (open, shutdown) = (Arc::clone(&open), shutdown.clone());
        tokio::spawn(async move {
            let _entry = Entry(open, id);
            task.serve(stream, shutdown).await;
        });
    }
    reaper.abort();
    let deadline = Instant::now() + limits.idle_timeout.min(Duration::from_secs(30));
    while !open.lock().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn reap(open: Arc<Open>, limits: Limits) {
    let every = (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::time::sleep(every).await;
        open.reap(&limits);
    }
}

/// What one connection's task needs.
struct Connection {
    http: Arc<auto::Builder<TokioExecutor>>,
    router: Router,
    conn: Arc<Conn>,
    body_timeout: Duration,
}

impl Connection {
    async fn serve(self, stream: TcpStream, mut shutdown: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Watched::new(stream, Arc::clone(&self.conn)));
        let (router, conn, body_timeout) = (self.router, Arc::clone(&self.conn), self.body_timeout);
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                conn.begin();
                let answering = Answering(Arc::clone(&conn));
                let mut router = router.clone();
                let watcher = Arc::clone(&conn);
                let req = req.map(|body| Body::new(Deadline::new(body, body_timeout, watcher)));
                async move {
                    let _answering = answering;
                    router.call(req).await
                }
            });
        let served = self.http.serve_connection_with_upgrades(io, service);
        tokio::pin!(served);
        tokio::select! {
            _ = served.as_mut() => {}
            _ = self.conn.closed() => {}
            _ = async { shutdown.wait_for(|s| *s).await.map(|_| ()) } => {
                served.as_mut().graceful_shutdown();
                let _ = served.await;
            }
        }
    }
}
