//! Polling endpoints: the consumer pulls its deliveries instead of being sent them.
//!
//! A cursor must mean the same on every node and after a restart, and a consumer must see each
//! item once, in order. A counter given out at publish would not do: on PostgreSQL two
//! transactions commit in any order, so a reader that passed number 11 could miss a number 10
//! committed after it. Instead a delivery is numbered when it is first served: a poll takes
//! the endpoint's lock, numbers every pending delivery that has no number yet after the highest
//! given, and serves the numbers after the cursor. A delivery committed late just gets a later
//! number. Passing a cursor acknowledges every item up to it: those deliveries succeed.
//!
//! The statements are written once, with `$n` parameters; SQLite reads them as `?n`.

use chrono::{DateTime, Utc};

use super::Job;
use crate::domain::EndpointId;

/// One poll of a polling endpoint.
#[derive(Debug, Clone)]
pub struct Poll {
    pub endpoint: EndpointId,
    /// The consumer's cursor: items up to it are acknowledged, and those after it are
    /// served. `None` starts after the last acknowledged item.
    pub after: Option<i64>,
    pub limit: u32,
    pub now: DateTime<Utc>,
}

/// What a poll serves: the position it served from, and the items after it, in order.
#[derive(Debug, Clone)]
pub struct Polled {
    pub after: i64,
    pub items: Vec<(i64, Job)>,
}

impl Polled {
    /// The cursor to pass next: the last item served, or where this poll started.
    pub fn next_cursor(&self) -> i64 {
        self.items.last().map_or(self.after, |(n, _)| *n)
    }
}

/// Acknowledges: `$1` endpoint, `$2` cursor, `$3` now.
pub const ACK: &str = "UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL, \
     updated_at = $3 WHERE endpoint_id = $1 AND poll_number <= $2 AND status = 'pending'";

/// Ends the endpoint's unserved deliveries whose time to live is over: a consumer that polls
/// late is not handed stale media state. `$1` endpoint, `$2` now.
pub const EXPIRE: &str = "UPDATE deliveries SET status = 'expired', next_attempt_at = NULL, \
     updated_at = $2 WHERE endpoint_id = $1 AND status = 'pending' AND poll_number IS NULL \
     AND expires_at <= $2";

/// Numbers the endpoint's pending, unnumbered deliveries after its highest number, in the
/// order of their events (a room's by its sequence): `$1` endpoint.
pub const NUMBER: &str = "WITH top AS (SELECT coalesce(max(poll_number), 0) AS m \
       FROM deliveries WHERE endpoint_id = $1 AND poll_number IS NOT NULL), \
     todo AS (SELECT d.id, row_number() OVER (ORDER BY e.created_at, \
       coalesce(e.sequence, 0), d.seq) AS n FROM deliveries d JOIN events e ON e.id = d.event_id \
       WHERE d.endpoint_id = $1 AND d.status = 'pending' AND d.poll_number IS NULL) \
     UPDATE deliveries SET poll_number = top.m + todo.n FROM top, todo \
     WHERE deliveries.id = todo.id";

/// The last acknowledged item, where a poll without a cursor starts: `$1` endpoint.
pub const ACKED: &str = "SELECT coalesce(max(poll_number), 0) FROM deliveries \
     WHERE endpoint_id = $1 AND poll_number IS NOT NULL AND status <> 'pending'";

/// The numbers of the items a poll serves, in order: `$1` endpoint, `$2` after, `$3` limit.
pub const SERVED: &str = "SELECT id, poll_number FROM deliveries \
     WHERE endpoint_id = $1 AND poll_number > $2 ORDER BY poll_number LIMIT $3";

/// A statement in SQLite's parameter spelling.
pub fn sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Puts the jobs (loaded by id, in any order) in the order of `served`, with their numbers;
/// a job that is not there any more (purged between the two reads) is left out.
pub fn in_order(served: Vec<(String, i64)>, jobs: Vec<Job>) -> Vec<(i64, Job)> {
    let mut by_id: std::collections::HashMap<String, Job> = jobs
        .into_iter()
        .map(|j| (j.delivery_id.as_str().to_owned(), j))
        .collect();
    served
        .into_iter()
        .filter_map(|(id, n)| by_id.remove(&id).map(|j| (n, j)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_in_served_order_and_the_cursor_follows_the_last() {
        let (a, b) = (Job::sample(None, 1), Job::sample(None, 2));
        let served = vec![
            (b.delivery_id.as_str().to_owned(), 7),
            ("dlv_gone".to_owned(), 8),
            (a.delivery_id.as_str().to_owned(), 9),
        ];
        let items = in_order(served, vec![a.clone(), b.clone()]);
        let got: Vec<_> = items.iter().map(|(n, j)| (*n, j.seq)).collect();
        assert_eq!(got, [(7, 2), (9, 1)]);
        let polled = Polled { after: 6, items };
        assert_eq!(polled.next_cursor(), 9);
        let empty = Polled {
            after: 6,
            items: Vec::new(),
        };
        assert_eq!(empty.next_cursor(), 6);
        assert!(!sqlite(NUMBER).contains('$'));
    }
}
