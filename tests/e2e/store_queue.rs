//! The store suite: the `DeliveryQueue`, how dispatchers share work through the store. Claims, leases
//! and their expiry, renewal, per-room ordering, write-backs, resends and recoveries; two
//! store handles on one database stand for two processes.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use herald::domain::{Attempt, AttemptId, DeliveryStatus, ErrorKind, Trigger};
use herald::store::{self, AttemptOutcome, Job, Recovery, Resend};
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
        }),
        status,
        next_attempt_at: None,
        disable_endpoint: None,
        lease_until: None,
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
    let renewed: Vec<_> = a.iter().map(|j| j.delivery_id.clone()).collect();
    let later = lease + Duration::seconds(60);
    assert_eq!(
        first.renew_leases(&renewed, later).await.unwrap(),
        renewed.len() as u64
    );
    // Renewing what another process holds does nothing.
    let theirs: Vec<_> = b.iter().map(|j| j.delivery_id.clone()).collect();
    assert_eq!(first.renew_leases(&theirs, later).await.unwrap(), 0);
    let after = lease + Duration::seconds(1);
    let taken = second
        .claim_due(&up_to(100).at(after, after + Duration::seconds(30)))
        .await
        .unwrap();
    let taken: HashSet<_> = taken.into_iter().map(|j| j.delivery_id).collect();
    assert_eq!(taken, ids_b);

    // Released work is due again at once; recorded work leaves the pool.
    let job = &a[0];
    first.release(&job.delivery_id).await.unwrap();
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
    first.record_attempts(done).await.unwrap();
    assert_eq!(first.pending_count().await.unwrap(), 40 - a.len() as u64);
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
