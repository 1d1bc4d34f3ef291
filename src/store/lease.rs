//! What a dispatcher hands the store so that the store needs no rule of its own about
//! which deliveries this process takes: a [`Lease`] for the fresh deliveries of a publish,
//! a [`Claim`] for due work already in the store. Both carry the dispatcher's decisions
//! (which endpoints are full, how much room each has) as data.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{DeliveryId, EndpointId, Job};

/// Which of a publish's new deliveries are leased to this process, for the in-memory fast
/// path; the others are written unleased, due at once, for any dispatcher to claim.
#[derive(Debug, Clone)]
pub struct Lease {
    pub until: DateTime<Utc>,
    /// Endpoints whose share of this process's memory is full: none of theirs is leased.
    pub except: Arc<HashSet<EndpointId>>,
    /// Most deliveries of one endpoint one publish leases, so that a large batch cannot
    /// carry an endpoint far past its share.
    pub per_endpoint: usize,
}

impl Lease {
    /// Leases nothing: every delivery waits in the store.
    pub fn none() -> Self {
        Self {
            until: DateTime::UNIX_EPOCH,
            except: Arc::default(),
            per_endpoint: 0,
        }
    }

    /// Whether a delivery to `endpoint` that was left in the store should wake the claimers
    /// (this process and, on a shared store, the others). Not when its endpoint's share is
    /// full here: this process claims it as the endpoint drains, and other processes find it
    /// at their next poll; waking everyone for each publish to a hanging endpoint would only
    /// make claims that find nothing they may take.
    pub fn wakes(&self, endpoint: &EndpointId, leased: bool) -> bool {
        !leased && !self.except.contains(endpoint)
    }

    /// Decides, delivery by delivery in the order a publish creates them, which are leased.
    pub fn planner(&self) -> LeasePlanner<'_> {
        LeasePlanner {
            lease: self,
            live: self.until > Utc::now(),
            taken: HashMap::new(),
        }
    }
}

/// One publish's use of a [`Lease`]; both backends ask it about each new delivery in turn.
pub struct LeasePlanner<'a> {
    lease: &'a Lease,
    live: bool,
    taken: HashMap<EndpointId, usize>,
}

impl LeasePlanner<'_> {
    /// Whether the next new delivery, `job`, is leased to this process (never one a polling
    /// endpoint's consumer pulls).
    pub fn take(&mut self, job: &Job) -> bool {
        let endpoint = &job.endpoint_id;
        if !self.live || job.polled || self.lease.except.contains(endpoint) {
            return false;
        }
        let taken = self.taken.entry(endpoint.clone()).or_default();
        *taken += 1;
        *taken <= self.lease.per_endpoint
    }
}

/// A lease as its holder presents it to the store: which delivery, and which of its leases.
/// Every claim of a delivery (and every resend, and every take-over of a stopped process's
/// work) starts a new lease with a higher epoch, so a holder that was paused past its lease
/// and resumes presents an old epoch, and the store refuses its writes: whatever it does
/// then cannot overwrite what the delivery's new holder did.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeldLease {
    pub id: DeliveryId,
    pub epoch: i64,
}

impl HeldLease {
    pub fn of(job: &Job) -> Self {
        Self {
            id: job.delivery_id.clone(),
            epoch: job.lease_epoch,
        }
    }
}

/// How much due work one claim takes, endpoint by endpoint: the dispatcher decides each
/// endpoint's room; the store only finds that many due deliveries of each.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    /// Most deliveries in all.
    pub limit: u32,
    /// Room per endpoint this process knows; 0 takes none.
    pub rooms: HashMap<EndpointId, u32>,
    /// Room for every other endpoint.
    pub default_room: u32,
    /// Endpoints are visited in id order, starting after this one and wrapping around, so
    /// that when `limit` cuts a claim short the next one begins where it stopped.
    pub after: Option<EndpointId>,
    /// What counts as due: deliveries due at or before this time.
    pub now: DateTime<Utc>,
    /// Until when the claimed deliveries are leased.
    pub until: DateTime<Utc>,
}

impl Claim {
    /// The claim made at `now`, leasing what it takes until `until`.
    pub fn at(self, now: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self { now, until, ..self }
    }

    pub fn room(&self, endpoint: &EndpointId) -> u32 {
        self.rooms
            .get(endpoint)
            .copied()
            .unwrap_or(self.default_room)
    }

    /// The endpoints among `served` (one entry per delivery claimed) that got all the room
    /// they asked for: more of their work may be waiting in the store.
    pub fn filled<'a>(&self, served: impl Iterator<Item = &'a EndpointId>) -> Vec<EndpointId> {
        let mut got: HashMap<&EndpointId, u32> = HashMap::new();
        for id in served {
            *got.entry(id).or_default() += 1;
        }
        got.into_iter()
            .filter(|(id, n)| *n >= self.room(id))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// `ids` in the order this claim visits them.
    pub fn visit_order<'a>(&self, ids: &'a [EndpointId]) -> impl Iterator<Item = &'a EndpointId> {
        let start = self
            .after
            .as_ref()
            .map_or(0, |after| ids.partition_point(|id| id <= after));
        ids[start..].iter().chain(&ids[..start])
    }

    /// Of the endpoints a claim served, the one it visited last: where the next one starts.
    pub fn last_visited<'a>(
        &self,
        served: impl Iterator<Item = &'a EndpointId>,
    ) -> Option<EndpointId> {
        let wrapped = |id: &EndpointId| self.after.as_ref().is_some_and(|after| id <= after);
        served.max_by_key(|id| (wrapped(id), *id)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(n: u32) -> EndpointId {
        EndpointId::from_trusted(format!("ep_{n:026}"))
    }

    fn job(n: u32) -> Job {
        let mut job = Job::sample(None, 0);
        job.endpoint_id = ep(n);
        job
    }

    #[test]
    fn a_publish_leases_up_to_its_bound_per_endpoint_and_none_of_full_ones() {
        let lease = Lease {
            until: Utc::now() + chrono::Duration::seconds(30),
            except: Arc::new([ep(2)].into_iter().collect()),
            per_endpoint: 2,
        };
        let mut plan = lease.planner();
        let taken: Vec<bool> = [1, 2, 1, 3, 1, 2]
            .into_iter()
            .map(|n| plan.take(&job(n)))
            .collect();
        assert_eq!(taken, [true, false, true, true, false, false]);
        assert!(!Lease::none().planner().take(&job(1)));
        let mut polled = job(4);
        polled.polled = true;
        assert!(
            !plan.take(&polled),
            "a polling endpoint's delivery was leased"
        );
    }

    #[test]
    fn claims_visit_endpoints_after_the_cursor_then_wrap() {
        let ids: Vec<EndpointId> = (1..=5).map(ep).collect();
        let claim = Claim {
            after: Some(ep(3)),
            ..Default::default()
        };
        let order: Vec<&EndpointId> = claim.visit_order(&ids).collect();
        assert_eq!(order, [&ep(4), &ep(5), &ep(1), &ep(2), &ep(3)]);
        assert_eq!(claim.last_visited([ep(5), ep(1)].iter()), Some(ep(1)));
        assert_eq!(claim.last_visited([ep(4), ep(5)].iter()), Some(ep(5)));
        let first = Claim::default();
        assert_eq!(first.last_visited([ep(2), ep(4)].iter()), Some(ep(4)));
    }

    #[test]
    fn a_claim_names_the_endpoints_that_got_all_their_room() {
        let claim = Claim {
            rooms: [(ep(1), 2), (ep(2), 3)].into_iter().collect(),
            default_room: 1,
            ..Default::default()
        };
        let served = [ep(1), ep(2), ep(1), ep(3), ep(2)];
        let mut filled = claim.filled(served.iter());
        filled.sort();
        assert_eq!(filled, [ep(1), ep(3)]);
    }
}
