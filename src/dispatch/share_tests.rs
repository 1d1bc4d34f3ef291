use super::*;

fn ep(n: u32) -> EndpointId {
    EndpointId::from_trusted(format!("ep_{n:026}"))
}

fn lease() -> HeldLease {
    HeldLease {
        id: DeliveryId::new(),
        epoch: 0,
    }
}

fn fill(h: &mut Holdings, endpoint: &EndpointId, n: usize) -> Vec<HeldLease> {
    (0..n)
        .map(|_| {
            let lease = lease();
            assert!(h.take(&lease, endpoint));
            lease
        })
        .collect()
}

#[test]
fn an_endpoint_fills_its_share_and_no_more_of_the_window() {
    let mut h = Holdings::new(20_000);
    let (hanging, healthy) = (ep(1), ep(2));
    fill(&mut h, &hanging, 1);
    h.set_max_in_flight(&hanging, 50);
    fill(&mut h, &hanging, 2 * 50 + READ_AHEAD - 2);
    assert!(!h.full().contains(&hanging));
    fill(&mut h, &hanging, 1);
    assert!(h.full().contains(&hanging));
    let claim = h.claim(1000, None);
    assert_eq!(claim.room(&hanging), 0);
    assert_eq!(claim.room(&healthy), READ_AHEAD as u32);
    assert_eq!(claim.limit, 1000);
}

#[test]
fn many_endpoints_split_the_window_evenly() {
    let mut h = Holdings::new(1_000);
    for n in 0..100 {
        fill(&mut h, &ep(n), 5);
        h.set_max_in_flight(&ep(n), 50);
    }
    // 100 active endpoints: each may hold a tenth of the window.
    let claim = h.claim(1000, None);
    assert_eq!(claim.room(&ep(0)), 10 - 5);
    assert_eq!(claim.default_room, 9, "a newcomer makes 101");
    fill(&mut h, &ep(0), 5);
    assert!(h.full().contains(&ep(0)));
}

#[test]
fn a_drained_endpoint_asks_for_its_backlog_once() {
    let mut h = Holdings::new(20_000);
    let e = ep(1);
    let mut ids = fill(&mut h, &e, 1);
    h.set_max_in_flight(&e, 10);
    ids.extend(fill(&mut h, &e, 2 * 10 + READ_AHEAD - 1));
    assert!(h.full().contains(&e));
    let wakes: Vec<bool> = ids.iter().map(|id| h.release(id).wake).collect();
    assert_eq!(wakes.iter().filter(|w| **w).count(), 1);
    let first = wakes.iter().position(|w| *w).unwrap_or_default();
    assert_eq!(first, ids.len() - (2 * 10 + READ_AHEAD) / 2 - 1);
    assert!(!h.full().contains(&e));
    assert_eq!(h.len(), 0);
}

#[test]
fn a_claim_that_got_its_whole_room_asks_again_at_half_even_if_never_full() {
    let mut h = Holdings::new(20_000);
    let e = ep(1);
    let mut ids = fill(&mut h, &e, 1);
    h.set_max_in_flight(&e, 10);
    let share = 2 * 10 + READ_AHEAD;
    // Deliveries finished while the claim ran: it brought its room, the count fell short.
    ids.extend(fill(&mut h, &e, share - 10));
    assert!(!h.full().contains(&e));
    assert_eq!(h.more_waiting(&e), Released::default());
    let wakes = ids.iter().map(|id| h.release(id).wake);
    assert_eq!(
        wakes.filter(|w| *w).count(),
        1,
        "the drain to half asks once"
    );
    // An endpoint already at half when the claim answers asks at once.
    let ids = fill(&mut h, &e, 3);
    assert!(h.more_waiting(&e).wake);
    assert_eq!(
        h.more_waiting(&ep(9)),
        Released::default(),
        "unknown: nothing"
    );
    for id in &ids {
        h.release(id);
    }
    assert_eq!(h.len(), 0);
}

#[test]
fn holding_twice_and_releasing_unknown_ids_change_nothing() {
    let mut h = Holdings::new(100);
    let id = lease();
    assert!(h.take(&id, &ep(1)));
    assert!(!h.take(&id, &ep(1)));
    assert_eq!(h.len(), 1);
    assert_eq!(h.release(&lease()), Released::default());
    h.release(&id);
    assert_eq!((h.len(), h.room()), (0, 100));
}

#[test]
fn a_newer_lease_replaces_an_older_one_and_only_it_releases() {
    let mut h = Holdings::new(100);
    let old = lease();
    let new = HeldLease {
        epoch: 1,
        ..old.clone()
    };
    assert!(h.take(&old, &ep(1)));
    assert!(h.take(&new, &ep(1)), "a claim after a lapse was refused");
    assert!(!h.take(&old, &ep(1)), "an older lease came back");
    assert_eq!(h.len(), 1);
    assert!(h.holds(&new) && !h.holds(&old));
    h.release(&old);
    assert_eq!(h.len(), 1, "the old copy's release let go of the new lease");
    h.release(&new);
    assert_eq!(h.len(), 0);
}
