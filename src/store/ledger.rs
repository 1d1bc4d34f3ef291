//! Ledgers: "did customer X get everything for room Y?" answered from the log.
//!
//! A ledger sums up one room's or one bot's events (how many, the first and the last, the
//! room's last sequence) and, per endpoint, what became of their deliveries. The queries are
//! written once here for both backends, over the indexes the lists already use: a room's
//! events through `events_sequence` (a room is the key events are numbered by), a bot's
//! through the label table. Turning the rows into the answer is plain logic, tested here.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::filter::Dialect;
use crate::domain::{AppId, DeliveryStatus, Event};

/// Whose ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The events numbered in this room: their `ordering_key`, else their `room_id` label.
    Room(String),
    /// The events labelled with this `bot_id`.
    Bot(String),
}

/// The events of a subject (`events e`) and the parameters: the app, then the subject.
fn picked(dialect: Dialect, subject: &Subject) -> &'static str {
    match (dialect, subject) {
        (Dialect::Sqlite, Subject::Room(_)) => {
            " FROM events e WHERE e.app_id = ?1 AND e.sequence_key = ?2 AND e.sequence > 0"
        }
        (Dialect::Postgres, Subject::Room(_)) => {
            " FROM events e WHERE e.app_id = $1 AND e.sequence_key = $2 AND e.sequence > 0"
        }
        (Dialect::Sqlite, Subject::Bot(_)) => {
            " FROM event_labels l CROSS JOIN events e \
             WHERE l.app = ?1 AND l.name = 'bot_id' AND l.value = ?2 AND e.id = l.event"
        }
        (Dialect::Postgres, Subject::Bot(_)) => {
            " FROM event_labels l CROSS JOIN events e \
             WHERE l.app = $1 AND l.name = 'bot_id' AND l.value = $2 AND e.id = l.event"
        }
    }
}

/// The two queries of a ledger and their parameters: the events' count, first and last id
/// and last sequence; and the deliveries counted by endpoint and status.
pub fn queries(dialect: Dialect, app: &AppId, subject: &Subject) -> (String, String, [String; 2]) {
    let from = picked(dialect, subject);
    let summary = format!("SELECT count(*), min(e.id), max(e.id), max(e.sequence){from}");
    let counts = format!(
        "SELECT d.endpoint_id, d.status, count(*){} \
         GROUP BY d.endpoint_id, d.status ORDER BY d.endpoint_id",
        from.replacen(
            " WHERE ",
            " CROSS JOIN deliveries d WHERE d.event_id = e.id AND ",
            1
        )
    );
    let value = match subject {
        Subject::Room(v) | Subject::Bot(v) => v.clone(),
    };
    (summary, counts, [app.as_str().to_owned(), value])
}

/// The rooms whose last event is the newest, `limit` of them.
pub fn recent_rooms(dialect: Dialect, limit: u32) -> String {
    let p = match dialect {
        Dialect::Sqlite => "?1",
        Dialect::Postgres => "$1",
    };
    format!("SELECT key FROM sequences WHERE app = {p} ORDER BY last_at DESC, key LIMIT {limit}")
}

/// What the summary query found: the count, the first and last event ids, the last sequence.
pub type Summary = (i64, Option<String>, Option<String>, Option<i64>);

/// One endpoint's deliveries of the subject's events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct EndpointTally {
    pub endpoint: String,
    pub delivered: u64,
    pub pending: u64,
    pub failed: u64,
    pub expired: u64,
    pub cancelled: u64,
    /// Nothing of the subject's is still pending for this endpoint.
    pub complete: bool,
}

/// A room's or a bot's ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ledger {
    pub events: u64,
    pub first_event: Option<Event>,
    pub last_event: Option<Event>,
    /// The room's last sequence (a bot's events may lie in several rooms: their highest).
    pub last_sequence: Option<i64>,
    pub endpoints: Vec<EndpointTally>,
    /// Nothing of the subject's is pending for any endpoint.
    pub complete: bool,
}

/// Sums `(endpoint, status, count)` rows up per endpoint; a status that does not parse is
/// counted nowhere rather than guessed at.
pub fn tally(rows: Vec<(String, String, i64)>) -> Vec<EndpointTally> {
    let mut by: BTreeMap<String, EndpointTally> = BTreeMap::new();
    for (endpoint, status, n) in rows {
        let t = by.entry(endpoint.clone()).or_insert_with(|| EndpointTally {
            endpoint,
            ..EndpointTally::default()
        });
        let n = n.max(0) as u64;
        match DeliveryStatus::parse(&status) {
            Some(DeliveryStatus::Succeeded) => t.delivered += n,
            Some(DeliveryStatus::Pending) => t.pending += n,
            Some(DeliveryStatus::Failed) => t.failed += n,
            Some(DeliveryStatus::Cancelled) => t.cancelled += n,
            Some(DeliveryStatus::Expired) => t.expired += n,
            None => {}
        }
    }
    by.into_values()
        .map(|mut t| {
            t.complete = t.pending == 0;
            t
        })
        .collect()
}

/// The ledger from its parts; `None` when the subject has no events.
pub fn assemble(
    summary: Summary,
    endpoints: Vec<EndpointTally>,
    first_event: Option<Event>,
    last_event: Option<Event>,
) -> Option<Ledger> {
    let (events, _, _, last_sequence) = summary;
    if events == 0 {
        return None;
    }
    let complete = endpoints.iter().all(|t| t.complete);
    Some(Ledger {
        events: events as u64,
        first_event,
        last_event,
        last_sequence,
        endpoints,
        complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_count_each_status_and_say_when_an_endpoint_is_complete() {
        let rows = vec![
            ("ep_b".into(), "succeeded".into(), 3),
            ("ep_a".into(), "succeeded".into(), 5),
            ("ep_a".into(), "pending".into(), 1),
            ("ep_a".into(), "failed".into(), 2),
            ("ep_b".into(), "expired".into(), 1),
            ("ep_b".into(), "nonsense".into(), 9),
        ];
        let t = tally(rows);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].endpoint, "ep_a");
        assert_eq!(
            (t[0].delivered, t[0].pending, t[0].failed, t[0].complete),
            (5, 1, 2, false)
        );
        assert_eq!((t[1].delivered, t[1].expired, t[1].complete), (3, 1, true));
        let ledger = assemble((9, None, None, Some(9)), t, None, None).expect("a ledger");
        assert!(!ledger.complete);
        assert!(assemble((0, None, None, None), vec![], None, None).is_none());
    }

    #[test]
    fn a_bot_is_found_through_its_label_and_a_room_through_its_numbers() {
        let app = AppId::new();
        let (summary, counts, params) = queries(Dialect::Postgres, &app, &Subject::Bot("b".into()));
        assert!(summary.contains("l.name = 'bot_id'"), "{summary}");
        assert!(
            counts.contains("d.event_id = e.id AND l.app = $1"),
            "{counts}"
        );
        assert_eq!(params[1], "b");
        let (summary, _, _) = queries(Dialect::Sqlite, &app, &Subject::Room("r".into()));
        assert!(summary.contains("e.sequence_key = ?2"), "{summary}");
    }
}
