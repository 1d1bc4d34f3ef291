//! The store suite: the `EventLog`. Publishing fans out, is idempotent and all or nothing;
//! publishes that arrive together share a group commit, where idempotency keys must hold
//! within a group and across groups, and a failing request must fail alone while its
//! neighbours are written.

use std::collections::HashSet;

use herald::domain::{DeliveryStatus, IdempotencyKey};
use herald::store::{DeliveryQuery, Page};
use serde_json::json;

use crate::store::{app, endpoint, event, open, page, unleased};

const PUBLISHES: usize = 40;

#[tokio::test]
async fn store_publishes_in_one_group_keep_their_keys_and_fail_alone() {
    let (_dir, store) = open("store-groups").await;
    let app = app(store.as_ref()).await;
    endpoint(store.as_ref(), &app, json!({})).await;
    endpoint(store.as_ref(), &app, json!({})).await;
    let key = |k: &str| Some(IdempotencyKey::from_trusted(k.into()));

    let mut earlier = event(&app, "participant.joined", &[]);
    earlier.idempotency_key = key("k-old");
    store
        .publish(vec![earlier.clone()], &unleased())
        .await
        .expect("publish the earlier event");

    // Every fourth publish reuses a key: "k-old" (already stored) or "k-new" (first seen
    // here, several times). One batch repeats an event id and must fail on its own: it is
    // sent in a second round, since a group holding it is written request by request.
    let broken = event(&app, "participant.left", &[]);
    let mut tasks = Vec::new();
    let mut second = Vec::new();
    for i in 0..PUBLISHES {
        let mut e = event(&app, "participant.joined", &[]);
        if i % 4 == 0 {
            e.idempotency_key = key(if i % 8 == 0 { "k-old" } else { "k-new" });
        }
        let events = if i == 13 {
            vec![e, broken.clone(), broken.clone()]
        } else {
            vec![e]
        };
        let store = store.clone();
        let task = async move {
            let key = events[0].idempotency_key.clone();
            (i, key, store.publish(events, &unleased()).await)
        };
        if i % 3 == 1 {
            second.push(task);
        } else {
            tasks.push(tokio::spawn(task));
        }
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("join"));
    }
    let second: Vec<_> = second.into_iter().map(tokio::spawn).collect();
    for t in second {
        results.push(t.await.expect("join"));
    }

    let (mut new_ids, mut created) = (HashSet::new(), 0);
    for (i, key, result) in results {
        if i == 13 {
            assert!(result.is_err(), "a batch repeating an event id was written");
            continue;
        }
        let out = result.unwrap_or_else(|e| panic!("publish {i} failed beside a bad one: {e}"));
        let p = &out[0];
        match key.as_ref().map(|k| k.as_str()) {
            Some("k-old") => {
                assert!(!p.created && p.jobs.is_empty(), "publish {i}");
                assert_eq!(p.event.id, earlier.id, "publish {i}");
            }
            Some(_) => {
                new_ids.insert(p.event.id.clone());
                if p.created {
                    created += 1;
                    assert_eq!(p.jobs.len(), 2, "publish {i}");
                } else {
                    assert!(p.jobs.is_empty(), "publish {i}");
                }
            }
            None => assert!(p.created && p.jobs.len() == 2, "publish {i}"),
        }
    }
    assert_eq!(new_ids.len(), 1, "one event for the new key");
    assert_eq!(created, 1, "the new key's event was created once");

    let stored = store
        .list_deliveries(
            &app.id,
            &DeliveryQuery {
                page: Page {
                    limit: 1000,
                    ..Page::default()
                },
                ..DeliveryQuery::default()
            },
        )
        .await
        .expect("list deliveries");
    // Two endpoints each: the earlier event, the 29 without a key, and the new key's one.
    let without_key = PUBLISHES - PUBLISHES / 4 - 1;
    assert_eq!(stored.len(), 2 * (1 + without_key + 1));
    assert!(store
        .get_event(&app.id, &broken.id)
        .await
        .expect("read")
        .is_none());
}

#[tokio::test]
async fn store_publish_fans_out_is_idempotent_and_all_or_nothing() {
    let (_dir, store) = open("store-publish").await;
    let app = app(store.as_ref()).await;
    let all = endpoint(store.as_ref(), &app, json!({})).await;
    let joined = endpoint(
        store.as_ref(),
        &app,
        json!({"events": ["participant.joined"]}),
    )
    .await;
    let room = endpoint(
        store.as_ref(),
        &app,
        json!({"filter": {"labels": {"room_id": "r1"}}}),
    )
    .await;

    let mut first = event(&app, "participant.joined", &[("room_id", "r1")]);
    first.idempotency_key = Some(IdempotencyKey::from_trusted("k-1".into()));
    let out = store
        .publish(vec![first.clone()], &unleased())
        .await
        .unwrap();
    let mut reached: Vec<_> = out[0].jobs.iter().map(|j| j.endpoint_id.clone()).collect();
    reached.sort();
    let mut expected = vec![all.id.clone(), joined.id.clone(), room.id.clone()];
    expected.sort();
    assert_eq!(reached, expected);

    // The same key returns the original, with nothing new to deliver.
    let mut repeat = event(&app, "participant.joined", &[]);
    repeat.idempotency_key = first.idempotency_key.clone();
    let again = store.publish(vec![repeat], &unleased()).await.unwrap();
    assert!(!again[0].created && again[0].jobs.is_empty());
    assert_eq!(again[0].event.id, first.id);

    // An endpoint changed a moment ago is what the next publish fans out to.
    let mut off = store.get_endpoint(&all.id).await.unwrap().unwrap();
    off.enabled = false;
    store.update_endpoint(&off).await.unwrap();
    let left = event(&app, "participant.left", &[("room_id", "r2")]);
    let out = store.publish(vec![left], &unleased()).await.unwrap();
    assert!(out[0].jobs.is_empty(), "{:?}", out[0].jobs);

    // A batch that fails part-way leaves nothing behind.
    let a = event(&app, "participant.joined", &[]);
    let failed = store.publish(vec![a.clone(), a.clone()], &unleased()).await;
    assert!(failed.is_err());
    assert!(store.get_event(&app.id, &a.id).await.unwrap().is_none());

    let stored = store
        .get_event(&app.id, &first.id)
        .await
        .unwrap()
        .expect("event");
    assert_eq!(stored.data.as_str(), first.data.as_str());
    assert_eq!(stored.labels.get("room_id"), Some("r1"));
    let q = herald::store::EventQuery {
        labels: vec![("room_id".into(), "r1".into())],
        page: page(10),
        ..Default::default()
    };
    assert_eq!(store.list_events(&app.id, &q).await.unwrap().len(), 1);
    let dq = DeliveryQuery {
        endpoint: Some(room.id.clone()),
        status: Some(DeliveryStatus::Pending),
        labels: vec![("room_id".into(), "r1".into())],
        page: page(10),
        ..Default::default()
    };
    assert_eq!(store.list_deliveries(&app.id, &dq).await.unwrap().len(), 1);
    assert_eq!(store.pending_count().await.unwrap(), 3);
}
