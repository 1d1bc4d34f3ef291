//! The delivery log, manual resends, recoveries and the dispatcher's write-backs.

use chrono::Utc;
use rusqlite::types::Value;
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
    // The first attempt kept in the delivery's row (see migration 0014), then the others.
    let sql = format!(
        "SELECT {FIRST_ATTEMPT_COLS} FROM deliveries WHERE id = ?1 AND a1_id IS NOT NULL \
         UNION ALL SELECT {ATTEMPT_COLS} FROM attempts WHERE delivery_id = ?1 ORDER BY 2, 3"
    );
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
        let outcome: [Value; 8] = [
            o.delivery_id.as_str().to_owned().into(),
            o.status.as_str().to_owned().into(),
            i64::from(number).into(),
            o.next_attempt_at.map(to_ms).into(),
            to_ms(Utc::now()).into(),
            o.lease_until.map(to_ms).into(),
            o.lease_until.map(|_| owner.to_owned()).into(),
            o.lease_epoch.into(),
        ];
        // A first attempt rides in the update of its delivery; if the update does not apply
        // (a lapsed lease), the attempt is logged as a row of its own.
        let first = o.attempt.as_ref().filter(|a| a.number == 1);
        let applied = match first {
            Some(a) => c
                .prepare_cached(&format!("{OUTCOME}{INLINE} {OUTCOME_WHERE}"))?
                .execute(params_from_iter(
                    outcome.into_iter().chain(attempt_cells(a)),
                ))?,
            None => c
                .prepare_cached(&format!("{OUTCOME} {OUTCOME_WHERE}"))?
                .execute(params_from_iter(outcome))?,
        } > 0;
        if !applied {
            stale.push(o.delivery_id.clone());
        }
        if let Some(a) = o.attempt.as_ref().filter(|_| !applied || first.is_none()) {
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

/// An outcome's update of its delivery (?1 to ?8), and the columns of a first attempt kept
/// with it (?9 to ?16, in the order of [`attempt_cells`]).
const OUTCOME: &str =
    "UPDATE deliveries SET status = ?2, attempt_count = ?3, next_attempt_at = ?4, \
     due_at = max(coalesce(?4, 0), coalesce(?6, 0)), lease_owner = ?7, \
     trigger = 'scheduled', updated_at = ?5";
const INLINE: &str = ", a1_id = ?9, a1_started_at = ?10, a1_duration_ms = ?11, \
     a1_status_code = ?12, a1_error_kind = ?13, a1_response_body = ?14, \
     a1_request_headers = ?15, a1_trigger = ?16";
const OUTCOME_WHERE: &str = "WHERE id = ?1 AND lease_epoch = ?8 AND status = 'pending'";
/// The first attempt kept in a delivery's row, as [`ATTEMPT_COLS`] reads an attempt.
const FIRST_ATTEMPT_COLS: &str = "a1_id, 1, a1_started_at, a1_duration_ms, a1_status_code, \
     a1_error_kind, a1_response_body, a1_request_headers, a1_trigger, 0";

/// An attempt's cells, from its id to its trigger.
fn attempt_cells(a: &Attempt) -> [Value; 8] {
    [
        a.id.as_str().to_owned().into(),
        to_ms(a.started_at).into(),
        (a.duration_ms as i64).into(),
        a.status_code.map(i64::from).into(),
        a.error_kind.map(|k| k.as_str().to_owned()).into(),
        a.response_body.clone().into(),
        a.request_headers.to_string().into(),
        a.trigger.as_str().to_owned().into(),
    ]
}

fn insert_attempt(c: &Connection, id: &DeliveryId, a: &Attempt, lapsed: bool) -> StoreResult<()> {
    let head: [Value; 3] = [
        id.as_str().to_owned().into(),
        i64::from(a.number).into(),
        lapsed.into(),
    ];
    c.prepare_cached(
        "INSERT INTO attempts (delivery_id, number, lapsed_lease, id, started_at, duration_ms, \
         status_code, error_kind, response_body, request_headers, trigger) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params_from_iter(head.into_iter().chain(attempt_cells(a))))?;
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
