//! Who holds how much of the dispatch window: the deliveries in memory, counted per endpoint.
//!
//! Isolation rests on this accounting. An endpoint may hold at most its *share*: what it can
//! use (`max_in_flight` requests in flight, as many outcomes being written behind them, and a
//! small read-ahead), and never more than an even split of the window among the endpoints
//! holding work. Whatever an endpoint has beyond its share waits in the store, where it costs
//! no memory and blocks nobody; a hanging endpoint therefore fills its own share and nothing
//! else, and every other endpoint keeps room to take its due work into memory.
//!
//! The fast path (a publish leasing its deliveries to this process) skips the endpoints that
//! are [`full`](Holdings::full); claims ask the store for each endpoint's remaining room
//! ([`Holdings::claim`]). An endpoint that filled up and then drained to half its share asks
//! for a claim ([`Released::wake`]), so the backlog it left in the store comes back at once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::domain::{DeliveryId, EndpointId};
use crate::store::{Claim, HeldLease};

/// Deliveries an endpoint may hold beyond what it has in flight and is writing back, so
/// that its workers find the next ones in memory while a claim brings more. An even split
/// of the window caps it when many endpoints are busy.
pub const READ_AHEAD: usize = 256;
/// The smallest share, however many endpoints split the window.
const MIN_SHARE: usize = 4;

/// What one endpoint holds.
#[derive(Debug, Default)]
struct Held {
    count: usize,
    /// The endpoint's `max_in_flight`, once a worker has read its settings.
    max_in_flight: Option<usize>,
    /// Set when the endpoint reached its share: work may be waiting for it in the store.
    filled: bool,
}

/// The window's accounting; one per dispatcher, behind a mutex.
#[derive(Debug)]
pub struct Holdings {
    window: usize,
    /// Each delivery held, with its endpoint and the epoch of the lease it is held under.
    ids: HashMap<DeliveryId, (EndpointId, i64)>,
    endpoints: HashMap<EndpointId, Held>,
    /// Endpoints holding their full share, shared with publishes as a snapshot.
    full: Arc<HashSet<EndpointId>>,
    /// Endpoints holding at least one delivery.
    active: usize,
}

/// What releasing a delivery changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Released {
    /// The endpoint drained after filling up: claim its backlog from the store.
    pub wake: bool,
}

impl Holdings {
    pub fn new(window: usize) -> Self {
        Self {
            window,
            ids: HashMap::new(),
            endpoints: HashMap::new(),
            full: Arc::default(),
            active: 0,
        }
    }

    /// The leases held, to renew.
    pub fn leases(&self) -> Vec<HeldLease> {
        self.ids
            .iter()
            .map(|(id, (_, epoch))| HeldLease {
                id: id.clone(),
                epoch: *epoch,
            })
            .collect()
    }

    /// Whether `lease` is the one memory holds its delivery under: a copy of a job from an
    /// older lease (claimed again since) or from a lease found lost is not.
    pub fn holds(&self, lease: &HeldLease) -> bool {
        self.ids
            .get(&lease.id)
            .is_some_and(|(_, e)| *e == lease.epoch)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Room left in the whole window.
    pub fn room(&self) -> usize {
        self.window.saturating_sub(self.ids.len())
    }

    /// The endpoints whose share is full: a publish leaves their deliveries in the store.
    pub fn full(&self) -> Arc<HashSet<EndpointId>> {
        Arc::clone(&self.full)
    }

    /// The most an endpoint may hold now.
    fn share(&self, held: &Held) -> usize {
        let usable = held
            .max_in_flight
            .map_or(READ_AHEAD, |m| 2 * m + READ_AHEAD);
        let split = self.window / (self.active + usize::from(held.count == 0)).max(1);
        usable.min(split.max(MIN_SHARE))
    }

    /// Takes a delivery into memory; `false` when it is already held under this lease or a
    /// newer one. Held under an older lease (claimed again after that one lapsed), it is
    /// held under the new one from now on, and counts once.
    pub fn take(&mut self, lease: &HeldLease, endpoint: &EndpointId) -> bool {
        if let Some((_, epoch)) = self.ids.get_mut(&lease.id) {
            let newer = lease.epoch > *epoch;
            *epoch = (*epoch).max(lease.epoch);
            return newer;
        }
        self.ids
            .insert(lease.id.clone(), (endpoint.clone(), lease.epoch));
        let held = self.endpoints.entry(endpoint.clone()).or_default();
        held.count += 1;
        if held.count == 1 {
            self.active += 1;
        }
        self.refresh(endpoint);
        true
    }

    /// A delivery left memory (its outcome is written, or it went back to the store, or its
    /// lease was lost); nothing when memory holds it under another lease.
    pub fn release(&mut self, lease: &HeldLease) -> Released {
        if !self.holds(lease) {
            return Released::default();
        }
        let Some((endpoint, _)) = self.ids.remove(&lease.id) else {
            return Released::default();
        };
        let Some(held) = self.endpoints.get_mut(&endpoint) else {
            return Released::default();
        };
        held.count = held.count.saturating_sub(1);
        if held.count == 0 {
            self.active = self.active.saturating_sub(1);
        }
        let out = self.refresh(&endpoint);
        // An endpoint holding nothing is forgotten (its drain woke the poller on the way
        // down); its settings are read again with its next delivery.
        if self.endpoints.get(&endpoint).is_some_and(|h| h.count == 0) {
            self.endpoints.remove(&endpoint);
        }
        out
    }

    /// A claim brought the endpoint all the room it asked for, so more may wait in the
    /// store: its drain to half its share asks for the next claim, as if it had filled up
    /// (which deliveries finishing while the claim ran may have kept it from doing).
    pub fn more_waiting(&mut self, endpoint: &EndpointId) -> Released {
        let Some(held) = self.endpoints.get_mut(endpoint) else {
            return Released::default();
        };
        held.filled = true;
        self.refresh(endpoint)
    }

    /// Records the `max_in_flight` of an endpoint holding work, read from its settings; a
    /// larger share may have drained it.
    pub fn set_max_in_flight(&mut self, endpoint: &EndpointId, max_in_flight: u32) -> Released {
        let Some(held) = self.endpoints.get_mut(endpoint) else {
            return Released::default();
        };
        held.max_in_flight = Some(max_in_flight.max(1) as usize);
        self.refresh(endpoint)
    }

    /// The most deliveries of one endpoint a publish may lease: the share of an endpoint
    /// holding nothing yet.
    pub fn fresh_share(&self) -> usize {
        self.share(&Held::default())
    }

    /// Re-derives whether the endpoint is full, and whether it just drained.
    fn refresh(&mut self, endpoint: &EndpointId) -> Released {
        let Some(held) = self.endpoints.get(endpoint) else {
            return Released::default();
        };
        let share = self.share(held);
        let (count, filled) = (held.count, held.filled);
        let is_full = count >= share;
        if is_full != self.full.contains(endpoint) {
            let full = Arc::make_mut(&mut self.full);
            if is_full {
                full.insert(endpoint.clone());
            } else {
                full.remove(endpoint);
            }
        }
        let held = self.endpoints.get_mut(endpoint).expect("read above");
        if is_full {
            held.filled = true;
            return Released::default();
        }
        let drained = filled && count <= share / 2;
        if drained {
            held.filled = false;
        }
        Released { wake: drained }
    }

    /// The claim that fills every endpoint up to its share, and the window up to `limit`
    /// (its times are set where it is made, with [`Claim::at`]).
    pub fn claim(&self, limit: usize, after: Option<EndpointId>) -> Claim {
        let rooms = self
            .endpoints
            .iter()
            .map(|(id, held)| {
                let room = self.share(held).saturating_sub(held.count);
                (id.clone(), room as u32)
            })
            .collect();
        Claim {
            limit: limit.min(self.room()) as u32,
            rooms,
            default_room: self.fresh_share() as u32,
            after,
            ..Claim::default()
        }
    }
}

#[cfg(test)]
#[path = "share_tests.rs"]
mod tests;
