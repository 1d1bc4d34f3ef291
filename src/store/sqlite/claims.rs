//! The dispatcher's side of the queue: claims, the ordering check, releases and renewals.
//!
//! A delivery held by this process has `lease_owner` set and `due_at` at its lease's end, so
//! "due" alone tells what may be claimed; releasing sets `due_at` back to its scheduled time.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::deliveries::jobs_where;
use crate::domain::{DeliveryId, EndpointId};
use crate::store::{to_ms, Claim, HeldLease, Job, StoreResult};

/// Leases, endpoint by endpoint in the claim's order, up to each endpoint's room of its
/// earliest due deliveries (a room's head only), up to the claim's limit in all. One indexed
/// look-up per endpoint: an endpoint's backlog, however long, costs the others nothing.
pub fn claim_due(c: &Connection, claim: &Claim, owner: &str) -> StoreResult<Vec<Job>> {
    let (now, lease_until) = (to_ms(claim.now), claim.until);
    // Disabled endpoints, and those whose breaker holds their deliveries back, are skipped.
    let ids: Vec<EndpointId> = c
        .prepare_cached(
            "SELECT id FROM endpoints WHERE enabled = 1 AND verified = 1 \
             AND coalesce(paused_until, 0) <= ?1 \
             ORDER BY id",
        )?
        .query_map([now], |r| Ok(EndpointId::from_trusted(r.get(0)?)))?
        .collect::<Result<_, _>>()?;
    let mut lease = c.prepare_cached(
        "UPDATE deliveries SET due_at = ?2, lease_owner = ?3, lease_epoch = lease_epoch + 1 \
         WHERE id = ?1",
    )?;
    let mut jobs = Vec::new();
    for ep in claim.visit_order(&ids) {
        let left = (claim.limit as usize).saturating_sub(jobs.len());
        let room = (claim.room(ep) as usize).min(left);
        if left == 0 {
            break;
        }
        if room == 0 {
            continue;
        }
        let mut found = jobs_where(
            c,
            "d.endpoint_id = ?2 AND d.status = 'pending' AND d.due_at <= ?1 \
             AND (d.ordering_key IS NULL OR NOT EXISTS \
             (SELECT 1 FROM deliveries p WHERE p.endpoint_id = d.endpoint_id \
              AND p.ordering_key = d.ordering_key AND p.status = 'pending' AND p.seq < d.seq)) \
             ORDER BY d.due_at LIMIT ?3",
            &[&now, &ep.as_str(), &(room as i64)],
        )?;
        for job in &mut found {
            lease.execute(params![job.delivery_id.as_str(), to_ms(lease_until), owner])?;
            // Read in this same write transaction: the epoch just written.
            job.lease_epoch += 1;
        }
        jobs.extend(found);
    }
    Ok(jobs)
}

/// Whether an earlier delivery of the same endpoint and ordering key is still pending.
pub fn blocked(c: &Connection, job: &Job) -> StoreResult<bool> {
    let Some(key) = &job.ordering_key else {
        return Ok(false);
    };
    let found = c
        .prepare_cached(
            "SELECT 1 FROM deliveries WHERE endpoint_id = ?1 AND ordering_key = ?2 \
             AND status = 'pending' AND seq < ?3 LIMIT 1",
        )?
        .query_row(
            params![job.endpoint_id.as_str(), key.as_str(), job.seq],
            |_| Ok(()),
        )
        .optional()?;
    Ok(found.is_some())
}

/// Gives a delivery held in memory back to the store, due at its scheduled time.
pub fn release(c: &Connection, lease: &HeldLease) -> StoreResult<()> {
    c.execute(
        "UPDATE deliveries SET due_at = next_attempt_at, lease_owner = NULL \
         WHERE id = ?1 AND status = 'pending' AND lease_epoch = ?2",
        params![lease.id.as_str(), lease.epoch],
    )?;
    Ok(())
}

pub fn release_leases(c: &Connection) -> StoreResult<u64> {
    let n = c.execute(
        "UPDATE deliveries SET due_at = next_attempt_at, lease_owner = NULL \
         WHERE status = 'pending' AND lease_owner IS NOT NULL",
        [],
    )?;
    Ok(n as u64)
}

/// Extends the owner's leases `held`; a delivery claimed again since (its lease lapsed), or
/// whose outcome was written meanwhile, is left alone. Answers the ones claimed again
/// (settled since by their new holder, or not).
pub fn renew_leases(
    c: &Connection,
    held: &[HeldLease],
    until: DateTime<Utc>,
    owner: &str,
) -> StoreResult<Vec<DeliveryId>> {
    let mut renew = c.prepare_cached(
        "UPDATE deliveries SET due_at = max(coalesce(next_attempt_at, 0), ?2) \
         WHERE id = ?1 AND lease_owner = ?3 AND status = 'pending' AND lease_epoch = ?4",
    )?;
    let mut other =
        c.prepare_cached("SELECT 1 FROM deliveries WHERE id = ?1 AND lease_epoch <> ?2")?;
    let mut lost = Vec::new();
    for lease in held {
        let id = lease.id.as_str();
        if renew.execute(params![id, to_ms(until), owner, lease.epoch])? == 0
            && other.exists(params![id, lease.epoch])?
        {
            lost.push(lease.id.clone());
        }
    }
    Ok(lost)
}
