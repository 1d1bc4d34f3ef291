//! `--run queries`: the lists a support engineer runs, timed at `--query-events` events.
//!
//! It fills one app with events in batches of 100 (rooms, sessions, bots and participants
//! as labels; one event in a thousand of a rare type), each delivered to the receiver, then
//! times each list, `REPEAT` times with a different value each time, as a client sees it
//! over HTTP. A list whose filter an index does not serve reads the whole log; at a million
//! events that is seconds, where an indexed one is a millisecond or two.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use super::isolation::post;
use super::receiver::Recorder;
use super::workloads::wait_delivered;

const BATCH: u64 = 100;
const PUBLISHERS: u64 = 4;
const REPEAT: usize = 40;
const ROOMS: u64 = 1000;

/// The event of number `n`: in room `n % 1000`, session `n % 10,000`, one participant per
/// 20 events, a bot on every tenth event.
fn event(n: u64) -> Value {
    let mut labels = json!({
        "room_id": format!("room-{}", n % ROOMS),
        "session_id": format!("sess-{}", n % 10_000),
        "participant_id": format!("p-{}", n / 20),
    });
    if n % 10 == 0 {
        labels["bot_id"] = json!(format!("bot-{}", n % 100));
    }
    let kind = if n % 1000 == 999 {
        "room.ended"
    } else {
        "participant.joined"
    };
    json!({"type": kind, "labels": labels,
           "data": {"participant": {"id": format!("p-{n}"), "name": "Ada Lovelace"}}})
}

/// Fills the log, then times every list; prints one line per list.
pub async fn run(
    base: &str,
    token: &str,
    hook: &str,
    events: u64,
    rec: &Arc<Recorder>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(16)
        .build()?;
    let (app, ep) = app_with_endpoint(&client, base, token, hook).await?;
    rec.reset();
    let started = Instant::now();
    let (first, middle) = fill(
        &client,
        &format!("{base}/v1/apps/{app}"),
        token,
        events,
        event,
    )
    .await?;
    let filled = started.elapsed().as_secs_f64();
    wait_delivered(rec, events, Duration::from_secs(3600)).await?;
    println!(
        "queries: {events} events published in {filled:.0} s ({:.0}/s), all delivered after {:.0} s",
        events as f64 / filled,
        started.elapsed().as_secs_f64()
    );
    let lists = Lists {
        client,
        base: format!("{base}/v1/apps/{app}"),
        token: token.to_owned(),
    };
    for (name, path) in paths(&ep, &first, &middle) {
        let (p50, p99, found) = lists.time(&path).await?;
        println!("queries: {name}: median {p50:.1} ms, p99 {p99:.1} ms ({found} per page)");
    }
    super::pages::run(base, &lists.token, &app).await
}

/// A new app with one endpoint, every event type, pointing at `hook`: their ids.
pub(super) async fn app_with_endpoint(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    hook: &str,
) -> anyhow::Result<(String, String)> {
    let body = json!({"name": "bench", "preset": "standard"});
    let app = post(client, &format!("{base}/v1/apps"), token, body).await?;
    let app = app["id"].as_str().context("app id")?.to_owned();
    let body = json!({"url": hook, "events": ["*"], "max_in_flight": 64});
    let ep = post(
        client,
        &format!("{base}/v1/apps/{app}/endpoints"),
        token,
        body,
    )
    .await?;
    let ep = ep["id"].as_str().context("endpoint id")?.to_owned();
    Ok((app, ep))
}

/// Publishes `events` events (the `n`-th is `event(n)`) in batches from [`PUBLISHERS`]
/// clients to the app at `app`; answers the first event's id and the time halfway through.
pub(super) async fn fill(
    client: &reqwest::Client,
    app: &str,
    token: &str,
    events: u64,
    event: fn(u64) -> Value,
) -> anyhow::Result<(String, String)> {
    let next = Arc::new(AtomicU64::new(0));
    let first = Arc::new(std::sync::Mutex::new((String::new(), String::new())));
    let mut publishers = Vec::new();
    for _ in 0..PUBLISHERS {
        let (client, next, first) = (client.clone(), Arc::clone(&next), Arc::clone(&first));
        let (url, token) = (format!("{app}/events/batch"), token.to_owned());
        publishers.push(tokio::spawn(async move {
            loop {
                let from = next.fetch_add(BATCH, Ordering::Relaxed);
                if from >= events {
                    return Ok::<(), anyhow::Error>(());
                }
                let batch: Vec<Value> = (from..(from + BATCH).min(events)).map(event).collect();
                let answer = post(&client, &url, &token, json!({"events": batch})).await?;
                let id = answer["data"][0]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let mut f = first.lock().unwrap_or_else(|p| p.into_inner());
                if from == 0 {
                    f.0 = id;
                }
                if from == events / 2 / BATCH * BATCH {
                    f.1 = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                }
            }
        }));
    }
    for p in publishers {
        p.await??;
    }
    let f = first.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(f)
}

/// Each list timed: its name, and its path for the `i`-th repetition.
type Path = Box<dyn Fn(usize) -> String>;

fn paths(ep: &str, first_event: &str, middle: &str) -> Vec<(&'static str, Path)> {
    let mut all = by_label();
    let (ep, evt) = (ep.to_owned(), first_event.to_owned());
    let since = middle.replace('+', "%2B");
    let until = chrono::DateTime::parse_from_rfc3339(middle)
        .map(|t| t + chrono::Duration::seconds(1))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
        .replace('+', "%2B");
    let others: Vec<(&'static str, Path)> = vec![
        (
            "failed deliveries (none)",
            Box::new(|_| "/deliveries?status=failed".into()),
        ),
        (
            "one endpoint's failed deliveries (none)",
            Box::new(move |_| format!("/deliveries?endpoint={ep}&status=failed")),
        ),
        (
            "one room's failed deliveries (none)",
            Box::new(|i| format!("/deliveries?label.room_id=room-{i}&status=failed")),
        ),
        (
            "one event's deliveries",
            Box::new(move |_| format!("/deliveries?event={evt}")),
        ),
        (
            "a rare type's events",
            Box::new(|_| "/events?type=room.ended".into()),
        ),
        (
            "one second's deliveries",
            Box::new(move |_| format!("/deliveries?since={since}&until={until}")),
        ),
        ("the newest deliveries", Box::new(|_| "/deliveries".into())),
    ];
    all.extend(others);
    all
}

/// The lists by one label, a different value on each repetition.
fn by_label() -> Vec<(&'static str, Path)> {
    vec![
        (
            "one room's deliveries",
            Box::new(|i| format!("/deliveries?label.room_id=room-{}", i * 7 % 1000)),
        ),
        (
            "one room's events",
            Box::new(|i| format!("/events?label.room_id=room-{}", i * 7 % 1000)),
        ),
        (
            "one session's events",
            Box::new(|i| format!("/events?label.session_id=sess-{}", i * 13)),
        ),
        (
            "one participant's deliveries",
            Box::new(|i| format!("/deliveries?label.participant_id=p-{}", i * 101)),
        ),
        (
            "one bot's deliveries",
            Box::new(|i| format!("/deliveries?label.bot_id=bot-{}", i * 10 % 100)),
        ),
    ]
}

struct Lists {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Lists {
    /// Median and p99 of [`REPEAT`] GETs of `path`, in ms, and the items on the last page.
    async fn time(&self, path: &Path) -> anyhow::Result<(f64, f64, usize)> {
        let mut ms = Vec::with_capacity(REPEAT);
        let mut found = 0;
        for i in 0..REPEAT {
            let url = format!("{}{}", self.base, path(i));
            let t = Instant::now();
            let resp = self
                .client
                .get(&url)
                .bearer_auth(&self.token)
                .send()
                .await?;
            let status = resp.status();
            let body: Value = resp.json().await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            if !status.is_success() {
                bail!("GET {url} answered {status}: {body}");
            }
            found = body["data"].as_array().map_or(0, Vec::len);
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Ok((at(0.5), at(0.99), found))
    }
}
