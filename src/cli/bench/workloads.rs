//! The measured workloads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use super::receiver::Recorder;

/// A Herald (one or more nodes on one database) with an app and one endpoint pointing at
/// the receiver. Publishes go round-robin over the nodes.
#[derive(Clone)]
pub struct Target {
    client: reqwest::Client,
    publish_urls: Arc<[String]>,
    token: String,
}

impl Target {
    pub async fn setup(
        bases: &[String],
        token: &str,
        hook: &str,
        schemas: &str,
    ) -> anyhow::Result<Self> {
        let base = bases.first().context("no Herald to target")?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()?;
        let app: serde_json::Value = client
            .post(format!("{base}/v1/apps"))
            .bearer_auth(token)
            .json(&app_body(schemas))
            .send()
            .await?
            .error_for_status()
            .context("creating the bench app")?
            .json()
            .await?;
        let app_id = app["id"].as_str().context("app id")?.to_owned();
        if schemas != "preset" {
            client
                .post(format!("{base}/v1/apps/{app_id}/event-types"))
                .bearer_auth(token)
                .json(&json!({"name": "participant.joined", "schema": strict_schema()}))
                .send()
                .await?
                .error_for_status()
                .context("registering the bench's event type")?;
        }
        client
            .post(format!("{base}/v1/apps/{app_id}/endpoints"))
            .bearer_auth(token)
            .json(&json!({"url": hook, "events": ["*"], "max_in_flight": 64}))
            .send()
            .await?
            .error_for_status()
            .context("creating the bench endpoint")?;
        Ok(Self {
            client,
            publish_urls: bases
                .iter()
                .map(|b| format!("{b}/v1/apps/{app_id}/events"))
                .collect(),
            token: token.to_owned(),
        })
    }

    async fn publish(&self, rec: &Recorder, n: u64) -> anyhow::Result<()> {
        let resp = self
            .client
            .post(&self.publish_urls[n as usize % self.publish_urls.len()])
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(event_body(rec.now_ns(), n, 100))
            .send()
            .await?;
        if resp.status() != reqwest::StatusCode::ACCEPTED {
            bail!(
                "publish answered {}: {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }
}

/// The bench app: the standard catalog, or (for the schema measurements) an empty one that
/// the bench's own type is registered in.
fn app_body(schemas: &str) -> serde_json::Value {
    match schemas {
        "preset" => json!({"name": "bench", "preset": "standard"}),
        _ => json!({"name": "bench", "preset": "none", "enforce_schemas": schemas == "strict"}),
    }
}

/// A schema of [`event_body`]'s data that types and requires every field.
fn strict_schema() -> serde_json::Value {
    let text = json!({"type": "string", "minLength": 1});
    let thing = |props: serde_json::Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required});
    thing(
        json!({
            "sent_ns": {"type": "integer", "minimum": 0},
            "participant": thing(json!({"id": text, "name": text,
                "role": {"enum": ["moderator", "attendee", "viewer"]}}), &["id", "name", "role"]),
            "room": thing(json!({"id": text, "name": text}), &["id", "name"]),
            "padding": {"type": "string", "maxLength": 1000},
        }),
        &["sent_ns", "participant", "room"],
    )
}

/// One event of about 500 bytes on the wire, stamped with its publish time, in one of
/// `rooms` rooms.
pub fn event_body(sent_ns: u64, n: u64, rooms: u64) -> String {
    typed_body("participant.joined", sent_ns, n, rooms)
}

/// [`event_body`] of type `kind`.
pub fn typed_body(kind: &str, sent_ns: u64, n: u64, rooms: u64) -> String {
    let room = n % rooms.max(1);
    format!(
        r#"{{"type":"{kind}","labels":{{"room_id":"room-{room}"}},"data":{{"sent_ns":{sent_ns},"participant":{{"id":"p-{n}","name":"Ada Lovelace","role":"moderator"}},"room":{{"id":"room-{room}","name":"Weekly planning"}},"padding":"{}"}}}}"#,
        "x".repeat(300)
    )
}

pub struct W1 {
    pub publish_rate: f64,
    pub delivery_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub async fn wait_delivered(rec: &Recorder, expected: u64, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while rec.received.load(Ordering::Relaxed) < expected {
        if Instant::now() > deadline {
            bail!(
                "only {} of {expected} deliveries arrived within {limit:?}",
                rec.received.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

pub async fn w1(
    target: &Target,
    rec: &Arc<Recorder>,
    events: u64,
    concurrency: usize,
) -> anyhow::Result<W1> {
    let next = Arc::new(AtomicU64::new(0));
    let start_ns = rec.now_ns();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, rec) = (Arc::clone(&next), Arc::clone(rec));
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    return Ok::<_, anyhow::Error>(());
                }
                target.publish(&rec, n).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let published_s = (rec.now_ns() - start_ns) as f64 / 1e9;
    wait_delivered(rec, events, Duration::from_secs(600)).await?;
    let delivered_s = (rec.last_ns() - start_ns) as f64 / 1e9;
    let (p50_ms, p99_ms, _) = rec.latency_ms();
    Ok(W1 {
        publish_rate: events as f64 / published_s,
        delivery_rate: events as f64 / delivered_s,
        p50_ms,
        p99_ms,
    })
}

pub struct W2 {
    pub sent: u64,
    pub delivered: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

pub async fn w2(
    target: &Target,
    rec: &Arc<Recorder>,
    rate: u64,
    duration: Duration,
) -> anyhow::Result<W2> {
    let total = rate * duration.as_secs();
    let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let failures = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        ticker.tick().await;
        let rec = Arc::clone(rec);
        let failures = Arc::clone(&failures);
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            if target.publish(&rec, n).await.is_err() {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} publishes failed during W2");
    }
    wait_delivered(rec, total, Duration::from_secs(120)).await?;
    let (p50_ms, p99_ms, max_ms) = rec.latency_ms();
    Ok(W2 {
        sent: total,
        delivered: rec.received.load(Ordering::Relaxed),
        p50_ms,
        p99_ms,
        max_ms,
    })
}

/// Requests per second the receiver takes from the same client with the same body.
pub async fn ceiling(
    target: &Target,
    hook: &str,
    concurrency: usize,
    requests: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<f64> {
    // The same bytes Herald would deliver for this event: a Standard Webhooks body.
    let data = r#"{"sent_ns":0,"participant":{"id":"p-0","name":"Ada Lovelace","role":"moderator"},"room":{"id":"room-0","name":"Weekly planning"},"padding":"PAD"}"#;
    let body = format!(
        r#"{{"type":"participant.joined","timestamp":"2026-01-01T00:00:00Z","data":{}}}"#,
        data.replace("PAD", &"x".repeat(300))
    )
    .into_bytes();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, body, hook) = (
            target.client.clone(),
            Arc::clone(&next),
            body.clone(),
            hook.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                client
                    .post(&hook)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?
                    .error_for_status()?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let rps = requests as f64 / started.elapsed().as_secs_f64();
    rec.reset();
    Ok(rps)
}
