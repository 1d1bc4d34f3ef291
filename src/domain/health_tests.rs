//! The breaker's transitions, one table row each.

use super::*;

fn policy() -> BreakerPolicy {
    BreakerPolicy {
        failures: 3,
        cooldown: Duration::from_secs(10),
        cooldown_max: Duration::from_secs(35),
        disable_after: Some(Duration::from_secs(3600)),
    }
}

fn at(s: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_000_000 + s)
}

fn fail(h: &Health, s: i64) -> Health {
    h.after(Attempted::Failed("503"), at(s), &policy(), 0.0)
}

#[test]
fn failures_below_the_threshold_keep_it_closed_and_count() {
    let h = fail(&fail(&Health::default(), 0), 1);
    assert_eq!((h.state, h.failures), (BreakerState::Closed, 2));
    assert_eq!(h.failing_since, Some(at(0)));
    assert_eq!(h.gate(at(1)), Gate::Send);
    assert_eq!(h.paused_until(), None);
}

#[test]
fn the_threshold_opens_it_and_failed_probes_double_the_cool_down_up_to_the_cap() {
    let open = fail(&fail(&fail(&Health::default(), 0), 1), 2);
    assert!(open.opened_from(&fail(&fail(&Health::default(), 0), 1)));
    assert_eq!(open.gate(at(5)), Gate::Wait(at(12)));
    assert_eq!(open.paused_until(), Some(at(12)));
    assert_eq!(open.gate(at(12)), Gate::Probe);
    let probing = open.probing(at(12), at(20));
    assert_eq!(probing.state, BreakerState::HalfOpen);
    assert_eq!(probing.gate(at(13)), Gate::Wait(at(20)));
    // Another process asking at the same moment finds the probe taken.
    assert_eq!(probing.probing(at(13), at(21)), probing);
    let reopened = fail(&probing, 14);
    assert_eq!(
        (reopened.state, reopened.retry_at),
        (BreakerState::Open, Some(at(34)))
    );
    assert!(!reopened.opened_from(&probing));
    let capped = fail(&fail(&reopened.probing(at(34), at(40)), 35), 80);
    assert_eq!(capped.retry_at, Some(at(115)), "35 s at most");
}

#[test]
fn a_success_closes_it_and_ends_the_failing_run() {
    let open = fail(&fail(&fail(&Health::default(), 0), 1), 2);
    let closed = open.after(Attempted::Succeeded, at(20), &policy(), 0.0);
    assert_eq!(closed, Health::default());
    assert!(
        !closed.worth_recording(false),
        "a success of a healthy endpoint writes nothing"
    );
    assert!(
        open.worth_recording(false),
        "a success closes an open breaker"
    );
    assert!(
        !open.worth_recording(true),
        "a late failure while open says nothing new"
    );
    assert!(
        open.probing(at(12), at(20)).worth_recording(true),
        "a probe's failure counts"
    );
    assert!(closed.worth_recording(true));
}

#[test]
fn a_probe_whose_sender_vanished_may_be_taken_again() {
    let open = fail(&fail(&fail(&Health::default(), 0), 1), 2);
    let probing = open.probing(at(12), at(20));
    assert_eq!(probing.gate(at(21)), Gate::Probe);
}

#[test]
fn overdue_after_failing_continuously_for_the_period() {
    let h = fail(&Health::default(), 0);
    assert!(!h.overdue(at(3599), policy().disable_after));
    assert!(h.overdue(at(3600), policy().disable_after));
    assert!(!h.overdue(at(99_999), None));
    assert!(!Health::default().overdue(at(99_999), policy().disable_after));
}

#[test]
fn a_zero_threshold_never_opens() {
    let p = BreakerPolicy {
        failures: 0,
        ..policy()
    };
    let h = (0..50).fold(Health::default(), |h, s| {
        h.after(Attempted::Failed("x"), at(s), &p, 0.0)
    });
    assert_eq!((h.state, h.failures), (BreakerState::Closed, 50));
}

#[test]
fn the_spread_stretches_a_cool_down_by_a_fifth_at_most() {
    let opened = |spread: f64| {
        (0..3).fold(Health::default(), |h, s| {
            h.after(Attempted::Failed("503"), at(s), &policy(), spread)
        })
    };
    // Opened at 2 s with a 10 s cool-down: the probe may go from 12 s to 14 s.
    assert_eq!(opened(0.0).retry_at, Some(at(12)));
    assert_eq!(opened(0.5).retry_at, Some(at(13)));
    assert_eq!(opened(1.0).retry_at, Some(at(14)));
    assert_eq!(opened(7.0).retry_at, Some(at(14)), "clamped");
    // Past the cap too: synchronized breakers at the cap stay spread.
    let capped = opened(0.0);
    let capped = capped
        .probing(at(12), at(13))
        .after(Attempted::Failed("503"), at(13), &policy(), 1.0)
        .probing(at(40), at(41))
        .after(Attempted::Failed("503"), at(40), &policy(), 1.0);
    assert_eq!(
        capped.retry_at,
        Some(at(82)),
        "35 s capped, then stretched to 42 s"
    );
}
