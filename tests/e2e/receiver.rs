//! A recording HTTP receiver that answers what the test tells it to.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// What the receiver does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    /// Waits, then answers.
    Slow(Duration, u16),
    /// Never answers.
    Hang,
    /// Answers 500 to about this percentage of requests, 200 to the rest.
    Flaky(u8),
    /// Waits, then answers as `Flaky` does.
    SlowFlaky(Duration, u8),
    /// Answers with this status and body.
    Text(u16, &'static str),
    /// Answers 200 with what this makes of the request body.
    Answer(Answerer),
}

/// Makes an answer's body of a request's body.
pub type Answer = dyn Fn(&[u8]) -> String + Send + Sync;

/// A reply computed from the request body.
#[derive(Clone)]
pub struct Answerer(pub Arc<Answer>);

impl std::fmt::Debug for Answerer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answerer")
    }
}

#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the receiver answered (0 while it has not answered).
    pub replied: u16,
    /// When the request arrived.
    pub at: std::time::SystemTime,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    default: Option<Reply>,
    got: Vec<Received>,
    /// Requests being answered now, and the most seen at once.
    in_flight: usize,
    most_in_flight: usize,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

async fn handle(State(rx): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let (index, reply) = {
        let mut inner = rx.inner.lock().expect("lock");
        inner.got.push(Received {
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                .collect(),
            body: body.to_vec(),
            replied: 0,
            at: std::time::SystemTime::now(),
        });
        inner.in_flight += 1;
        inner.most_in_flight = inner.most_in_flight.max(inner.in_flight);
        let default = inner.default.clone().unwrap_or(Reply::Status(200));
        (
            inner.got.len() - 1,
            inner.script.pop_front().unwrap_or(default),
        )
    };
    let mut body = String::new();
    let status = match reply {
        Reply::Status(s) => s,
        Reply::Text(s, text) => {
            body = text.to_owned();
            s
        }
        Reply::Answer(answer) => {
            let request = rx.inner.lock().expect("lock").got[index].body.clone();
            body = (answer.0)(&request);
            200
        }
        Reply::Slow(d, s) => {
            tokio::time::sleep(d).await;
            s
        }
        Reply::Hang => {
            std::future::pending::<()>().await;
            200
        }
        Reply::Flaky(pct) => flaky(pct),
        Reply::SlowFlaky(d, pct) => {
            tokio::time::sleep(d).await;
            flaky(pct)
        }
    };
    let mut inner = rx.inner.lock().expect("lock");
    inner.in_flight -= 1;
    inner.got[index].replied = status;
    drop(inner);
    (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response()
}

fn flaky(pct: u8) -> u16 {
    if rand::random::<u8>() % 100 < pct {
        500
    } else {
        200
    }
}

impl Receiver {
    /// The most requests this receiver was answering at one time.
    pub fn most_in_flight(&self) -> usize {
        self.inner.lock().expect("lock").most_in_flight
    }

    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let rx = Receiver {
            inner: Arc::default(),
            url,
        };
        let app = Router::new().fallback(handle).with_state(rx.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        rx
    }

    /// Answers these in order, then `default` (200 unless set).
    pub fn script(&self, replies: Vec<Reply>) {
        self.inner.lock().expect("lock").script = replies.into();
    }

    pub fn set_default(&self, reply: Reply) {
        self.inner.lock().expect("lock").default = Some(reply);
    }

    pub fn got(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").got.clone()
    }

    /// Requests seen per delivery id (the `webhook-id` header of Standard Webhooks).
    pub fn per_delivery(&self) -> std::collections::HashMap<String, usize> {
        let mut seen = std::collections::HashMap::new();
        for r in self.got() {
            let id = r.header("webhook-id").unwrap_or_default().to_owned();
            *seen.entry(id).or_default() += 1;
        }
        seen
    }

    pub fn count(&self) -> usize {
        self.inner.lock().expect("lock").got.len()
    }

    /// Waits until at least `n` requests arrived, or panics after `limit`.
    pub async fn wait_count(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        while self.count() < n {
            assert!(
                Instant::now() < deadline,
                "receiver got {} of {n} requests within {limit:?}",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.got()
    }
}
