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
mod tests {
    use super::*;

    fn job(key: &str, seq: i64) -> Job {
        Job::sample(Some(key), seq)
    }

    fn taken(rooms: &mut Rooms) -> Option<(String, i64)> {
        rooms
            .take()
            .map(|j| (j.ordering_key.clone().unwrap_or_default(), j.seq))
    }

    fn seqs(next: Next) -> Vec<i64> {
        match next {
            Next::HandBack(jobs) => jobs.iter().map(|j| j.seq).collect(),
            other => panic!("expected a hand-back, got {other:?}"),
        }
    }

    #[test]
    fn a_room_sends_one_at_a_time_in_seq_order_whatever_the_arrival_order() {
        let mut rooms = Rooms::default();
        for seq in [3, 1, 2] {
            rooms.add("a", job("a", seq));
        }
        assert_eq!(taken(&mut rooms), Some(("a".into(), 1)));
        assert_eq!(taken(&mut rooms), None, "the room is busy");
        assert!(matches!(
            rooms.settle("a", Settled::Succeeded),
            Next::Continue
        ));
        assert_eq!(taken(&mut rooms), Some(("a".into(), 2)));
        assert!(matches!(rooms.settle("a", Settled::Failed), Next::Continue));
        assert_eq!(taken(&mut rooms), Some(("a".into(), 3)));
        assert!(matches!(
            rooms.settle("a", Settled::Succeeded),
            Next::Drained
        ));
        assert_eq!(taken(&mut rooms), None);
    }

    #[test]
    fn rooms_proceed_independently() {
        let mut rooms = Rooms::default();
        rooms.add("a", job("a", 1));
        rooms.add("a", job("a", 2));
        rooms.add("b", job("b", 3));
        assert_eq!(taken(&mut rooms), Some(("a".into(), 1)));
        assert_eq!(taken(&mut rooms), Some(("b".into(), 3)));
        assert_eq!(rooms.ready_count(), 0);
        assert!(matches!(
            rooms.settle("b", Settled::Succeeded),
            Next::Drained
        ));
        assert_eq!(taken(&mut rooms), None, "a is still busy");
    }

    /// Each event a room's job that is out can meet, and what the room does next.
    #[test]
    fn every_transition_of_a_busy_room() {
        struct Case {
            what: &'static str,
            later: bool,
            how: Option<Settled>,
            next: &'static str,
            then: Option<i64>,
        }
        let cases = [
            Case {
                what: "success, nothing later",
                later: false,
                how: Some(Settled::Succeeded),
                next: "drained",
                then: None,
            },
            Case {
                what: "success, a later job",
                later: true,
                how: Some(Settled::Succeeded),
                next: "continue",
                then: Some(2),
            },
            Case {
                what: "failure or expiry, a later job",
                later: true,
                how: Some(Settled::Failed),
                next: "continue",
                then: Some(2),
            },
            Case {
                what: "failure, nothing later",
                later: false,
                how: Some(Settled::Failed),
                next: "drained",
                then: None,
            },
            Case {
                what: "an earlier delivery pending in the store",
                later: true,
                how: Some(Settled::Overtaking),
                next: "hand back",
                then: None,
            },
            // A retry, or a store error while asking about earlier deliveries: the job stays
            // out (the room busy) until it comes back at the head.
            Case {
                what: "retry or store error, held",
                later: true,
                how: None,
                next: "held",
                then: None,
            },
        ];
        for case in cases {
            let mut rooms = Rooms::default();
            rooms.add("a", job("a", 1));
            if case.later {
                rooms.add("a", job("a", 2));
            }
            let out = rooms.take().expect("the head");
            let next = match case.how {
                Some(how) => rooms.settle("a", how),
                None => Next::Continue,
            };
            let got = match &next {
                Next::Drained => "drained",
                Next::Continue if case.how.is_none() => "held",
                Next::Continue => "continue",
                Next::HandBack(_) => "hand back",
            };
            assert_eq!(got, case.next, "{}", case.what);
            assert_eq!(taken(&mut rooms).map(|t| t.1), case.then, "{}", case.what);
            if case.how.is_none() {
                // Back at the head when due: it goes before the later job.
                rooms.back_at_head("a", out);
                assert_eq!(taken(&mut rooms).map(|t| t.1), Some(1), "{}", case.what);
                assert_eq!(taken(&mut rooms), None, "{}", case.what);
            }
        }
    }

    #[test]
    fn a_store_error_holds_the_room() {
        assert_eq!(check::<()>(Ok(false)), Check::Send);
        assert_eq!(check::<()>(Ok(true)), Check::Overtaking);
        assert_eq!(check(Err("connection reset")), Check::Hold);
        // Held: the room stays busy, nothing later goes, and the job returns at the head.
        let mut rooms = Rooms::default();
        rooms.add("a", job("a", 1));
        rooms.add("a", job("a", 2));
        let held = rooms.take().expect("the head");
        assert_eq!(taken(&mut rooms), None, "nothing overtakes a held room");
        rooms.back_at_head("a", held);
        assert_eq!(taken(&mut rooms).map(|t| t.1), Some(1));
    }

    #[test]
    fn overtaking_hands_back_the_whole_room_and_forgets_it() {
        let mut rooms = Rooms::default();
        for seq in [5, 6, 7] {
            rooms.add("a", job("a", seq));
        }
        rooms.add("b", job("b", 8));
        assert_eq!(taken(&mut rooms), Some(("a".into(), 5)));
        assert_eq!(seqs(rooms.settle("a", Settled::Overtaking)), vec![6, 7]);
        assert_eq!(taken(&mut rooms), Some(("b".into(), 8)));
        assert_eq!(taken(&mut rooms), None);
        // The room starts afresh when the store hands its head back.
        rooms.add("a", job("a", 4));
        assert_eq!(taken(&mut rooms), Some(("a".into(), 4)));
    }

    #[test]
    fn a_resent_earlier_delivery_goes_before_what_waits() {
        let mut rooms = Rooms::default();
        rooms.add("a", job("a", 10));
        rooms.add("a", job("a", 11));
        assert_eq!(taken(&mut rooms), Some(("a".into(), 10)));
        rooms.add("a", job("a", 3));
        assert_eq!(taken(&mut rooms), None, "not while 10 is out");
        assert!(matches!(
            rooms.settle("a", Settled::Succeeded),
            Next::Continue
        ));
        assert_eq!(taken(&mut rooms), Some(("a".into(), 3)));
    }
}
