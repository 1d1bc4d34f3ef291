use super::*;
use crate::domain::{DeliveryStatus, EndpointId};

fn page() -> Page {
    Page {
        limit: 11,
        before: Some("dlv_x".into()),
        ..Page::default()
    }
}

#[test]
fn both_dialects_filter_the_same_columns() {
    let app = AppId::new();
    let q = DeliveryQuery {
        labels: vec![
            ("room_id".into(), "r1".into()),
            ("bot_id".into(), "b1".into()),
        ],
        page: page(),
        ..DeliveryQuery::default()
    };
    let (lite, lite_params) = deliveries(Dialect::Sqlite, &app, &q);
    assert_eq!(
        lite,
        " FROM delivery_labels CROSS JOIN deliveries WHERE app = ?1 AND name = ?2 AND value = ?3 \
         AND id = delivery_id AND +app_id = ?4 AND json_extract(labels, ?5) = ?6 \
         AND delivery_id < ?7 ORDER BY delivery_id DESC LIMIT 11"
    );
    assert_eq!(lite_params[4], "$.\"bot_id\"");
    let (pg, pg_params) = deliveries(Dialect::Postgres, &app, &q);
    assert_eq!(
        pg,
        " FROM delivery_labels CROSS JOIN deliveries WHERE app = $1 AND name = $2 AND value = $3 \
         AND id = delivery_id AND app_id || '' = $4 AND labels ->> $5 = $6 \
         AND delivery_id < $7 ORDER BY delivery_id DESC LIMIT 11"
    );
    assert_eq!(pg_params[4], "bot_id");
}

#[test]
fn the_endpoint_and_status_pick_deliveries_when_no_label_or_event_does() {
    let app = AppId::new();
    let mut q = DeliveryQuery {
        endpoint: Some(EndpointId::new()),
        status: Some(DeliveryStatus::Failed),
        ..DeliveryQuery::default()
    };
    let (sql, _) = deliveries(Dialect::Sqlite, &app, &q);
    assert_eq!(
        sql,
        " FROM deliveries WHERE endpoint_id = ?1 AND status = ?2 AND +app_id = ?3 \
         ORDER BY id DESC LIMIT 1"
    );
    q.endpoint = None;
    let (sql, _) = deliveries(Dialect::Sqlite, &app, &q);
    assert!(sql.contains("WHERE status = ?1 AND app_id = ?2 "), "{sql}");
    q.event = Some(crate::domain::EventId::new());
    let (sql, _) = deliveries(Dialect::Sqlite, &app, &q);
    assert!(
        sql.contains("WHERE event_id = ?1 AND +status = ?2 AND +app_id = ?3 "),
        "{sql}"
    );
}

#[test]
fn a_time_range_bounds_the_key_the_page_follows() {
    let app = AppId::new();
    let q = EventQuery {
        event_type: Some("room.started".into()),
        labels: vec![("room_id".into(), "r1".into())],
        page: Page {
            limit: 5,
            before: None,
            since: Some("evt_a".into()),
            until: Some("evt_b".into()),
        },
    };
    let (sql, params) = events(Dialect::Postgres, &app, &q);
    assert!(
        sql.ends_with(
            "AND type || '' = $5 AND event_id >= $6 AND event_id < $7 ORDER BY event_id DESC LIMIT 5"
        ),
        "{sql}"
    );
    assert_eq!(params[5..], ["evt_a".to_owned(), "evt_b".to_owned()]);
    let unlabelled = EventQuery {
        labels: Vec::new(),
        ..q
    };
    let (sql, _) = events(Dialect::Sqlite, &app, &unlabelled);
    assert!(
        sql.starts_with(" FROM events e WHERE app_id = ?1 AND type = ?2 AND id >= ?3"),
        "{sql}"
    );
}
