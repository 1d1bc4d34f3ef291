//! The room state machine, transition by transition.

use super::*;

fn job(key: &str, seq: i64) -> Job {
    Job::sample(Some(key), seq)
}

fn taken(rooms: &mut Rooms) -> Option<(String, i64)> {
    rooms.take().map(|j| {
        (
            j.ordering_key
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default(),
            j.seq,
        )
    })
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

/// One transition: what happened, whether a later job waits, how the job settled (`None`:
/// it stays out, for a retry or a store error), what the room does, which seq goes next.
type Case = (
    &'static str,
    bool,
    Option<Settled>,
    &'static str,
    Option<i64>,
);

/// Each event a room's job that is out can meet.
const CASES: [Case; 6] = [
    (
        "success, nothing later",
        false,
        Some(Settled::Succeeded),
        "drained",
        None,
    ),
    (
        "success, a later job",
        true,
        Some(Settled::Succeeded),
        "continue",
        Some(2),
    ),
    (
        "failure or expiry, a later job",
        true,
        Some(Settled::Failed),
        "continue",
        Some(2),
    ),
    (
        "failure, nothing later",
        false,
        Some(Settled::Failed),
        "drained",
        None,
    ),
    (
        "earlier pending in the store",
        true,
        Some(Settled::Overtaking),
        "hand back",
        None,
    ),
    ("retry or store error, held", true, None, "held", None),
];

/// What the room does next after each of [`CASES`].
#[test]
fn every_transition_of_a_busy_room() {
    for (what, later, how, want, then) in CASES {
        let mut rooms = Rooms::default();
        rooms.add("a", job("a", 1));
        if later {
            rooms.add("a", job("a", 2));
        }
        let out = rooms.take().expect("the head");
        let got = match how.map(|how| rooms.settle("a", how)) {
            None => "held",
            Some(Next::Drained) => "drained",
            Some(Next::Continue) => "continue",
            Some(Next::HandBack(_)) => "hand back",
        };
        assert_eq!(got, want, "{what}");
        assert_eq!(taken(&mut rooms).map(|t| t.1), then, "{what}");
        if how.is_none() {
            // Back at the head when due: it goes before the later job.
            rooms.back_at_head("a", out);
            assert_eq!(taken(&mut rooms).map(|t| t.1), Some(1), "{what}");
            assert_eq!(taken(&mut rooms), None, "{what}");
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
