//! The one statement that writes a publish group: its events, and the deliveries of those
//! that were new, with the events' label rows, each column bound as an array.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::col;
use super::labels::LabelRows;
use crate::domain::{Event, OrderingKey};
use crate::store::{to_ms, Job, StoreResult};

const INSERT_ALL: &str = "WITH ev AS (INSERT INTO events (id, app_id, type, data, labels, \
       occurred_at, idempotency_key, created_at, metadata, ordering_key) \
       SELECT id, app, ty, data, labels::jsonb, occurred, key, created, meta, okey \
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
       $6::bigint[], $7::text[], $8::bigint[], $9::text[], $10::text[]) WITH ORDINALITY \
       AS e(id, app, ty, data, labels, occurred, key, created, meta, okey, n) ORDER BY n \
       ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
       RETURNING id), \
     dl AS (INSERT INTO deliveries (id, app_id, event_id, endpoint_id, status, \
       attempt_count, next_attempt_at, due_at, lease_owner, trigger, labels, ordering_key, \
       created_at, updated_at) \
       SELECT id, app, evt, ep, 'pending', 0, NULL, created, owner, 'scheduled', \
       labels::jsonb, okey, created, created \
       FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], \
       $16::text[], $17::text[], $18::text[]) WITH ORDINALITY \
       AS d(id, app, evt, ep, created, owner, labels, okey, n) \
       WHERE d.evt IN (SELECT id FROM ev) ORDER BY n RETURNING id, seq), \
     el AS (INSERT INTO event_labels (app, name, value, event) \
       SELECT app, name, value, evt FROM unnest($19::text[], $20::text[], $21::text[], \
       $22::text[]) AS l(app, name, value, evt) \
       WHERE l.evt IN (SELECT id FROM ev)) \
     SELECT id, NULL::bigint FROM ev UNION ALL SELECT id, seq FROM dl";

/// Inserts the events and the deliveries of those that were new in one statement, the
/// deliveries in the order given (their `seq` order). Answers the ids of the events written
/// (an event whose idempotency key is taken is not, nor are its deliveries), and of the
/// deliveries written, with their `seq`.
pub(super) async fn insert_all(
    c: &mut PgConnection,
    all: &[&Event],
    rows: &[(Job, Option<&str>)],
) -> StoreResult<HashMap<String, Option<i64>>> {
    let labels = LabelRows::of(all.iter().copied());
    let written: Vec<(String, Option<i64>)> = sqlx::query_as(INSERT_ALL)
        .bind(col(all, |e| e.id.as_str()))
        .bind(col(all, |e| e.app_id.as_str()))
        .bind(col(all, |e| e.event_type.as_str()))
        .bind(col(all, |e| e.data.as_str()))
        .bind(col(all, |e| e.labels.to_json()))
        .bind(col(all, |e| to_ms(e.occurred_at)))
        .bind(col(all, |e| e.idempotency_key.as_ref().map(|k| k.as_str())))
        .bind(col(all, |e| to_ms(e.created_at)))
        .bind(col(all, |e| e.metadata.as_ref().map(|m| m.to_string())))
        .bind(col(all, |e| {
            e.ordering_key.as_ref().map(OrderingKey::as_str)
        }))
        .bind(col(rows, |(j, _)| j.delivery_id.as_str()))
        .bind(col(rows, |(j, _)| j.event.app_id.as_str()))
        .bind(col(rows, |(j, _)| j.event.id.as_str()))
        .bind(col(rows, |(j, _)| j.endpoint_id.as_str()))
        .bind(col(rows, |(j, _)| to_ms(j.event.created_at)))
        .bind(col(rows, |(_, owner)| *owner))
        .bind(col(rows, |(j, _)| j.event.labels.to_json()))
        .bind(col(rows, |(j, _)| {
            j.ordering_key.as_ref().map(OrderingKey::as_str)
        }))
        .bind(&labels.app)
        .bind(&labels.name)
        .bind(&labels.value)
        .bind(&labels.event)
        .fetch_all(c)
        .await?;
    Ok(written.into_iter().collect())
}
