//! What one endpoint's queue holds: jobs without an ordering key in arrival order, and
//! ordered jobs in one line per key, where a key has at most one job in flight or waiting to
//! retry. Pure bookkeeping; `queue` runs the workers over it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::domain::Endpoint;
use crate::store::Job;

#[derive(Default)]
pub(super) struct State {
    /// Jobs without an ordering key, in arrival order.
    pub(super) jobs: VecDeque<Job>,
    /// Ordered jobs, one line per key, each line in delivery-id (publish) order.
    pub(super) rooms: HashMap<String, VecDeque<Job>>,
    /// Keys whose head may be sent now.
    pub(super) ready: VecDeque<String>,
    /// Keys with a job in flight or waiting to retry.
    pub(super) busy: HashSet<String>,
    pub(super) workers: usize,
    /// Outcomes being written behind workers that moved on; at most `max_in_flight`, so
    /// that what a process has sent but not yet recorded stays bounded.
    pub(super) writing: usize,
    /// The endpoint's settings and when they were read; `None` until a worker reads them.
    pub(super) endpoint: Option<(Arc<Endpoint>, std::time::Instant)>,
    /// The token bucket of `rate_limit_per_s`, with the rate it was built for.
    pub(super) limiter: Option<(u32, Arc<Limiter>)>,
}

pub(super) type Limiter = governor::DefaultDirectRateLimiter;

impl State {
    pub(super) fn runnable(&self) -> usize {
        self.jobs.len() + self.ready.len()
    }

    pub(super) fn take(&mut self) -> Option<Job> {
        if let Some(key) = self.ready.pop_front() {
            let line = self.rooms.get_mut(&key)?;
            let job = line.pop_front();
            if line.is_empty() {
                self.rooms.remove(&key);
            }
            self.busy.insert(key);
            return job;
        }
        self.jobs.pop_front()
    }

    pub(super) fn add(&mut self, job: Job, front: bool) {
        let Some(key) = job.ordering_key.clone() else {
            self.jobs.push_back(job);
            return;
        };
        let line = self.rooms.entry(key.clone()).or_default();
        if front {
            line.push_front(job);
        } else {
            let at = line
                .iter()
                .position(|j| j.seq > job.seq)
                .unwrap_or(line.len());
            line.insert(at, job);
        }
        if !self.busy.contains(&key) && !self.ready.contains(&key) {
            self.ready.push_back(key);
        }
    }

    /// The key's job is settled: its next job, if any, may go. Answers whether memory holds
    /// no further job of the key.
    pub(super) fn settle(&mut self, key: &str) -> bool {
        self.busy.remove(key);
        if !self.rooms.contains_key(key) {
            return true;
        }
        if !self.ready.iter().any(|k| k == key) {
            self.ready.push_back(key.to_owned());
        }
        false
    }
}
