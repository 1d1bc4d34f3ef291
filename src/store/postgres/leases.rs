//! How dispatcher processes share deliveries: claims, leases, heartbeats and takeover.
//!
//! A delivery a process holds carries that process's name in `lease_owner`; the process
//! itself keeps one row alive in `nodes`. Renewing is then one row per process, whatever
//! it holds, rather than one row per delivery (which, with thousands held in memory on each
//! node, would make renewals the heaviest writes in the cluster and deadlock with
//! write-backs). When a node's `alive_until` passes, any other node frees its deliveries
//! and they are claimed like new work.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::deliveries::job_cols;
use super::rows::job;
use crate::domain::DeliveryId;
use crate::store::{to_ms, Claim, HeldLease, Job, StoreResult};

/// Marks this process alive until `until` (never earlier than it already is).
pub async fn heartbeat(pool: &PgPool, owner: &str, until: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO nodes (owner, alive_until) VALUES ($1, $2) ON CONFLICT (owner) \
         DO UPDATE SET alive_until = greatest(nodes.alive_until, excluded.alive_until)",
    )
    .bind(owner)
    .bind(to_ms(until))
    .execute(pool)
    .await?;
    Ok(())
}

/// Frees the deliveries of processes not alive at `now`, and forgets those processes.
/// `orphans` also frees deliveries whose owner has no `nodes` row at all (a process that
/// was forgotten while it stalled, then died before its next heartbeat); that scan reads
/// every held delivery, so it runs with renewals, not with every claim.
pub async fn take_over(pool: &PgPool, now: DateTime<Utc>, orphans: bool) -> StoreResult<u64> {
    let mut tx = pool.begin().await?;
    let dead: Vec<String> =
        sqlx::query_scalar("DELETE FROM nodes WHERE alive_until <= $1 RETURNING owner")
            .bind(to_ms(now))
            .fetch_all(&mut *tx)
            .await?;
    let mut freed = 0;
    if !dead.is_empty() {
        freed += sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, lease_epoch = lease_epoch + 1 \
             WHERE lease_owner = ANY($1) AND lease_owner IS NOT NULL",
        )
        .bind(&dead)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    if orphans {
        freed += sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, lease_epoch = lease_epoch + 1 \
             WHERE lease_owner IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.owner = deliveries.lease_owner)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    super::commit_notifying(tx, freed > 0).await?;
    if freed > 0 {
        tracing::warn!(deliveries = freed, processes = ?dead, "took over the work of stopped processes");
    }
    Ok(freed)
}

/// Takes due deliveries no process holds, endpoint by endpoint in the claim's order, at most
/// each endpoint's room of its earliest due (one index probe per endpoint, so a long backlog
/// costs the other endpoints nothing): rows locked by a concurrent claim are skipped, not
/// waited for, and a room's delivery is taken only when no earlier one of the room is still
/// pending anywhere.
pub async fn claim_due(pool: &PgPool, claim: &Claim, owner: &str) -> StoreResult<Vec<Job>> {
    let (now, lease_until) = (claim.now, claim.until);
    // Taking over first: a process that missed its own heartbeat has been given up, by
    // the others as much as by itself.
    take_over(pool, now, false).await?;
    heartbeat(pool, owner, lease_until).await?;
    let sql = format!(
        "WITH room AS (SELECT * FROM unnest($4::text[], $5::int8[]) AS r(endpoint_id, room)), \
         eps AS ( \
           SELECT e.id, coalesce(r.room, $6) AS room FROM endpoints e \
           LEFT JOIN room r ON r.endpoint_id = e.id WHERE coalesce(r.room, $6) > 0 \
           AND e.enabled AND e.verified AND coalesce(e.paused_until, 0) <= $1 \
           ORDER BY (e.id <= $7), e.id), \
         due AS ( \
           SELECT x.id FROM eps CROSS JOIN LATERAL ( \
             SELECT d.id FROM deliveries d \
             WHERE d.endpoint_id = eps.id AND d.status = 'pending' AND d.lease_owner IS NULL \
             AND d.due_at <= $1 \
             AND (d.ordering_key IS NULL OR NOT EXISTS \
               (SELECT 1 FROM deliveries p WHERE p.endpoint_id = d.endpoint_id \
                AND p.ordering_key = d.ordering_key AND p.status = 'pending' AND p.seq < d.seq)) \
             ORDER BY d.due_at LIMIT eps.room FOR UPDATE SKIP LOCKED) x \
           LIMIT $2), \
         d AS (UPDATE deliveries SET lease_owner = $3, lease_epoch = deliveries.lease_epoch + 1 \
           FROM due \
           WHERE deliveries.id = due.id RETURNING deliveries.*) \
         SELECT {} FROM d JOIN events e ON e.id = d.event_id ORDER BY d.seq",
        job_cols()
    );
    let (ids, rooms): (Vec<&str>, Vec<i64>) = claim
        .rooms
        .iter()
        .map(|(id, room)| (id.as_str(), i64::from(*room)))
        .unzip();
    let found = sqlx::query(&sql)
        .bind(to_ms(now))
        .bind(i64::from(claim.limit))
        .bind(owner)
        .bind(&ids)
        .bind(&rooms)
        .bind(i64::from(claim.default_room))
        .bind(claim.after.as_ref().map_or("", |a| a.as_str()))
        .fetch_all(pool)
        .await?;
    Ok(found.iter().map(job).collect::<sqlx::Result<_>>()?)
}

/// Whether an earlier delivery of the same endpoint and ordering key is still pending.
pub async fn blocked(pool: &PgPool, job: &Job) -> StoreResult<bool> {
    let Some(key) = &job.ordering_key else {
        return Ok(false);
    };
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM deliveries p WHERE p.endpoint_id = $1 \
         AND p.ordering_key = $2 AND p.status = 'pending' \
         AND p.seq < $3)",
    )
    .bind(job.endpoint_id.as_str())
    .bind(key.as_str())
    .bind(job.seq)
    .fetch_one(pool)
    .await?;
    Ok(found)
}

/// Gives a delivery back: claimable by any process from its due time, and the others are
/// told. (A room's next delivery is given back when its head is pending elsewhere; should
/// that head settle at this very moment, this notice is the one that arrives last.)
pub async fn release(pool: &PgPool, lease: &HeldLease, owner: &str) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let freed = sqlx::query(
        "UPDATE deliveries SET lease_owner = NULL \
         WHERE id = $1 AND status = 'pending' AND lease_owner = $2 AND lease_epoch = $3",
    )
    .bind(lease.id.as_str())
    .bind(owner)
    .bind(lease.epoch)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    super::commit_notifying(tx, freed > 0).await?;
    Ok(())
}

/// Renews every lease of this process with one heartbeat, takes over the work of processes
/// that stopped, and answers which of `held` are under another lease now: this process was
/// given up (it missed its heartbeats) and they were taken over (and maybe settled since).
pub async fn renew(
    pool: &PgPool,
    held: &[HeldLease],
    until: DateTime<Utc>,
    owner: &str,
) -> StoreResult<Vec<DeliveryId>> {
    heartbeat(pool, owner, until).await?;
    take_over(pool, Utc::now(), true).await?;
    let ids: Vec<&str> = held.iter().map(|l| l.id.as_str()).collect();
    let epochs: Vec<i64> = held.iter().map(|l| l.epoch).collect();
    let lost: Vec<String> = sqlx::query_scalar(
        "SELECT d.id FROM unnest($1::text[], $2::int8[]) AS h(id, epoch) \
         JOIN deliveries d ON d.id = h.id \
         WHERE d.lease_epoch <> h.epoch",
    )
    .bind(&ids)
    .bind(&epochs)
    .fetch_all(pool)
    .await?;
    Ok(lost.into_iter().map(DeliveryId::from_trusted).collect())
}

/// On a graceful stop: gives back everything this process holds, at once.
pub async fn release_all(pool: &PgPool, owner: &str) -> StoreResult<u64> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query("UPDATE deliveries SET lease_owner = NULL WHERE lease_owner = $1")
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM nodes WHERE owner = $1")
        .bind(owner)
        .execute(&mut *tx)
        .await?;
    super::commit_notifying(tx, n > 0).await?;
    Ok(n)
}
