//! Publishing (event plus fan-out in one transaction) and the event log.

use std::sync::Arc;

use sqlx::{PgConnection, PgPool};

use super::labels::LabelRows;
use super::rows::{self, event_cols, fetch_filtered};
use super::tenants::enabled_endpoints;
use crate::domain::{fan_out, AppId, Endpoint, Event, EventId, IdempotencyKey, OrderingKey};
use crate::store::filter::{self, Dialect};
use crate::store::{
    to_ms, EventQuery, Job, Lease, LeasePlanner, Published, RoomPage, StoreResult, NEVER_DUE,
};

pub(super) async fn find_by_key(
    c: &mut PgConnection,
    app: &AppId,
    key: &IdempotencyKey,
) -> StoreResult<Option<Event>> {
    let sql = format!(
        "SELECT {} FROM events e WHERE app_id = $1 AND idempotency_key = $2",
        event_cols("e")
    );
    let row = sqlx::query(&sql)
        .bind(app.as_str())
        .bind(key.as_str())
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(rows::event).transpose()?)
}

/// Inserts the event; answers false when its idempotency key is already taken (by a
/// committed event, or by one this transaction waited for).
async fn insert_event(c: &mut PgConnection, e: &Event) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO events (id, app_id, type, data, labels, occurred_at, idempotency_key, \
         created_at, metadata, ordering_key) \
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10) \
         ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
    )
    .bind(e.id.as_str())
    .bind(e.app_id.as_str())
    .bind(e.event_type.as_str())
    .bind(e.data.as_str())
    .bind(e.labels.to_json())
    .bind(to_ms(e.occurred_at))
    .bind(e.idempotency_key.as_ref().map(|k| k.as_str()))
    .bind(to_ms(e.created_at))
    .bind(e.metadata.as_ref().map(|m| m.to_string()))
    .bind(e.ordering_key.as_ref().map(OrderingKey::as_str))
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes one pending delivery per matching endpoint in a single statement; rows get their
/// `seq` in the order given, which is the order of `endpoints`.
async fn insert_deliveries(
    c: &mut PgConnection,
    event: &Arc<Event>,
    endpoints: &[Endpoint],
    plan: &mut LeasePlanner<'_>,
    owner: &str,
) -> StoreResult<(Vec<Job>, Vec<bool>)> {
    let mut jobs = fan_out(event, endpoints);
    if jobs.is_empty() {
        return Ok((jobs, Vec::new()));
    }
    let leased: Vec<bool> = jobs.iter().map(|j| plan.take(j)).collect();
    let owners: Vec<Option<&str>> = leased.iter().map(|l| l.then_some(owner)).collect();
    let ids: Vec<&str> = jobs.iter().map(|j| j.delivery_id.as_str()).collect();
    let eps: Vec<&str> = jobs.iter().map(|j| j.endpoint_id.as_str()).collect();
    let keys: Vec<Option<&str>> = jobs
        .iter()
        .map(|j| j.ordering_key.as_ref().map(OrderingKey::as_str))
        .collect();
    let seqs: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO deliveries (id, app_id, event_id, endpoint_id, status, attempt_count, \
         next_attempt_at, due_at, lease_owner, trigger, labels, ordering_key, created_at, \
         updated_at, expires_at) \
         SELECT d.id, $1, $2, d.ep, 'pending', 0, NULL, CASE WHEN d.polled THEN $11 ELSE $3 END, \
           d.owner, 'scheduled', $4::jsonb, d.key, $3, $3, d.expires \
         FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bool[]) \
           WITH ORDINALITY AS d(id, ep, key, owner, expires, polled, n) \
         ORDER BY d.n RETURNING id, seq",
    )
    .bind(event.app_id.as_str())
    .bind(event.id.as_str())
    .bind(to_ms(event.created_at))
    .bind(event.labels.to_json())
    .bind(&ids)
    .bind(&eps)
    .bind(&keys)
    .bind(&owners)
    .bind(
        jobs.iter()
            .map(|j| j.expires_at.map(to_ms))
            .collect::<Vec<_>>(),
    )
    .bind(jobs.iter().map(|j| j.polled).collect::<Vec<_>>())
    .bind(NEVER_DUE)
    .fetch_all(c)
    .await?;
    let seqs: std::collections::HashMap<String, i64> = seqs.into_iter().collect();
    for job in &mut jobs {
        job.seq = seqs
            .get(job.delivery_id.as_str())
            .copied()
            .unwrap_or_default();
    }
    Ok((jobs, leased))
}

/// Writes the events and their deliveries in one transaction: all of `events` or none.
pub async fn publish(
    pool: &PgPool,
    app: &AppId,
    events: Vec<Event>,
    lease: &Lease,
    owner: &str,
) -> StoreResult<Vec<Published>> {
    let mut plan = lease.planner();
    let mut tx = pool.begin().await?;
    let endpoints = enabled_endpoints(&mut tx, app).await?;
    let mut out = Vec::with_capacity(events.len());
    let mut unleased = false;
    for event in events {
        if !insert_event(&mut tx, &event).await? {
            let original = match &event.idempotency_key {
                Some(key) => find_by_key(&mut tx, app, key).await?,
                None => None,
            };
            let original = original.ok_or_else(|| {
                crate::store::StoreError::Conflict(format!("event '{}' exists", event.id))
            })?;
            out.push(Published::duplicate(original));
            continue;
        }
        let numbers = super::sequences::number(&mut tx, &[&event]).await?;
        let event = Arc::new(super::sequences::stamped(&event, &numbers));
        let (jobs, leased) =
            insert_deliveries(&mut tx, &event, &endpoints, &mut plan, owner).await?;
        super::labels::insert(&mut tx, &LabelRows::of([event.as_ref()])).await?;
        unleased |= jobs
            .iter()
            .zip(&leased)
            .any(|(j, l)| lease.wakes(&j.endpoint_id, *l));
        out.push(Published {
            event,
            created: true,
            jobs,
            leased,
        });
    }
    if unleased {
        super::notify_work(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(out)
}

pub async fn get_event(pool: &PgPool, app: &AppId, id: &EventId) -> StoreResult<Option<Event>> {
    let sql = format!(
        "SELECT {} FROM events e WHERE id = $1 AND app_id = $2",
        event_cols("e")
    );
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .bind(app.as_str())
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(rows::event).transpose()?)
}

pub async fn list_events(pool: &PgPool, app: &AppId, q: &EventQuery) -> StoreResult<Vec<Event>> {
    select_events(pool, filter::events(Dialect::Postgres, app, q)).await
}

pub async fn room_events(pool: &PgPool, app: &AppId, room: &RoomPage) -> StoreResult<Vec<Event>> {
    let q = filter::room_events(Dialect::Postgres, app, &room.room, room.after, room.limit);
    select_events(pool, q).await
}

async fn select_events(
    pool: &PgPool,
    (tail, params): (String, Vec<String>),
) -> StoreResult<Vec<Event>> {
    let sql = format!("SELECT {}{tail}", event_cols("e"));
    Ok(fetch_filtered(pool, &sql, params, rows::event).await?)
}
