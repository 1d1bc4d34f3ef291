//! The store suite: the `DeliveryQueue`, how dispatchers share work through the store. Claims, leases
//! and their expiry, renewal, per-room ordering, write-backs, resends and recoveries; two
//! store handles on one database stand for two processes.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use herald::domain::{Attempt, AttemptId, DeliveryStatus, ErrorKind, Trigger};
use herald::store::{self, AttemptOutcome, HeldLease, Job, Recovery, Resend};
use serde_json::json;

use crate::store::{app, endpoint, event, leased, open, unleased, up_to};

fn outcome(job: &Job, status: DeliveryStatus, code: u16) -> AttemptOutcome {
    AttemptOutcome {
        delivery_id: job.delivery_id.clone(),
        attempt: Some(Attempt {
            id: AttemptId::new(),
            number: job.attempt_count + 1,
            started_at: Utc::now(),
            duration_ms: 12,
            status_code: Some(code),
            error_kind: (code >= 300).then_some(ErrorKind::HttpStatus),
            response_body: format!("answered {code}"),
            request_headers: json!({"content-type": "application/json"}),
            trigger: job.trigger,
            lapsed_lease: false,
        }),
        status,
        next_attempt_at: None,
        disable_endpoint: None,
        lease_until: None,
        lease_epoch: job.lease_epoch,
    }
}

#[tokio::test]
async fn store_claims_lease_and_hand_over_expired_work() {
    let (dir, first) = open("store-leases").await;
    let second = store::open(&dir.1.url).await.expect("a second handle");
    let app = app(first.as_ref()).await;
    endpoint(first.as_ref(), &app, json!({})).await;
    let events = (0..40)
        .map(|_| event(&app, "participant.joined", &[]))
        .collect();
    first.publish(events, &unleased()).await.unwrap();

    // Two processes claiming at once get disjoint halves of the work.
    let now = Utc::now();
    let lease = now + Duration::seconds(30);
    let half = up_to(25).at(now, lease);
    let (a, b) = tokio::join!(first.claim_due(&half), second.claim_due(&half));
    let (a, b) = (a.unwrap(), b.unwrap());
    let ids_a: HashSet<_> = a.iter().map(|j| j.delivery_id.clone()).collect();
    let ids_b: HashSet<_> = b.iter().map(|j| j.delivery_id.clone()).collect();
    assert!(ids_a.is_disjoint(&ids_b));
    assert_eq!(ids_a.len() + ids_b.len(), 40);
    assert!(second
        .claim_due(&up_to(100).at(now, lease))
        .await
        .unwrap()
        .is_empty());

    // A renewed lease outlives the original; one not renewed (its process died) is taken
    // over once it ends.
    let renewed: Vec<_> = a.iter().map(HeldLease::of).collect();
    let later = lease + Duration::seconds(60);
    let lost = first.renew_leases(&renewed, later).await.unwrap();
    assert!(lost.is_empty(), "{lost:?}");
    // Renewing what another process holds does nothing.
    let theirs: Vec<_> = b.iter().map(HeldLease::of).collect();
    assert!(first.renew_leases(&theirs, later).await.unwrap().is_empty());
    let after = lease + Duration::seconds(1);
    let taken = second
        .claim_due(&up_to(100).at(after, after + Duration::seconds(30)))
        .await
        .unwrap();
    let taken: HashSet<_> = taken.into_iter().map(|j| j.delivery_id).collect();
    assert_eq!(taken, ids_b);

    // Released work is due again at once; recorded work leaves the pool.
    let job = &a[0];
    first.release(&HeldLease::of(job)).await.unwrap();
    let back = second
        .claim_due(&up_to(100).at(Utc::now(), lease))
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].delivery_id, job.delivery_id);
    assert_eq!(back[0].event.data.as_str(), job.event.data.as_str());
    let done: Vec<_> = a
        .iter()
        .map(|j| outcome(j, DeliveryStatus::Succeeded, 200))
        .collect();
    // `back[0]` was claimed again, under a newer lease: `first`'s outcome for it is stale.
    let stale = first.record_attempts(done).await.unwrap();
    assert_eq!(stale, std::slice::from_ref(&job.delivery_id));
    assert_eq!(
        first.pending_count().await.unwrap(),
        40 - a.len() as u64 + 1
    );
}

#[tokio::test]
async fn store_fences_a_holder_whose_lease_was_taken_over() {
    let (dir, first) = open("store-fencing").await;
    let second = store::open(&dir.1.url).await.expect("a second handle");
    let app = app(first.as_ref()).await;
    endpoint(first.as_ref(), &app, json!({})).await;
    let e = event(&app, "participant.joined", &[]);
    first.publish(vec![e], &unleased()).await.unwrap();
    let now = Utc::now();
    let lease = now + Duration::seconds(30);
    let paused = first.claim_due(&up_to(10).at(now, lease)).await.unwrap();
    assert_eq!(paused.len(), 1);
    let id = paused[0].delivery_id.clone();

    // `first` stalls past its lease; `second` takes the delivery over and delivers it.
    let after = lease + Duration::seconds(1);
    let taken = second
        .claim_due(&up_to(10).at(after, after + Duration::seconds(30)))
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert!(taken[0].lease_epoch > paused[0].lease_epoch);
    let done = outcome(&taken[0], DeliveryStatus::Succeeded, 200);
    assert!(second.record_attempts(vec![done]).await.unwrap().is_empty());

    // `first` resumes: its renewal says the delivery is not its own any more (settled by its
    // new holder), and its outcome, a failure, changes nothing but the log.
    let later = after + Duration::seconds(60);
    let mine = [HeldLease::of(&paused[0])];
    let lost = first.renew_leases(&mine, later).await.unwrap();
    assert_eq!(lost, std::slice::from_ref(&id));
    let failed = outcome(&paused[0], DeliveryStatus::Failed, 500);
    let stale = first.record_attempts(vec![failed]).await.unwrap();
    assert_eq!(stale, std::slice::from_ref(&id));
    first.release(&mine[0]).await.unwrap();
    let (delivery, attempts) = first.get_delivery(&app.id, &id).await.unwrap().unwrap();
    assert_eq!(
        delivery.status,
        DeliveryStatus::Succeeded,
        "went back from succeeded"
    );
    let lapsed: Vec<(u16, bool)> = attempts
        .iter()
        .map(|a| (a.status_code.unwrap_or(0), a.lapsed_lease))
        .collect();
    assert_eq!(lapsed, [(200, false), (500, true)]);
}

#[tokio::test]
async fn store_tells_a_resumed_holder_which_leases_it_lost() {
    let (dir, first) = open("store-lost").await;
    let second = store::open(&dir.1.url).await.expect("a second handle");
    let app = app(first.as_ref()).await;
    endpoint(first.as_ref(), &app, json!({})).await;
    let events = (0..3).map(|_| event(&app, "room.started", &[])).collect();
    first.publish(events, &unleased()).await.unwrap();
    let now = Utc::now();
    let lease = now + Duration::seconds(30);
    let held = first.claim_due(&up_to(10).at(now, lease)).await.unwrap();
    assert_eq!(held.len(), 3);
    // One of the three is taken over, and retried by its new holder; the others are not.
    first.release(&HeldLease::of(&held[1])).await.unwrap();
    first.release(&HeldLease::of(&held[2])).await.unwrap();
    let taken = second.claim_due(&up_to(1).at(now, lease)).await.unwrap();
    assert_eq!(taken.len(), 1);
    let mut retry = outcome(&taken[0], DeliveryStatus::Pending, 503);
    retry.next_attempt_at = Some(now + Duration::seconds(5));
    assert!(second
        .record_attempts(vec![retry])
        .await
        .unwrap()
        .is_empty());

    let mine: Vec<HeldLease> = held.iter().map(HeldLease::of).collect();
    let lost = first.renew_leases(&mine, lease).await.unwrap();
    assert_eq!(lost, [taken[0].delivery_id.clone()]);
}

#[tokio::test]
async fn store_orders_a_room_across_processes_and_keeps_held_retries() {
    let (dir, first) = open("store-order").await;
    let second = store::open(&dir.1.url).await.expect("a second handle");
    let app = app(first.as_ref()).await;
    endpoint(first.as_ref(), &app, json!({"ordering": "per_room"})).await;
    for _ in 0..3 {
        let e = event(&app, "chat.message", &[("room_id", "r1")]);
        second.publish(vec![e], &unleased()).await.unwrap();
    }
    let lease = Utc::now() + Duration::seconds(30);
    let head = first
        .claim_due(&up_to(10).at(Utc::now(), lease))
        .await
        .unwrap();
    assert_eq!(head.len(), 1, "only the room's first delivery may go");
    assert!(second
        .claim_due(&up_to(10).at(Utc::now(), lease))
        .await
        .unwrap()
        .is_empty());

    // The head fails and is retried in place: still held, not claimable at its retry time.
    let mut retry = outcome(&head[0], DeliveryStatus::Pending, 503);
    retry.next_attempt_at = Some(Utc::now() + Duration::seconds(1));
    retry.lease_until = Some(lease);
    first.record_attempts(vec![retry]).await.unwrap();
    let at_retry = Utc::now() + Duration::seconds(2);
    assert!(second
        .claim_due(&up_to(10).at(at_retry, lease))
        .await
        .unwrap()
        .is_empty());

    let next = event(&app, "chat.message", &[("room_id", "r1")]);
    let out = second.publish(vec![next], &leased(lease)).await.unwrap();
    assert!(second.blocked(&out[0].jobs[0]).await.unwrap());
    assert!(!first.blocked(&head[0]).await.unwrap());

    let mut retried = head[0].clone();
    retried.attempt_count += 1;
    first
        .record_attempts(vec![outcome(&retried, DeliveryStatus::Succeeded, 200)])
        .await
        .unwrap();
    let second_in_line = second
        .claim_due(&up_to(10).at(Utc::now(), lease))
        .await
        .unwrap();
    assert_eq!(second_in_line.len(), 1);
    assert!(second_in_line[0].delivery_id > head[0].delivery_id);
    let (delivery, attempts) = first
        .get_delivery(&app.id, &head[0].delivery_id)
        .await
        .unwrap()
        .expect("delivery");
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    assert_eq!(delivery.attempt_count, 2);
    let codes: Vec<_> = attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, vec![Some(503), Some(200)]);
    assert_eq!(attempts[0].error_kind, Some(ErrorKind::HttpStatus));
}

#[tokio::test]
async fn store_resends_recovers_and_disables() {
    let (_dir, store) = open("store-recover").await;
    let app = app(store.as_ref()).await;
    let ep = endpoint(store.as_ref(), &app, json!({})).await;
    let e = event(&app, "participant.joined", &[]);
    store.publish(vec![e], &unleased()).await.unwrap();
    let lease = Utc::now() + Duration::seconds(30);
    let job = store
        .claim_due(&up_to(10).at(Utc::now(), lease))
        .await
        .unwrap()
        .remove(0);
    store
        .record_attempts(vec![outcome(&job, DeliveryStatus::Failed, 500)])
        .await
        .unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 0);

    let since = Utc::now() - Duration::minutes(5);
    assert_eq!(
        store
            .recover(&Recovery::failed(ep.id.clone(), since, Utc::now()))
            .await
            .unwrap(),
        1
    );
    let again = store
        .claim_due(&up_to(10).at(Utc::now(), lease))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].trigger, Trigger::Manual);

    let resent = store
        .resend(&Resend {
            app: app.id.clone(),
            delivery: job.delivery_id.clone(),
            lease_until: lease,
        })
        .await
        .unwrap()
        .expect("resent");
    assert_eq!(resent.trigger, Trigger::Manual);
    assert_eq!(resent.attempt_count, 1);

    let mut gone = outcome(&resent, DeliveryStatus::Failed, 410);
    gone.disable_endpoint = Some((ep.id.clone(), "the receiver answered 410 Gone".into()));
    store.record_attempts(vec![gone]).await.unwrap();
    let ep = store.get_endpoint(&ep.id).await.unwrap().expect("endpoint");
    assert!(!ep.enabled);
    assert_eq!(
        ep.disabled_reason.as_deref(),
        Some("the receiver answered 410 Gone")
    );
    let later = event(&app, "participant.joined", &[]);
    let out = store.publish(vec![later], &unleased()).await.unwrap();
    assert!(out[0].jobs.is_empty());
    assert!(store.delete_endpoint(&ep.id).await.unwrap());
}
