//! The store suite: a database made by an older Herald is migrated with what it holds.

use herald::domain::{AppId, DeliveryId, EndpointId, EventId};
use herald::store::{DeliveryQuery, EventQuery, Page};

use crate::db::on_postgres;

fn label(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

/// A SQLite file made before the label table (schema 5) gains the label rows of the events
/// it holds when the store opens it, so lists by label find what was published before.
#[tokio::test]
async fn an_older_sqlite_file_gains_its_label_rows() {
    if on_postgres() {
        return;
    }
    let dir = crate::harness::TempDir::new("store-lists-upgrade");
    let mut old = String::new();
    for sql in [
        include_str!("../../src/store/migrations/sqlite/0001_init.sql"),
        include_str!("../../src/store/migrations/sqlite/0002_lease_owner.sql"),
        include_str!("../../src/store/migrations/sqlite/0003_claim_per_endpoint.sql"),
        include_str!("../../src/store/migrations/sqlite/0004_seq.sql"),
        include_str!("../../src/store/migrations/sqlite/0005_health.sql"),
    ] {
        old.push_str(sql);
    }
    let (app, event, delivery) = (AppId::new(), EventId::new(), DeliveryId::new());
    let ep = EndpointId::new();
    old.push_str(&format!(
        "INSERT INTO events VALUES ('{event}', '{app}', 'room.started', '{{}}', \
           '{{\"room_id\":\"r1\",\"bot_id\":\"b1\"}}', 0, NULL, NULL, NULL, 0); \
         INSERT INTO deliveries (id, app_id, event_id, endpoint_id, status, attempt_count, \
           due_at, trigger, labels, created_at, updated_at) VALUES ('{delivery}', '{app}', \
           '{event}', '{ep}', 'succeeded', 1, 0, 'scheduled', '{{\"room_id\":\"r1\"}}', 0, 0); \
         PRAGMA user_version = 5;"
    ));
    dir.1.execute(&old);
    let store = herald::store::open(&dir.1.url)
        .await
        .expect("open and migrate");
    let q = EventQuery {
        labels: vec![label("bot_id", "b1")],
        page: Page {
            limit: 10,
            ..Page::default()
        },
        ..EventQuery::default()
    };
    let events = store.list_events(&app, &q).await.expect("events by label");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, event);
    let q = DeliveryQuery {
        labels: vec![label("room_id", "r1")],
        page: Page {
            limit: 10,
            ..Page::default()
        },
        ..DeliveryQuery::default()
    };
    let found = store
        .list_deliveries(&app, &q)
        .await
        .expect("deliveries by label");
    assert_eq!(found.iter().map(|d| &d.id).collect::<Vec<_>>(), [&delivery]);
}
