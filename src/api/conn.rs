//! One client connection as the connection layer tracks it: whether it is waiting for a
//! request head, idle, or answering requests, and how to close it. `serve` reaps and evicts
//! by this state; the socket wrapper and each request move it along.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The configured bounds of client connections.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_timeout: Duration,
    /// An answer the peer takes nothing of for this long (between two writes that go
    /// through) is given up, with its connection.
    pub send_timeout: Duration,
    pub max_connections: usize,
}

/// Where one connection is, as the reaper sees it.
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    /// No request under way since this time.
    Idle(Instant),
    /// A request head started arriving at this time.
    Head(Instant),
    /// This many requests are being answered.
    Busy(usize),
}

/// One open connection: its phase, and how to close it.
pub struct Conn {
    phase: Mutex<Phase>,
    close: Notify,
    /// Set once it was told to close: not a candidate for eviction again.
    closing: AtomicBool,
    /// Cleared when a request's body was left unread: the HTTP layer then reads or drains
    /// the rest of it, and bytes after a response no longer mark a new request line.
    framed: AtomicBool,
    http2: AtomicBool,
    /// Since when the socket has refused more of an answer (the peer reads it slower than it
    /// is written); `None` while writes go through. A connection writing an answer is not
    /// idle, whatever its requests' phase: the HTTP layer is done with a request before its
    /// answer has left.
    blocked: Mutex<Option<Instant>>,
}

impl Conn {
    pub fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Idle(Instant::now())),
            close: Notify::new(),
            closing: Default::default(),
            framed: AtomicBool::new(true),
            http2: Default::default(),
            blocked: Mutex::new(None),
        }
    }

    /// Waits until the connection is told to close.
    pub async fn closed(&self) {
        self.close.notified().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes arrived: an idle connection has started a request head. Answers whether these
    /// bytes are known to begin a request line.
    pub fn read_some(&self) -> bool {
        if self.http2.load(Ordering::Relaxed) {
            return false;
        }
        let mut phase = self.lock();
        let starts = matches!(*phase, Phase::Idle(_));
        if starts {
            *phase = Phase::Head(Instant::now());
        }
        starts && self.framed.load(Ordering::Relaxed)
    }

    /// A request body was dropped before its end.
    pub fn body_left_unread(&self) {
        self.framed.store(false, Ordering::Relaxed);
    }

    /// The peer speaks HTTP/2: frames of any stream (and pings, window updates) arrive at
    /// any time, so bytes mark neither a request head nor a request line; only the idle
    /// timeout applies between requests.
    pub fn speaks_http2(&self) {
        self.framed.store(false, Ordering::Relaxed);
        self.http2.store(true, Ordering::Relaxed);
    }

    /// A write waits for the peer to take what the socket holds.
    pub fn write_blocked(&self) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        blocked.get_or_insert_with(Instant::now);
    }

    /// A write went through: the peer is taking the answer, and an idle connection's idle
    /// time starts again from the last byte it took.
    pub fn wrote(&self) {
        let was_blocked = self
            .blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .is_some();
        if was_blocked {
            let mut phase = self.lock();
            if let Phase::Idle(_) = *phase {
                *phase = Phase::Idle(Instant::now());
            }
        }
    }

    pub fn begin(&self) {
        let mut phase = self.lock();
        *phase = match *phase {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        };
    }

    pub fn end(&self) {
        let mut phase = self.lock();
        *phase = match *phase {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        };
    }

    pub fn shut(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.close.notify_one();
    }

    /// Since when the connection has waited on its peer, if it has no request under way,
    /// and whether that is past its timeout. One writing an answer counts only once the
    /// peer has taken nothing of it for `send_timeout`: a slow reader is not a stalled one.
    pub fn stalled_since(&self, limits: &Limits, now: Instant) -> Option<(Instant, bool)> {
        if self.closing.load(Ordering::Relaxed) {
            return None;
        }
        let blocked = *self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = blocked {
            return (now.duration_since(at) >= limits.send_timeout).then_some((at, true));
        }
        match *self.lock() {
            Phase::Idle(at) => Some((at, now.duration_since(at) >= limits.idle_timeout)),
            Phase::Head(at) => Some((at, now.duration_since(at) >= limits.header_timeout)),
            Phase::Busy(_) => None,
        }
    }
}

/// Ends a request's busy mark however its future ends.
pub struct Answering(pub Arc<Conn>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.end();
    }
}
