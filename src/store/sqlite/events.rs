//! Publishing (event plus fan-out in one transaction) and the event log.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::fanout::FanoutCache;
use super::rows::{self, EVENT_COLS};
use crate::domain::{fan_out, AppId, Event, EventId, IdempotencyKey, OrderingKey};
use crate::store::filter::{self, Dialect};
use crate::store::{
    from_ms, to_ms, EventQuery, Job, Lease, Published, RoomPage, StoreResult, NEVER_DUE,
};

fn find_by_key(c: &Connection, app: &AppId, key: &IdempotencyKey) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE app_id = ?1 AND idempotency_key = ?2");
    Ok(c.prepare_cached(&sql)?
        .query_row([app.as_str(), key.as_str()], rows::event)
        .optional()?)
}

/// Gives an event with a room its room's next sequence, and a creation time no earlier than
/// the room's last event's, so that a room's order by time is its order by sequence. The
/// writer is the only one, so the order of its writes is the commit order.
fn sequence(c: &Connection, e: &mut Event) -> StoreResult<()> {
    let Some(key) = e.order_key() else {
        return Ok(());
    };
    let (last, at): (i64, i64) = c
        .prepare_cached(
            "INSERT INTO sequences (app, key, last, last_at) VALUES (?1, ?2, 1, ?3) \
             ON CONFLICT (app, key) DO UPDATE SET last = last + 1, \
             last_at = max(last_at, excluded.last_at) RETURNING last, last_at",
        )?
        .query_row(
            params![e.app_id.as_str(), key.as_str(), to_ms(e.created_at)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    e.sequence = Some(last);
    e.created_at = from_ms(at);
    Ok(())
}

fn insert_event(c: &Connection, e: &Event) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO events ({EVENT_COLS}, sequence_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    );
    c.prepare_cached(&sql)?.execute(params![
        e.id.as_str(),
        e.app_id.as_str(),
        e.event_type.as_str(),
        e.data.as_str(),
        e.labels.to_json(),
        to_ms(e.occurred_at),
        e.idempotency_key.as_ref().map(|k| k.as_str()),
        to_ms(e.created_at),
        e.metadata.as_ref().map(|m| m.to_string()),
        e.ordering_key.as_ref().map(OrderingKey::as_str),
        e.sequence,
        e.sequence
            .and(e.order_key())
            .as_ref()
            .map(OrderingKey::as_str),
    ])?;
    let mut label = c.prepare_cached(
        "INSERT INTO event_labels (app, name, value, event) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (name, value) in e.labels.iter() {
        label.execute(params![e.app_id.as_str(), name, value, e.id.as_str()])?;
    }
    Ok(())
}

/// Writes the events and one pending delivery per matching endpoint. A failure anywhere
/// makes the writer undo all of this write's rows, so none of `events` is left behind.
pub fn publish(
    c: &Connection,
    app: &AppId,
    events: &[Event],
    lease: &Lease,
    owner: &str,
    fanout: &FanoutCache,
    seq: &AtomicI64,
) -> StoreResult<Vec<Published>> {
    let endpoints = fanout.endpoints(c, app)?;
    let mut plan = lease.planner();
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        if let Some(key) = &event.idempotency_key {
            if let Some(original) = find_by_key(c, app, key)? {
                out.push(Published::duplicate(original));
                continue;
            }
        }
        let mut event = event.clone();
        sequence(c, &mut event)?;
        insert_event(c, &event)?;
        let event = Arc::new(event);
        let mut jobs = fan_out(&event, &endpoints);
        let leased: Vec<bool> = jobs.iter().map(|j| plan.take(j)).collect();
        insert_deliveries(c, &mut jobs, &leased, lease, owner, seq)?;
        out.push(Published {
            event,
            created: true,
            jobs,
            leased,
        });
    }
    Ok(out)
}

/// Writes one pending delivery per job, giving each its `seq`; a leased delivery is due when
/// its lease ends, an unleased one at once.
fn insert_deliveries(
    c: &Connection,
    jobs: &mut [Job],
    leased: &[bool],
    lease: &Lease,
    owner: &str,
    seq: &AtomicI64,
) -> StoreResult<()> {
    let mut insert = c.prepare_cached(
        "INSERT INTO deliveries (id, app_id, event_id, endpoint_id, status, attempt_count, \
         next_attempt_at, due_at, trigger, labels, ordering_key, created_at, updated_at, \
         lease_owner, seq, expires_at) \
         VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?6, 'scheduled', ?7, ?8, ?5, ?5, ?9, ?10, ?11)",
    )?;
    for (job, &held) in jobs.iter_mut().zip(leased) {
        let now = to_ms(job.event.created_at);
        job.seq = seq.fetch_add(1, Ordering::Relaxed) + 1;
        insert.execute(params![
            job.delivery_id.as_str(),
            job.event.app_id.as_str(),
            job.event.id.as_str(),
            job.endpoint_id.as_str(),
            now,
            match (job.polled, held) {
                (true, _) => NEVER_DUE,
                (false, true) => to_ms(lease.until),
                (false, false) => now,
            },
            job.event.labels.to_json(),
            job.ordering_key.as_ref().map(OrderingKey::as_str),
            held.then_some(owner),
            job.seq,
            job.expires_at.map(to_ms),
        ])?;
    }
    Ok(())
}

pub fn get_event(c: &Connection, app: &AppId, id: &EventId) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1 AND app_id = ?2");
    Ok(c.prepare_cached(&sql)?
        .query_row([id.as_str(), app.as_str()], rows::event)
        .optional()?)
}

pub fn list_events(c: &Connection, app: &AppId, q: &EventQuery) -> StoreResult<Vec<Event>> {
    select_events(c, filter::events(Dialect::Sqlite, app, q))
}

pub fn room_events(c: &Connection, app: &AppId, room: &RoomPage) -> StoreResult<Vec<Event>> {
    select_events(
        c,
        filter::room_events(Dialect::Sqlite, app, &room.room, room.after, room.limit),
    )
}

fn select_events(c: &Connection, (tail, params): (String, Vec<String>)) -> StoreResult<Vec<Event>> {
    let sql = format!("SELECT {EVENT_COLS}{tail}");
    let mut stmt = c.prepare(&sql)?;
    let events = stmt
        .query_map(params_from_iter(params), rows::event)?
        .collect::<Result<_, _>>()?;
    Ok(events)
}
