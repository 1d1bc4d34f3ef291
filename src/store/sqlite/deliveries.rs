//! The delivery log, manual resends, recoveries and the dispatcher's write-backs.

use chrono::Utc;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::rows::{self, ATTEMPT_COLS, DELIVERY_COLS};
use super::tenants::{get_endpoint, update_endpoint};
use crate::domain::{AppId, Attempt, Delivery, DeliveryId};
use crate::store::filter::{self, Dialect};
use crate::store::rows::{select, EVENTS, JOBS};
use crate::store::{to_ms, AttemptOutcome, DeliveryQuery, Job, Recovery, Resend, StoreResult};

pub fn list(c: &Connection, app: &AppId, q: &DeliveryQuery) -> StoreResult<Vec<Delivery>> {
    let (tail, params) = filter::deliveries(Dialect::Sqlite, app, q);
    let sql = format!("SELECT {DELIVERY_COLS}{tail}");
    let mut stmt = c.prepare(&sql)?;
    let found = stmt
        .query_map(params_from_iter(params), rows::delivery)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub fn get(
    c: &Connection,
    app: &AppId,
    id: &DeliveryId,
) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
    let sql = format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE id = ?1 AND app_id = ?2");
    let Some(delivery) = c
        .prepare_cached(&sql)?
        .query_row([id.as_str(), app.as_str()], rows::delivery)
        .optional()?
    else {
        return Ok(None);
    };
    let sql = format!("SELECT {ATTEMPT_COLS} FROM attempts WHERE delivery_id = ?1 ORDER BY number");
    let attempts = c
        .prepare_cached(&sql)?
        .query_map([id.as_str()], rows::attempt)?
        .collect::<Result<_, _>>()?;
    Ok(Some((delivery, attempts)))
}

/// Loads the jobs for deliveries selected by `where_sql` (which may use `?1` = now).
pub(super) fn jobs_where(
    c: &Connection,
    where_sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<Job>> {
    let sql = format!(
        "SELECT {}, {} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE {where_sql}",
        select(&JOBS, "d", str::to_owned),
        select(&EVENTS, "e", str::to_owned),
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let jobs = stmt.query_map(args, rows::job)?.collect::<Result<_, _>>()?;
    Ok(jobs)
}

pub fn resend(c: &Connection, resend: &Resend, owner: &str) -> StoreResult<Option<Job>> {
    let (app, id, lease_until) = (&resend.app, &resend.delivery, resend.lease_until);
    let now = to_ms(Utc::now());
    let owner = (to_ms(lease_until) > now).then_some(owner);
    let n = c.execute(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?3, due_at = ?4, \
         trigger = 'manual', updated_at = ?3, lease_owner = ?5, lease_epoch = lease_epoch + 1 \
         WHERE id = ?1 AND app_id = ?2",
        params![id.as_str(), app.as_str(), now, to_ms(lease_until), owner],
    )?;
    if n == 0 {
        return Ok(None);
    }
    Ok(jobs_where(c, "d.id = ?1", &[&id.as_str()])?.pop())
}

pub fn recover(c: &Connection, scope: &Recovery) -> StoreResult<u64> {
    // What is recovered has failed: found through the endpoint's status index.
    let sql = format!(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?4, due_at = ?4, \
         trigger = 'manual', updated_at = ?4, lease_owner = NULL, lease_epoch = lease_epoch + 1 \
         WHERE endpoint_id = ?1 AND status = ?5 AND {} \
         AND created_at >= ?2 AND created_at < ?3",
        filter::NOT_SUCCEEDED
    );
    let n = c.execute(
        &sql,
        params![
            scope.endpoint.as_str(),
            to_ms(scope.since),
            to_ms(scope.until),
            to_ms(scope.at),
            scope.from.as_str()
        ],
    )?;
    Ok(n as u64)
}

/// Writes each outcome; answers the deliveries whose outcome came under a lapsed lease (see
/// [`crate::store::DeliveryQueue::record_attempts`]).
pub fn record(
    c: &Connection,
    outcomes: &[AttemptOutcome],
    owner: &str,
) -> StoreResult<Vec<DeliveryId>> {
    let mut update = c.prepare_cached(
        "UPDATE deliveries SET status = ?2, attempt_count = ?3, next_attempt_at = ?4, \
         due_at = max(coalesce(?4, 0), coalesce(?6, 0)), lease_owner = ?7, \
         trigger = 'scheduled', updated_at = ?5 \
         WHERE id = ?1 AND lease_epoch = ?8 AND status = 'pending'",
    )?;
    let mut stale = Vec::new();
    for o in outcomes {
        let number = match &o.attempt {
            Some(a) => a.number,
            None => c.query_row(
                "SELECT attempt_count FROM deliveries WHERE id = ?1",
                [o.delivery_id.as_str()],
                |r| r.get(0),
            )?,
        };
        let applied = update.execute(params![
            o.delivery_id.as_str(),
            o.status.as_str(),
            number,
            o.next_attempt_at.map(to_ms),
            to_ms(Utc::now()),
            o.lease_until.map(to_ms),
            o.lease_until.map(|_| owner),
            o.lease_epoch,
        ])? > 0;
        if !applied {
            stale.push(o.delivery_id.clone());
        }
        if let Some(a) = &o.attempt {
            insert_attempt(c, &o.delivery_id, a, !applied)?;
        }
        if let Some((ep_id, reason)) = &o.disable_endpoint {
            if let Some(mut ep) = get_endpoint(c, ep_id)? {
                ep.disable(reason, Utc::now());
                update_endpoint(c, &ep)?;
            }
        }
    }
    Ok(stale)
}

fn insert_attempt(c: &Connection, id: &DeliveryId, a: &Attempt, lapsed: bool) -> StoreResult<()> {
    c.prepare_cached(&format!(
        "INSERT INTO attempts (delivery_id, {ATTEMPT_COLS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        id.as_str(),
        a.id.as_str(),
        a.number,
        to_ms(a.started_at),
        a.duration_ms as i64,
        a.status_code,
        a.error_kind.map(|k| k.as_str()),
        a.response_body,
        a.request_headers.to_string(),
        a.trigger.as_str(),
        lapsed,
    ])?;
    Ok(())
}

pub fn pending_count(c: &Connection) -> StoreResult<u64> {
    let n: i64 = c.query_row(
        "SELECT count(*) FROM deliveries WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}
