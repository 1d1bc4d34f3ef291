//! Group commit for publishes.
//!
//! A publish is acknowledged only after its transaction commits, and on PostgreSQL each
//! transaction costs several round trips and a WAL flush, so one transaction per request
//! makes the commit latency the ceiling of the publish rate. Requests that arrive while a
//! group is being written wait for the next one, and a group of any size is written with
//! one statement, for its events and their deliveries together (after reading the
//! endpoints of its apps). Each request still gets its own answer: the statement either
//! commits whole or, on any error, the group is written again request by request, so that
//! one bad request fails alone and a batch stays all or nothing.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::batch::{insert_all, Written};
use super::events::{self, find_by_key};
use super::sequences;
use super::tenants::enabled_endpoints;
use crate::domain::{fan_out, AppId, Endpoint, Event};
use crate::store::{Job, Lease, Published, StoreError, StoreResult};

/// Most events in one group; a single larger batch is written alone.
const MAX_EVENTS: usize = 2000;
/// Groups being written at once; each holds one pooled connection.
const WRITERS: usize = 3;

struct Request {
    app: AppId,
    events: Vec<Event>,
    lease: Lease,
    reply: oneshot::Sender<StoreResult<Vec<Published>>>,
}

pub struct PublishWriter {
    tx: mpsc::UnboundedSender<Request>,
}

impl PublishWriter {
    pub fn start(pool: PgPool, owner: Arc<str>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(Mutex::new(Grouper { rx, held: None }));
        for _ in 0..WRITERS {
            tokio::spawn(write_groups(
                pool.clone(),
                Arc::clone(&owner),
                Arc::clone(&rx),
            ));
        }
        Self { tx }
    }

    /// Queues the events for the next group and waits until they are committed.
    pub async fn publish(
        &self,
        app: &AppId,
        events: Vec<Event>,
        lease: &Lease,
    ) -> StoreResult<Vec<Published>> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the publish writer has stopped".into());
        self.tx
            .send(Request {
                app: app.clone(),
                events,
                lease: lease.clone(),
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The shared queue, with the request that did not fit in the last group.
struct Grouper {
    rx: mpsc::UnboundedReceiver<Request>,
    held: Option<Request>,
}

impl Grouper {
    /// Waits for one request, then takes what else is queued, up to [`MAX_EVENTS`].
    async fn next_group(&mut self) -> Option<Vec<Request>> {
        let first = match self.held.take() {
            Some(r) => r,
            None => self.rx.recv().await?,
        };
        let mut size = first.events.len();
        let mut group = vec![first];
        while let Ok(r) = self.rx.try_recv() {
            if size + r.events.len() > MAX_EVENTS {
                self.held = Some(r);
                break;
            }
            size += r.events.len();
            group.push(r);
        }
        Some(group)
    }
}

async fn write_groups(pool: PgPool, owner: Arc<str>, queue: Arc<Mutex<Grouper>>) {
    loop {
        let Some(group) = queue.lock().await.next_group().await else {
            return;
        };
        if group.len() > 1 {
            match write(&pool, &group, &owner).await {
                Ok(answers) => {
                    for (r, answer) in group.into_iter().zip(answers) {
                        let _ = r.reply.send(answer);
                    }
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, size = group.len(), "a publish group failed; writing its requests one by one");
                }
            }
        }
        for r in group {
            let answer = events::publish(&pool, &r.app, r.events, &r.lease, &owner).await;
            let _ = r.reply.send(answer);
        }
    }
}

/// Writes a group with one statement, in a transaction of its own: its events, and the
/// deliveries of those that were new. An error means nothing was written; once the
/// statement has committed, each request gets its own answer.
async fn write(
    pool: &PgPool,
    group: &[Request],
    owner: &str,
) -> StoreResult<Vec<StoreResult<Vec<Published>>>> {
    let mut c = pool.acquire().await?;
    let mut endpoints: HashMap<&AppId, Vec<Endpoint>> = HashMap::new();
    for r in group {
        if !endpoints.contains_key(&r.app) {
            let found = enabled_endpoints(&mut c, &r.app).await?;
            endpoints.insert(&r.app, found);
        }
    }
    let (mut planned, rows, notify) = plan(group, &endpoints, owner);
    let all: Vec<&Event> = group.iter().flat_map(|r| &r.events).collect();
    let Written {
        ids: inserted,
        numbers,
    } = insert_all(&mut c, &all, &rows).await?;
    if notify {
        // Deliveries left for any process to claim (this one's window was full).
        let _ = super::notify_work(&mut c).await;
    }
    for p in planned.iter_mut().flatten() {
        if numbers.contains_key(p.event.id.as_str()) {
            let event = Arc::new(sequences::stamped(&p.event, &numbers));
            for job in &mut p.jobs {
                job.event = Arc::clone(&event);
            }
            p.event = event;
        }
    }
    for job in planned.iter_mut().flatten().flat_map(|p| &mut p.jobs) {
        job.seq = inserted
            .get(job.delivery_id.as_str())
            .copied()
            .flatten()
            .unwrap_or_default();
    }
    let mut answers = Vec::with_capacity(group.len());
    for (r, mut out) in group.iter().zip(planned) {
        answers.push(
            originals(&mut c, &r.app, &mut out, &inserted)
                .await
                .map(|()| out),
        );
    }
    Ok(answers)
}

/// Every event's deliveries, as if it were new (the statement drops those of events that an
/// idempotency key makes duplicates): the answers to give, the rows to write, and whether
/// any delivery is left for other processes to claim.
#[expect(clippy::type_complexity, reason = "a private step's three results")]
fn plan<'g>(
    group: &'g [Request],
    endpoints: &HashMap<&AppId, Vec<Endpoint>>,
    owner: &'g str,
) -> (Vec<Vec<Published>>, Vec<(Job, Option<&'g str>)>, bool) {
    let mut planned: Vec<Vec<Published>> = Vec::with_capacity(group.len());
    let mut rows: Vec<(Job, Option<&str>)> = Vec::new();
    let mut notify = false;
    for r in group {
        let eps = endpoints.get(&r.app).map(Vec::as_slice).unwrap_or_default();
        let mut out = Vec::with_capacity(r.events.len());
        let mut plan = r.lease.planner();
        for e in &r.events {
            let event = Arc::new(e.clone());
            let jobs = fan_out(&event, eps);
            let mut leased = Vec::with_capacity(jobs.len());
            for j in &jobs {
                let held = plan.take(j);
                notify |= r.lease.wakes(&j.endpoint_id, held);
                leased.push(held);
                rows.push((j.clone(), held.then_some(owner)));
            }
            out.push(Published {
                event,
                created: true,
                jobs,
                leased,
            });
        }
        planned.push(out);
    }
    (planned, rows, notify)
}

/// Replaces each event that was not written (its idempotency key was taken) by the
/// original, with no deliveries.
async fn originals(
    c: &mut PgConnection,
    app: &AppId,
    out: &mut [Published],
    inserted: &HashMap<String, Option<i64>>,
) -> StoreResult<()> {
    for p in out.iter_mut() {
        if inserted.contains_key(p.event.id.as_str()) {
            continue;
        }
        let original = match &p.event.idempotency_key {
            Some(key) => find_by_key(c, app, key).await?,
            None => None,
        };
        let original = original
            .ok_or_else(|| StoreError::Conflict(format!("event '{}' exists", p.event.id)))?;
        *p = Published::duplicate(original);
    }
    Ok(())
}
