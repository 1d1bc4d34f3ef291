//! Per-room ordering for one endpoint, as a pure state machine.
//!
//! Every rule of which delivery of a room may go next lives here; the queue only reports
//! what happened and does what the answer says. A room (an ordering key) is in one of three
//! states:
//!
//! - *ready*: its head may be sent now;
//! - *busy*: one of its deliveries is in flight, waiting to retry, or held back because the
//!   store could not say whether an earlier delivery is still pending;
//! - *idle*: nothing of it is in memory.
//!
//! A room never has two deliveries out at once, and its deliveries leave in `seq` order (the
//! store's insertion order, the same column both backends' claims order by). It fails
//! closed: when in doubt, a room waits rather than letting a later event overtake.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::domain::Job;

/// The rooms of one endpoint and the ordered jobs memory holds for them.
#[derive(Default)]
pub(super) struct Rooms {
    /// Waiting jobs, one line per key, each in `seq` order.
    lines: HashMap<String, VecDeque<Job>>,
    /// Keys whose head may be sent now, in the order they became ready.
    ready: VecDeque<String>,
    /// Keys with a job out: in flight, waiting to retry, or held.
    busy: HashSet<String>,
}

/// What became of a room's job that was out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settled {
    /// Delivered.
    Succeeded,
    /// Given up on: the schedule is exhausted, the endpoint is gone or disabled, or the
    /// delivery expired.
    Failed,
    /// The store said an earlier delivery of the room is still pending outside memory:
    /// everything memory holds of the room goes back to the store.
    Overtaking,
}

/// What the queue must do after [`Rooms::settle`].
#[derive(Debug)]
pub(super) enum Next {
    /// The room's next job, if memory holds one, may go now.
    Continue,
    /// Memory holds nothing more of the room; its next delivery, if any, is in the store.
    Drained,
    /// These jobs must go back to the store, to be claimed again in order.
    HandBack(Vec<Job>),
}

/// What a fresh ordered job does, given the store's answer to whether an earlier delivery of
/// its room is still pending outside memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Nothing earlier: send it.
    Send,
    /// Something earlier: the room goes back to the store (settle with
    /// [`Settled::Overtaking`]).
    Overtaking,
    /// The store could not tell: hold the room and ask again, never send on a guess.
    Hold,
}

pub(super) fn check<E>(earlier_pending: Result<bool, E>) -> Check {
    match earlier_pending {
        Ok(false) => Check::Send,
        Ok(true) => Check::Overtaking,
        Err(_) => Check::Hold,
    }
}

impl Rooms {
    /// Keys that could be taken now.
    pub(super) fn ready_count(&self) -> usize {
        self.ready.len()
    }

    /// A job arrives (fresh, claimed, or resent): it joins its room's line in `seq` order.
    pub(super) fn add(&mut self, key: &str, job: Job) {
        let line = self.lines.entry(key.to_owned()).or_default();
        let at = line
            .iter()
            .position(|j| j.seq > job.seq)
            .unwrap_or(line.len());
        line.insert(at, job);
        self.mark_ready(key);
    }

    /// The next job that may be sent: the head of the first ready room, which becomes busy.
    pub(super) fn take(&mut self) -> Option<Job> {
        while let Some(key) = self.ready.pop_front() {
            let Some(line) = self.lines.get_mut(&key) else {
                continue;
            };
            let job = line.pop_front();
            if line.is_empty() {
                self.lines.remove(&key);
            }
            if let Some(job) = job {
                self.busy.insert(key);
                return Some(job);
            }
        }
        None
    }

    /// The room's job that was out comes back to be sent again (its retry is due, or the
    /// store can be asked again): it goes to the head of its line, ahead of anything later.
    pub(super) fn back_at_head(&mut self, key: &str, job: Job) {
        self.busy.remove(key);
        self.lines
            .entry(key.to_owned())
            .or_default()
            .push_front(job);
        self.mark_ready(key);
    }

    /// The room's job that was out is done with.
    pub(super) fn settle(&mut self, key: &str, how: Settled) -> Next {
        self.busy.remove(key);
        if how == Settled::Overtaking {
            self.ready.retain(|k| k != key);
            let line = self.lines.remove(key).unwrap_or_default();
            return Next::HandBack(line.into_iter().collect());
        }
        if !self.lines.contains_key(key) {
            return Next::Drained;
        }
        self.mark_ready(key);
        Next::Continue
    }

    fn mark_ready(&mut self, key: &str) {
        if !self.busy.contains(key) && !self.ready.iter().any(|k| k == key) {
            self.ready.push_back(key.to_owned());
        }
    }
}

#[cfg(test)]
#[path = "ordering_tests.rs"]
mod tests;
