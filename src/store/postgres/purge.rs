//! Retention on PostgreSQL: one batch of a purge pass (see `store::upkeep`).
//!
//! A delivery resent or recovered while its old event is being purged either commits first
//! (it is pending, so it and its event stay: the deletes re-check each row they lock) or
//! waits on the deleted row and then finds nothing to resend.

use sqlx::PgPool;

use crate::domain::{AttemptId, EventId};
use crate::store::{Purge, Purged, StoreResult};

pub async fn purge(pool: &PgPool, p: &Purge) -> StoreResult<Purged> {
    let mut out = Purged::default();
    purge_events(pool, p, &mut out).await?;
    blank_bodies(pool, p, &mut out).await?;
    Ok(out)
}

async fn purge_events(pool: &PgPool, p: &Purge, out: &mut Purged) -> StoreResult<()> {
    let old: Vec<(String, bool)> = sqlx::query_as(
        "SELECT e.id, EXISTS (SELECT 1 FROM deliveries d \
           WHERE d.event_id = e.id AND d.status = 'pending') \
         FROM events e WHERE e.id > $1 AND e.id < $2 ORDER BY e.id LIMIT $3",
    )
    .bind(p.events_after.as_ref().map_or("", |id| id.as_str()))
    .bind(p.events_before.as_str())
    .bind(i64::from(p.batch))
    .fetch_all(pool)
    .await?;
    out.events_scanned = old.len() as u32;
    out.events_cursor = old.last().map(|(id, _)| EventId::from_trusted(id.clone()));
    let free: Vec<&str> = old
        .iter()
        .filter(|(_, pending)| !pending)
        .map(|(id, _)| id.as_str())
        .collect();
    if free.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let (deliveries, attempts): (i64, i64) = sqlx::query_as(
        "WITH dl AS (DELETE FROM deliveries d WHERE d.event_id = ANY($1) \
           AND d.status <> 'pending' RETURNING d.id), \
         at AS (DELETE FROM attempts a USING dl WHERE a.delivery_id = dl.id RETURNING 1) \
         SELECT (SELECT count(*) FROM dl), (SELECT count(*) FROM at)",
    )
    .bind(&free)
    .fetch_one(&mut *tx)
    .await?;
    let events: i64 = sqlx::query_scalar(
        "WITH ev AS (DELETE FROM events e WHERE e.id = ANY($1) \
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) \
           RETURNING e.id, e.app_id, e.labels), \
         lb AS (DELETE FROM event_labels x USING ev, jsonb_each_text(ev.labels) l \
           WHERE x.app = ev.app_id AND x.name = l.key AND x.value = l.value \
           AND x.event = ev.id) \
         SELECT count(*) FROM ev",
    )
    .bind(&free)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    out.events = events.max(0) as u64;
    out.deliveries = deliveries.max(0) as u64;
    out.attempts = attempts.max(0) as u64;
    Ok(())
}

async fn blank_bodies(pool: &PgPool, p: &Purge, out: &mut Purged) -> StoreResult<()> {
    let (scanned, last): (i64, Option<String>) = sqlx::query_as(
        "WITH b AS (SELECT id FROM attempts WHERE id > $1 AND id < $2 \
           AND response_body <> '' ORDER BY id LIMIT $3), \
         u AS (UPDATE attempts a SET response_body = '' FROM b WHERE a.id = b.id RETURNING 1) \
         SELECT (SELECT count(*) FROM u), (SELECT max(id) FROM b)",
    )
    .bind(p.bodies_after.as_ref().map_or("", |id| id.as_str()))
    .bind(p.bodies_before.as_str())
    .bind(i64::from(p.batch))
    .fetch_one(pool)
    .await?;
    out.bodies = scanned.max(0) as u64;
    out.bodies_scanned = out.bodies as u32;
    out.bodies_cursor = last.map(AttemptId::from_trusted);
    Ok(())
}
