//! Publishing (event plus fan-out in one transaction) and the event log.

use std::sync::Arc;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::fanout::FanoutCache;
use super::rows::{self, Filter, EVENT_COLS};
use crate::domain::endpoint::Ordering;
use crate::domain::{AppId, DeliveryId, Event, EventId, IdempotencyKey, Trigger};
use crate::store::{to_ms, EventQuery, Job, Lease, Page, Published, StoreResult};

fn find_by_key(c: &Connection, app: &AppId, key: &IdempotencyKey) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE app_id = ?1 AND idempotency_key = ?2");
    Ok(c.prepare_cached(&sql)?
        .query_row([app.as_str(), key.as_str()], rows::event)
        .optional()?)
}

fn insert_event(c: &Connection, e: &Event) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO events ({EVENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
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
        e.ordering_key,
    ])?;
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
) -> StoreResult<Vec<Published>> {
    let endpoints = fanout.endpoints(c, app)?;
    let mut plan = lease.planner();
    let mut insert_delivery = c.prepare_cached(
        "INSERT INTO deliveries (id, app_id, event_id, endpoint_id, status, attempt_count, \
         next_attempt_at, due_at, trigger, labels, ordering_key, created_at, updated_at, \
         lease_owner) \
         VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?6, 'scheduled', ?7, ?8, ?5, ?5, ?9)",
    )?;
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        if let Some(key) = &event.idempotency_key {
            if let Some(original) = find_by_key(c, app, key)? {
                out.push(Published {
                    event: Arc::new(original),
                    created: false,
                    jobs: Vec::new(),
                    leased: Vec::new(),
                });
                continue;
            }
        }
        insert_event(c, event)?;
        let event = Arc::new(event.clone());
        let now = to_ms(event.created_at);
        let labels = event.labels.to_json();
        let (mut jobs, mut leased_jobs) = (Vec::new(), Vec::new());
        for ep in endpoints.iter().filter(|ep| ep.wants(&event)) {
            let id = DeliveryId::new();
            let ordering_key = match ep.ordering {
                Ordering::PerRoom => event.order_key().map(str::to_owned),
                Ordering::None => None,
            };
            // A leased delivery is due when its lease ends; an unleased one at once.
            let leased = plan.take(&ep.id);
            leased_jobs.push(leased);
            insert_delivery.execute(params![
                id.as_str(),
                app.as_str(),
                event.id.as_str(),
                ep.id.as_str(),
                now,
                if leased { to_ms(lease.until) } else { now },
                labels,
                ordering_key,
                leased.then_some(owner),
            ])?;
            jobs.push(Job {
                delivery_id: id,
                endpoint_id: ep.id.clone(),
                event: Arc::clone(&event),
                attempt_count: 0,
                trigger: Trigger::Scheduled,
                ordering_key,
            });
        }
        out.push(Published {
            event,
            created: true,
            jobs,
            leased: leased_jobs,
        });
    }
    Ok(out)
}

pub fn get_event(c: &Connection, app: &AppId, id: &EventId) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1 AND app_id = ?2");
    Ok(c.prepare_cached(&sql)?
        .query_row([id.as_str(), app.as_str()], rows::event)
        .optional()?)
}

pub fn list_events(
    c: &Connection,
    app: &AppId,
    q: &EventQuery,
    page: &Page,
) -> StoreResult<Vec<Event>> {
    let mut filter = Filter::default();
    filter.eq("app_id", app.as_str().to_owned());
    if let Some(t) = &q.event_type {
        filter.eq("type", t.clone());
    }
    for (k, v) in &q.labels {
        filter.label(k, v);
    }
    let (tail, params) = filter.page(page);
    let sql = format!("SELECT {EVENT_COLS} FROM events{tail}");
    let mut stmt = c.prepare(&sql)?;
    let events = stmt
        .query_map(params_from_iter(params), rows::event)?
        .collect::<Result<_, _>>()?;
    Ok(events)
}
