//! What one endpoint's queue holds: jobs without an ordering key in arrival order, and
//! ordered jobs by room (see `ordering`). Pure bookkeeping; `queue` runs the workers over it.

use std::collections::VecDeque;
use std::sync::Arc;

use super::ordering::Rooms;
use crate::domain::Endpoint;
use crate::store::Job;

#[derive(Default)]
pub(super) struct State {
    /// Jobs without an ordering key, in arrival order.
    pub(super) jobs: VecDeque<Job>,
    /// Ordered jobs, by room.
    pub(super) rooms: Rooms,
    pub(super) workers: usize,
    /// Outcomes being written behind workers that moved on; at most `max_in_flight`, so
    /// that what a process has sent but not yet recorded stays bounded.
    pub(super) writing: usize,
    /// The endpoint's settings and when they were read; `None` until a worker reads them.
    pub(super) endpoint: Option<(Arc<Endpoint>, std::time::Instant)>,
    /// How many requests the endpoint's answers allow in flight now (see `window`).
    pub(super) window: super::window::Window,
    /// The token bucket of `rate_limit_per_s`, with the rate it was built for.
    pub(super) limiter: Option<(u32, Arc<Limiter>)>,
}

pub(super) type Limiter = governor::DefaultDirectRateLimiter;

impl State {
    pub(super) fn runnable(&self) -> usize {
        self.jobs.len() + self.rooms.ready_count()
    }

    pub(super) fn take(&mut self) -> Option<Job> {
        self.rooms.take().or_else(|| self.jobs.pop_front())
    }

    /// A job arrives; `back` says it is an ordered job of this queue's coming back to the
    /// head of its room (a retry come due).
    pub(super) fn add(&mut self, job: Job, back: bool) {
        match job.ordering_key.clone() {
            None => self.jobs.push_back(job),
            Some(key) if back => self.rooms.back_at_head(key.as_str(), job),
            Some(key) => self.rooms.add(key.as_str(), job),
        }
    }
}
