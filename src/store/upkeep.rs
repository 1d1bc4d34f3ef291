//! What the store is asked to do to stay small over a year: purge what retention let go.
//!
//! The periods are the operator's decision (`retention_events`, `retention_attempt_bodies`);
//! the dispatcher's side turns them into cut-off ids and batch sizes, and the store carries
//! out one small batch per call, so that no transaction holds the writer for long. The one
//! rule the store itself keeps, because only it can keep it atomically: an event with a
//! delivery still pending is never purged.

use chrono::{DateTime, Utc};

use crate::domain::{AttemptId, EventId};

/// One batch of purging: events minted before `events_before` go, with their deliveries and
/// attempts, and the response bodies of attempts made before `bodies_before` are blanked.
/// Each scan goes on after the cursor the previous batch answered, so a pass over the table
/// reads each old row once, however many are kept back for a pending delivery.
#[derive(Debug, Clone)]
pub struct Purge {
    pub events_before: EventId,
    pub events_after: Option<EventId>,
    pub bodies_before: AttemptId,
    pub bodies_after: Option<AttemptId>,
    /// Most events, and most attempt bodies, one batch touches.
    pub batch: u32,
}

/// Events (and attempt bodies) one batch removes: one batch holds the writer, and every
/// publish waiting on it, for about as long as writing a tenth as many events would. At
/// 50 a batch takes a few milliseconds, and with the pause between batches a pass keeps
/// up with several thousand events a second.
const BATCH: u32 = 50;

impl Purge {
    /// The first batch of a pass at `now`, keeping `events` of events and `bodies` of
    /// response bodies.
    pub fn pass(now: DateTime<Utc>, events: chrono::Duration, bodies: chrono::Duration) -> Self {
        Self {
            events_before: EventId::floor(now - events),
            events_after: None,
            bodies_before: AttemptId::floor(now - bodies),
            bodies_after: None,
            batch: BATCH,
        }
    }

    /// The next batch, after what `done` reached; `None` when the pass is over.
    pub fn next(mut self, done: &Purged) -> Option<Self> {
        let more = done.events_scanned >= self.batch || done.bodies_scanned >= self.batch;
        if done.events_scanned >= self.batch {
            self.events_after = done.events_cursor.clone();
        }
        if done.bodies_scanned >= self.batch {
            self.bodies_after = done.bodies_cursor.clone();
        }
        more.then_some(self)
    }
}

/// What one batch removed, and where its scans stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
    pub deliveries: u64,
    pub attempts: u64,
    pub bodies: u64,
    /// Old events looked at (purged or kept for a pending delivery), and the last one.
    pub events_scanned: u32,
    pub events_cursor: Option<EventId>,
    /// Attempts with a body looked at, and the last one.
    pub bodies_scanned: u32,
    pub bodies_cursor: Option<AttemptId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_goes_on_while_a_scan_filled_its_batch() {
        let now = Utc::now();
        let first = Purge::pass(now, chrono::Duration::days(30), chrono::Duration::days(7));
        assert!(first.events_before < EventId::floor(now - chrono::Duration::days(29)));
        assert!(first.bodies_before > AttemptId::floor(now - chrono::Duration::days(8)));
        let full = Purged {
            events_scanned: first.batch,
            events_cursor: Some(EventId::floor(now)),
            bodies_scanned: 3,
            ..Purged::default()
        };
        let second = first.clone().next(&full).expect("more to do");
        assert_eq!(second.events_after, Some(EventId::floor(now)));
        assert_eq!(second.bodies_after, None);
        assert!(second.next(&Purged::default()).is_none());
    }
}
