//! The store suite: stored values that do not parse are refused by name, never
//! read back as a default.

use herald::domain::DeliveryStatus;
use herald::store::{DeliveryQuery, Lease, StoreError};
use serde_json::json;

use crate::store::{app, endpoint, event, open, page};

/// The error a read gives, which must be a corrupt-value error naming `column`.
fn names(result: Result<impl std::fmt::Debug, StoreError>, column: &str) {
    match result {
        Err(StoreError::Corrupt(c)) => {
            assert_eq!(format!("{}.{}", c.table, c.column), column, "{c}");
            assert!(c.to_string().contains(column), "{c}");
        }
        other => panic!("expected a corrupt {column}, got {other:?}"),
    }
}

#[tokio::test]
async fn store_refuses_corrupt_status_preset_and_json_naming_the_column() {
    let (dir, store) = open("store-rows").await;
    let app = app(store.as_ref()).await;
    let ep = endpoint(store.as_ref(), &app, json!({})).await;
    let published = store
        .publish(vec![event(&app, "room.started", &[])], &Lease::none())
        .await
        .expect("publish");
    let delivery = published[0].jobs[0].delivery_id.clone();

    dir.1.execute("UPDATE deliveries SET status = 'bogus'");
    names(
        store.get_delivery(&app.id, &delivery).await,
        "deliveries.status",
    );
    let listed = store
        .list_deliveries(
            &app.id,
            &DeliveryQuery {
                page: page(10),
                ..DeliveryQuery::default()
            },
        )
        .await;
    names(listed, "deliveries.status");
    dir.1.execute("UPDATE deliveries SET status = 'pending'");
    let found = store.get_delivery(&app.id, &delivery).await.expect("read");
    assert_eq!(found.expect("found").0.status, DeliveryStatus::Pending);

    dir.1.execute("UPDATE apps SET preset = 'no-such-preset'");
    names(store.get_app(&app.id).await, "apps.preset");
    dir.1
        .execute("UPDATE apps SET preset = 'standard', metadata = '{not json'");
    names(store.get_app(&app.id).await, "apps.metadata");

    dir.1.execute("UPDATE events SET metadata = '[1,'");
    names(
        store.get_event(&app.id, &published[0].event.id).await,
        "events.metadata",
    );
    dir.1.execute("UPDATE endpoints SET doc = '{\"url\": 1}'");
    names(store.get_endpoint(&ep.id).await, "endpoints.doc");
}
