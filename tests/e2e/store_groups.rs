//! The store suite, part three: publishes that arrive together and share a group commit.
//! Idempotency keys must hold within a group and across groups, and a failing request must
//! fail alone while its neighbours are written.

use std::collections::HashSet;

use herald::domain::IdempotencyKey;
use herald::store::{DeliveryQuery, Page};
use serde_json::json;

use crate::store::{app, endpoint, event, open, unleased};

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
        .publish(&app.id, vec![earlier.clone()], &unleased())
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
        let (store, app_id) = (store.clone(), app.id.clone());
        let task = async move {
            let key = events[0].idempotency_key.clone();
            (i, key, store.publish(&app_id, events, &unleased()).await)
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
            &DeliveryQuery::default(),
            &Page {
                limit: 1000,
                before: None,
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
