//! Room sequences on PostgreSQL, where several nodes publish into the same rooms at once.
//!
//! A publish group numbers its events in the statement that writes them (see `batch`).
//! A request written alone (a group of one, or the requests of a group that failed) is
//! written first and numbered after, here, in the same transaction: its insert may meet an
//! idempotency key taken meanwhile, and an event so turned away must take no number (a
//! number taken and not used would be a gap). Numbering a room locks its row of `sequences` until the transaction commits:
//! a second transaction numbering the same room waits, so the numbers follow the commit
//! order across nodes. Rooms are locked in a fixed order, so two groups sharing rooms do not
//! deadlock. Each numbered event's creation time becomes the room's latest (never earlier
//! than its predecessor's), which keeps a room's order by time its order by sequence even
//! when nodes' clocks or a wait for the lock would say otherwise.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::col;
use crate::domain::Event;
use crate::store::{from_ms, to_ms, StoreResult};

const NUMBER: &str = "WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], \
       $4::bigint[]) WITH ORDINALITY AS t(id, app, key, created, n)), \
     c AS (SELECT app, key, count(*) AS n, max(created) AS at FROM t \
       GROUP BY app, key ORDER BY app, key), \
     s AS (INSERT INTO sequences AS q (app, key, last, last_at) SELECT app, key, n, at FROM c \
       ON CONFLICT (app, key) DO UPDATE SET last = q.last + excluded.last, \
       last_at = greatest(q.last_at, excluded.last_at) RETURNING app, key, last, last_at), \
     r AS (SELECT t.id, t.key, \
       s.last - count(*) OVER w + row_number() OVER (w ORDER BY t.n) AS seq, s.last_at AS at \
       FROM t JOIN s ON s.app = t.app AND s.key = t.key WINDOW w AS (PARTITION BY t.app, t.key)) \
     UPDATE events e SET sequence = r.seq, sequence_key = r.key, created_at = r.at \
     FROM r WHERE e.id = r.id RETURNING e.id, e.sequence, e.created_at";

/// Room numbers by event id: their sequence and creation time.
pub(super) type Numbers = HashMap<String, (i64, DateTime<Utc>)>;

/// Numbers the written events that have a room, in the order given; answers each one's
/// sequence and creation time by id. Must run in the transaction that wrote them.
pub(super) async fn number(c: &mut PgConnection, written: &[&Event]) -> StoreResult<Numbers> {
    let keyed: Vec<(&Event, String)> = written
        .iter()
        .filter_map(|e| e.order_key().map(|k| (*e, k.as_str().to_owned())))
        .collect();
    if keyed.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(NUMBER)
        .bind(col(&keyed, |(e, _)| e.id.as_str()))
        .bind(col(&keyed, |(e, _)| e.app_id.as_str()))
        .bind(col(&keyed, |(_, k)| k.as_str()))
        .bind(col(&keyed, |(e, _)| to_ms(e.created_at)))
        .fetch_all(c)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, seq, at)| (id, (seq, from_ms(at))))
        .collect())
}

/// `event` with the number and time [`number`] gave it, if it got one.
pub(super) fn stamped(event: &Event, numbers: &Numbers) -> Event {
    let mut event = event.clone();
    if let Some((seq, at)) = numbers.get(event.id.as_str()) {
        event.sequence = Some(*seq);
        event.created_at = *at;
    }
    event
}
