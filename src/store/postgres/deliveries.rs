//! The delivery log, manual resends and recoveries.

use chrono::Utc;
use sqlx::PgPool;

use super::rows::job;
use super::rows::{self, event_cols, fetch_filtered, ATTEMPT_COLS, DELIVERY_COLS};
use crate::domain::{AppId, Attempt, Delivery, DeliveryId};
use crate::store::filter::{self, Dialect};
use crate::store::rows::JOBS;
use crate::store::{to_ms, DeliveryQuery, Job, Recovery, Resend, StoreResult};

pub async fn list(pool: &PgPool, app: &AppId, q: &DeliveryQuery) -> StoreResult<Vec<Delivery>> {
    let (tail, params) = filter::deliveries(Dialect::Postgres, app, q);
    let sql = format!("SELECT {DELIVERY_COLS}{tail}");
    Ok(fetch_filtered(pool, &sql, params, rows::delivery).await?)
}

pub async fn get(
    pool: &PgPool,
    app: &AppId,
    id: &DeliveryId,
) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
    let sql = format!("SELECT {DELIVERY_COLS} FROM deliveries WHERE id = $1 AND app_id = $2");
    let Some(row) = sqlx::query(&sql)
        .bind(id.as_str())
        .bind(app.as_str())
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let sql = format!("SELECT {ATTEMPT_COLS} FROM attempts WHERE delivery_id = $1 ORDER BY number");
    let attempts = sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::attempt)
        .collect::<sqlx::Result<_>>()?;
    Ok(Some((rows::delivery(&row)?, attempts)))
}

/// The columns a [`Job`] is built from, for queries that return deliveries `d` joined to
/// their events `e`.
pub fn job_cols() -> String {
    format!("{}, {}", rows::cols(&JOBS, "d"), event_cols("e"))
}

pub async fn resend(pool: &PgPool, resend: &Resend, owner: &str) -> StoreResult<Option<Job>> {
    let (app, id, lease_until) = (&resend.app, &resend.delivery, resend.lease_until);
    let now = to_ms(Utc::now());
    let leased = to_ms(lease_until) > now;
    let mut tx = pool.begin().await?;
    let sql = format!(
        "WITH d AS (UPDATE deliveries SET status = 'pending', next_attempt_at = $3, due_at = $3, \
         trigger = 'manual', updated_at = $3, lease_owner = $4, lease_epoch = lease_epoch + 1 \
         WHERE id = $1 AND app_id = $2 \
         RETURNING *) SELECT {} FROM d JOIN events e ON e.id = d.event_id",
        job_cols()
    );
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .bind(app.as_str())
        .bind(now)
        .bind(leased.then_some(owner))
        .fetch_optional(&mut *tx)
        .await?;
    super::commit_notifying(tx, row.is_some() && !leased).await?;
    Ok(row.as_ref().map(job).transpose()?)
}

pub async fn recover(pool: &PgPool, scope: &Recovery) -> StoreResult<u64> {
    let mut tx = pool.begin().await?;
    // What is recovered has failed: found through the endpoint's status index.
    let sql = format!(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $4, due_at = $4, \
         trigger = 'manual', updated_at = $4, lease_owner = NULL, lease_epoch = lease_epoch + 1 \
         WHERE endpoint_id = $1 AND status = $5 AND {} \
         AND created_at >= $2 AND created_at < $3",
        filter::NOT_SUCCEEDED
    );
    let n = sqlx::query(&sql)
        .bind(scope.endpoint.as_str())
        .bind(to_ms(scope.since))
        .bind(to_ms(scope.until))
        .bind(to_ms(scope.at))
        .bind(scope.from.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    super::commit_notifying(tx, n > 0).await?;
    Ok(n)
}

pub async fn pending_count(pool: &PgPool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE status = 'pending'")
        .fetch_one(pool)
        .await?;
    Ok(n.max(0) as u64)
}
