//! Group commit for attempt outcomes.
//!
//! Every delivery ends in a write (its attempt and its new state). One transaction per
//! delivery would make the database's commit rate the ceiling of the whole cluster, so each
//! process gathers the outcomes that arrive while a commit is under way and writes them with
//! one statement, whatever the group's size. A group that fails is written again one
//! outcome at a time, so that one bad row cannot hold back the others.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::col;
use super::tenants::{get_endpoint, update_endpoint};
use crate::domain::DeliveryId;
use crate::store::{to_ms, AttemptOutcome, StoreError, StoreResult};

/// Most outcomes in one transaction.
const MAX_GROUP: usize = 512;
/// Transactions in progress at once; each holds one pooled connection.
const WRITERS: usize = 3;

/// An outcome waiting for its group, and where to say whether it changed its delivery.
type Pending = (AttemptOutcome, oneshot::Sender<StoreResult<bool>>);

pub struct OutcomeWriter {
    tx: mpsc::UnboundedSender<Pending>,
}

impl OutcomeWriter {
    pub fn start(pool: PgPool, owner: Arc<str>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..WRITERS {
            tokio::spawn(write_groups(
                pool.clone(),
                Arc::clone(&owner),
                Arc::clone(&rx),
            ));
        }
        Self { tx }
    }

    /// Queues the outcomes for the next group and waits until they are committed; answers
    /// the deliveries whose outcome came under a lapsed lease.
    pub async fn record(&self, outcomes: Vec<AttemptOutcome>) -> StoreResult<Vec<DeliveryId>> {
        let stopped = || StoreError::Unavailable("the outcome writer has stopped".into());
        let mut answers = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            let (reply, answer) = oneshot::channel();
            let id = outcome.delivery_id.clone();
            self.tx.send((outcome, reply)).map_err(|_| stopped())?;
            answers.push((id, answer));
        }
        let mut stale = Vec::new();
        for (id, answer) in answers {
            if !answer.await.map_err(|_| stopped())?? {
                stale.push(id);
            }
        }
        Ok(stale)
    }
}

async fn write_groups(
    pool: PgPool,
    owner: Arc<str>,
    rx: Arc<Mutex<mpsc::UnboundedReceiver<Pending>>>,
) {
    let mut group: Vec<Pending> = Vec::with_capacity(MAX_GROUP);
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut group, MAX_GROUP).await == 0 {
                return;
            }
        }
        let outcomes: Vec<AttemptOutcome> = group.iter().map(|(o, _)| o.clone()).collect();
        match write(&pool, &outcomes, &owner).await {
            Ok(applied) => {
                for (outcome, reply) in group.drain(..) {
                    let _ = reply.send(Ok(applied.contains(outcome.delivery_id.as_str())));
                }
            }
            Err(e) if group.len() > 1 => {
                tracing::warn!(error = %e, size = group.len(), "a group of outcomes failed; writing them one by one");
                for (outcome, reply) in group.drain(..) {
                    let one = write(&pool, std::slice::from_ref(&outcome), &owner).await;
                    let _ = reply.send(one.map(|applied| !applied.is_empty()));
                }
            }
            Err(e) => {
                for (_, reply) in group.drain(..) {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// PostgreSQL text cannot hold NUL; a receiver's body may.
fn text(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// Writes a group: one statement, in a transaction of its own unless an endpoint must be
/// disabled with it (a 410 Gone), which takes a transaction of several. Answers the
/// deliveries whose state the group changed.
async fn write(
    pool: &PgPool,
    outcomes: &[AttemptOutcome],
    owner: &str,
) -> StoreResult<HashSet<String>> {
    if outcomes.iter().all(|o| o.disable_endpoint.is_none()) {
        return record(pool, outcomes, owner).await;
    }
    let mut tx = pool.begin().await?;
    let applied = record(&mut *tx, outcomes, owner).await?;
    for (ep_id, reason) in outcomes.iter().filter_map(|o| o.disable_endpoint.as_ref()) {
        if let Some(mut ep) = get_endpoint(&mut tx, ep_id).await? {
            ep.disable(reason, Utc::now());
            update_endpoint(&mut tx, &ep).await?;
        }
    }
    tx.commit().await?;
    Ok(applied)
}

const RECORD: &str = "WITH u AS (UPDATE deliveries d SET status = u.status, \
           attempt_count = coalesce(u.attempt_count, d.attempt_count), \
           next_attempt_at = u.next_at, due_at = coalesce(u.next_at, 0), \
           lease_owner = CASE WHEN u.lease_until IS NULL THEN NULL ELSE $16 END, \
           trigger = 'scheduled', updated_at = $17 \
           FROM unnest($11::text[], $12::text[], $13::int[], $14::bigint[], $15::bigint[], \
             $19::bigint[]) AS u(id, status, attempt_count, next_at, lease_until, epoch) \
           WHERE d.id = u.id AND d.lease_epoch = u.epoch AND d.status = 'pending' \
           RETURNING d.id, d.ordering_key IS NOT NULL AND d.status <> 'pending' AND EXISTS \
             (SELECT 1 FROM deliveries n WHERE n.endpoint_id = d.endpoint_id \
              AND n.ordering_key = d.ordering_key AND n.status = 'pending' \
              AND n.seq > d.seq) AS unblocked), \
         a AS (INSERT INTO attempts (delivery_id, id, number, started_at, duration_ms, \
           status_code, error_kind, response_body, request_headers, trigger, lapsed_lease) \
           SELECT x.*, x.delivery_id NOT IN (SELECT id FROM u) \
           FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], \
           $6::int[], $7::text[], $8::text[], $9::text[], $10::text[]) \
           AS x(delivery_id, id, number, started_at, duration_ms, status_code, error_kind, \
             response_body, request_headers, trigger)), \
         n AS (SELECT pg_notify($18, '') FROM (SELECT bool_or(unblocked) AS any FROM u) s \
           WHERE s.any) \
         SELECT id FROM u UNION ALL SELECT NULL FROM n";

/// The attempts and the deliveries' new states in one statement, so that a group costs one
/// round trip; answers the deliveries whose state changed. A delivery changes only under
/// the lease its outcome presents, and only while pending: an outcome from a lease taken
/// over since logs its attempt as lapsed and changes nothing else. An outcome that keeps its lease (an ordered retry held in memory) stays this
/// process's while it lives. When a row settles the head of a room with a later delivery
/// pending, the statement notifies the other processes, so that the next one is claimed at
/// once rather than at the next poll: whether or not that one is leased, since another
/// process may be giving it back to the store at this moment, unseen by this statement (see
/// also `leases::release`).
async fn record<'e>(
    c: impl sqlx::PgExecutor<'e>,
    outcomes: &[AttemptOutcome],
    owner: &str,
) -> StoreResult<HashSet<String>> {
    let attempts: Vec<_> = outcomes
        .iter()
        .filter_map(|o| o.attempt.as_ref().map(|a| (o, a)))
        .collect();
    let applied: Vec<Option<String>> = sqlx::query_scalar(RECORD)
        .bind(col(&attempts, |(o, _)| o.delivery_id.as_str()))
        .bind(col(&attempts, |(_, a)| a.id.as_str()))
        .bind(col(&attempts, |(_, a)| a.number as i32))
        .bind(col(&attempts, |(_, a)| to_ms(a.started_at)))
        .bind(col(&attempts, |(_, a)| a.duration_ms as i64))
        .bind(col(&attempts, |(_, a)| a.status_code.map(i32::from)))
        .bind(col(&attempts, |(_, a)| a.error_kind.map(|k| k.as_str())))
        .bind(col(&attempts, |(_, a)| text(&a.response_body)))
        .bind(col(&attempts, |(_, a)| {
            text(&a.request_headers.to_string())
        }))
        .bind(col(&attempts, |(_, a)| a.trigger.as_str()))
        .bind(col(outcomes, |o| o.delivery_id.as_str()))
        .bind(col(outcomes, |o| o.status.as_str()))
        .bind(col(outcomes, |o| {
            o.attempt.as_ref().map(|a| a.number as i32)
        }))
        .bind(col(outcomes, |o| o.next_attempt_at.map(to_ms)))
        .bind(col(outcomes, |o| o.lease_until.map(to_ms)))
        .bind(owner)
        .bind(to_ms(Utc::now()))
        .bind(super::WORK_CHANNEL)
        .bind(col(outcomes, |o| o.lease_epoch))
        .fetch_all(c)
        .await?;
    Ok(applied.into_iter().flatten().collect())
}
