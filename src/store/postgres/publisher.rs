//! Group commit for publishes.
//!
//! A publish is acknowledged only after its transaction commits, and on PostgreSQL each
//! transaction costs several round trips and a WAL flush, so one transaction per request
//! makes the commit latency the ceiling of the publish rate. Requests that arrive while a
//! group is being written wait for the next one, and a group of any size is written with
//! one statement for its events and one for their deliveries. Each request still gets its
//! own answer: the group either commits whole or, on any error, is written again request
//! by request, so that one bad request fails alone and a batch stays all or nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::events::{self, find_by_key, jobs_for};
use super::tenants::enabled_endpoints;
use crate::domain::{AppId, Endpoint, Event};
use crate::store::{to_ms, Job, Published, StoreError, StoreResult};

/// Most events in one group; a single larger batch is written alone.
const MAX_EVENTS: usize = 2000;
/// Groups being written at once; each holds one pooled connection.
const WRITERS: usize = 3;

struct Request {
    app: AppId,
    events: Vec<Event>,
    lease_until: DateTime<Utc>,
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
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<Published>> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the publish writer has stopped".into());
        self.tx
            .send(Request {
                app: app.clone(),
                events,
                lease_until,
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
                        let _ = r.reply.send(Ok(answer));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, size = group.len(), "a publish group failed; writing its requests one by one");
                }
            }
        }
        for r in group {
            let lease = r.lease_until;
            let answer = events::publish(&pool, &r.app, r.events, lease, &owner).await;
            let _ = r.reply.send(answer);
        }
    }
}

async fn write(pool: &PgPool, group: &[Request], owner: &str) -> StoreResult<Vec<Vec<Published>>> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let all: Vec<&Event> = group.iter().flat_map(|r| &r.events).collect();
    let inserted = insert_events(&mut tx, &all).await?;
    let mut endpoints: HashMap<&AppId, Vec<Endpoint>> = HashMap::new();
    let mut rows: Vec<(Job, Option<&str>)> = Vec::new();
    let mut answers = Vec::with_capacity(group.len());
    let mut notify = false;
    for r in group {
        if !endpoints.contains_key(&r.app) {
            let found = enabled_endpoints(&mut tx, &r.app).await?;
            endpoints.insert(&r.app, found);
        }
        let eps = endpoints.get(&r.app).map(Vec::as_slice).unwrap_or_default();
        let lease = (r.lease_until > now).then_some(owner);
        let mut out = Vec::with_capacity(r.events.len());
        for e in &r.events {
            if !inserted.contains(e.id.as_str()) {
                let original = match &e.idempotency_key {
                    Some(key) => find_by_key(&mut tx, &r.app, key).await?,
                    None => None,
                };
                let original = original
                    .ok_or_else(|| StoreError::Conflict(format!("event '{}' exists", e.id)))?;
                out.push(Published {
                    event: Arc::new(original),
                    created: false,
                    jobs: Vec::new(),
                });
                continue;
            }
            let event = Arc::new(e.clone());
            let jobs = jobs_for(&event, eps);
            notify |= lease.is_none() && !jobs.is_empty();
            rows.extend(jobs.iter().map(|j| (j.clone(), lease)));
            out.push(Published {
                event,
                created: true,
                jobs,
            });
        }
        answers.push(out);
    }
    insert_jobs(&mut tx, &rows).await?;
    if notify {
        super::notify_work(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(answers)
}

/// Inserts the events in one statement; answers the ids written (an event whose
/// idempotency key is taken is not).
async fn insert_events(c: &mut PgConnection, all: &[&Event]) -> StoreResult<HashSet<String>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "INSERT INTO events (id, app_id, type, data, labels, occurred_at, idempotency_key, \
         created_at, metadata, ordering_key) \
         SELECT id, app, ty, data, labels::jsonb, occurred, key, created, meta, okey \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], \
         $7::text[], $8::bigint[], $9::text[], $10::text[]) WITH ORDINALITY \
         AS e(id, app, ty, data, labels, occurred, key, created, meta, okey, n) ORDER BY n \
         ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
         RETURNING id",
    )
    .bind(all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>())
    .bind(all.iter().map(|e| e.app_id.as_str()).collect::<Vec<_>>())
    .bind(
        all.iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(all.iter().map(|e| e.data.as_str()).collect::<Vec<_>>())
    .bind(all.iter().map(|e| e.labels.to_json()).collect::<Vec<_>>())
    .bind(all.iter().map(|e| to_ms(e.occurred_at)).collect::<Vec<_>>())
    .bind(
        all.iter()
            .map(|e| e.idempotency_key.as_ref().map(|k| k.as_str()))
            .collect::<Vec<_>>(),
    )
    .bind(all.iter().map(|e| to_ms(e.created_at)).collect::<Vec<_>>())
    .bind(
        all.iter()
            .map(|e| e.metadata.as_ref().map(|m| m.to_string()))
            .collect::<Vec<_>>(),
    )
    .bind(
        all.iter()
            .map(|e| e.ordering_key.as_deref())
            .collect::<Vec<_>>(),
    )
    .fetch_all(c)
    .await?;
    Ok(ids.into_iter().collect())
}

/// Inserts the deliveries in one statement, in the order given (their `seq` order).
async fn insert_jobs(c: &mut PgConnection, rows: &[(Job, Option<&str>)]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO deliveries (id, app_id, event_id, endpoint_id, status, attempt_count, \
         next_attempt_at, due_at, lease_owner, trigger, labels, ordering_key, created_at, \
         updated_at) \
         SELECT id, app, evt, ep, 'pending', 0, NULL, created, owner, 'scheduled', \
         labels::jsonb, okey, created, created \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], \
         $7::text[], $8::text[]) WITH ORDINALITY \
         AS d(id, app, evt, ep, created, owner, labels, okey, n) ORDER BY n",
    )
    .bind(
        rows.iter()
            .map(|(j, _)| j.delivery_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|(j, _)| j.event.app_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|(j, _)| j.event.id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|(j, _)| j.endpoint_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|(j, _)| to_ms(j.event.created_at))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|(_, owner)| *owner).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|(j, _)| j.event.labels.to_json())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|(j, _)| j.ordering_key.as_deref())
            .collect::<Vec<_>>(),
    )
    .execute(c)
    .await?;
    Ok(())
}
