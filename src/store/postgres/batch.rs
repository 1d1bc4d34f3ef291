//! The one statement that writes a publish group: its events, numbered in their rooms, and
//! the deliveries of those that were new, with the events' label rows, each column bound as
//! an array.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::col;
use super::labels::LabelRows;
use super::sequences::Numbers;
use crate::domain::{Event, OrderingKey};
use crate::store::{from_ms, to_ms, Job, StoreResult};

/// Events with a room are numbered here (see `sequences`) and inserted without `ON
/// CONFLICT`: one whose idempotency key was committed before the statement began is left
/// out (`fresh`), and one whose key a concurrent transaction takes makes the statement fail
/// rather than leave a number unused; the group is then written request by request. Events
/// without a room keep `ON CONFLICT DO NOTHING`.
const INSERT_ALL: &str = "WITH e AS (SELECT * FROM unnest($1::text[], $2::text[], \
       $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], $9::text[], \
       $10::text[], $23::text[]) WITH ORDINALITY \
       AS e(id, app, ty, data, labels, occurred, key, created, meta, okey, room, n)), \
     fresh AS (SELECT DISTINCT ON (app, coalesce(key, id)) id, app, room, created, n FROM e \
       WHERE room IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events x \
         WHERE x.app_id = e.app AND x.idempotency_key = e.key) \
       ORDER BY app, coalesce(key, id), n), \
     c AS (SELECT app, room, count(*) AS cnt, max(created) AS at FROM fresh \
       GROUP BY app, room ORDER BY app, room), \
     s AS (INSERT INTO sequences AS q (app, key, last, last_at) \
       SELECT app, room, cnt, at FROM c ON CONFLICT (app, key) DO UPDATE \
       SET last = q.last + excluded.last, last_at = greatest(q.last_at, excluded.last_at) \
       RETURNING app, key, last, last_at), \
     r AS (SELECT f.id, s.last - count(*) OVER w + row_number() OVER (w ORDER BY f.n) AS seq, \
       s.last_at AS at FROM fresh f JOIN s ON s.app = f.app AND s.key = f.room \
       WINDOW w AS (PARTITION BY f.app, f.room)), \
     ev1 AS (INSERT INTO events (id, app_id, type, data, labels, occurred_at, \
       idempotency_key, created_at, metadata, ordering_key, sequence, sequence_key) \
       SELECT e.id, e.app, e.ty, e.data, e.labels::jsonb, e.occurred, e.key, r.at, e.meta, \
       e.okey, r.seq, e.room FROM e JOIN r ON r.id = e.id ORDER BY e.n \
       RETURNING id, sequence, created_at), \
     ev2 AS (INSERT INTO events (id, app_id, type, data, labels, occurred_at, \
       idempotency_key, created_at, metadata, ordering_key) \
       SELECT id, app, ty, data, labels::jsonb, occurred, key, created, meta, okey \
       FROM e WHERE room IS NULL ORDER BY n \
       ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
       RETURNING id, sequence, created_at), \
     ev AS (SELECT * FROM ev1 UNION ALL SELECT * FROM ev2), \
     dl AS (INSERT INTO deliveries (id, app_id, event_id, endpoint_id, status, \
       attempt_count, next_attempt_at, due_at, lease_owner, trigger, labels, ordering_key, \
       created_at, updated_at, expires_at) \
       SELECT id, app, evt, ep, 'pending', 0, NULL, \
       CASE WHEN polled THEN 9223372036854775807 ELSE created END, owner, 'scheduled', \
       labels::jsonb, okey, created, created, expires \
       FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], \
       $16::text[], $17::text[], $18::text[], $24::bigint[], $25::bool[]) WITH ORDINALITY \
       AS d(id, app, evt, ep, created, owner, labels, okey, expires, polled, n) \
       WHERE d.evt IN (SELECT id FROM ev) ORDER BY n RETURNING id, seq), \
     el AS (INSERT INTO event_labels (app, name, value, event) \
       SELECT app, name, value, evt FROM unnest($19::text[], $20::text[], $21::text[], \
       $22::text[]) AS l(app, name, value, evt) \
       WHERE l.evt IN (SELECT id FROM ev)) \
     SELECT id, NULL::bigint, sequence, created_at FROM ev \
     UNION ALL SELECT id, seq, NULL, NULL FROM dl";

/// What the statement wrote: the events (with the number and time of those with a room)
/// and the deliveries (with their `seq`), by id.
pub(super) struct Written {
    pub ids: HashMap<String, Option<i64>>,
    pub numbers: Numbers,
}

/// Inserts the events and the deliveries of those that were new in one statement, the
/// deliveries in the order given (their `seq` order). Answers the ids of the events written
/// (an event whose idempotency key is taken is not, nor are its deliveries), and of the
/// deliveries written, with their `seq`.
pub(super) async fn insert_all(
    c: &mut PgConnection,
    all: &[&Event],
    rows: &[(Job, Option<&str>)],
) -> StoreResult<Written> {
    let labels = LabelRows::of(all.iter().copied());
    type Row = (String, Option<i64>, Option<i64>, Option<i64>);
    let written: Vec<Row> = sqlx::query_as(INSERT_ALL)
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
        .bind(col(all, |e| e.order_key().map(|k| k.as_str().to_owned())))
        .bind(col(rows, |(j, _)| j.expires_at.map(to_ms)))
        .bind(col(rows, |(j, _)| j.polled))
        .fetch_all(c)
        .await?;
    let mut out = Written {
        ids: HashMap::with_capacity(written.len()),
        numbers: Numbers::new(),
    };
    for (id, seq, sequence, at) in written {
        if let (Some(sequence), Some(at)) = (sequence, at) {
            out.numbers.insert(id.clone(), (sequence, from_ms(at)));
        }
        out.ids.insert(id, seq);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn polled_deliveries_are_written_never_due() {
        let never = crate::store::NEVER_DUE.to_string();
        assert!(super::INSERT_ALL.contains(&format!("THEN {never} ELSE")));
    }
}
