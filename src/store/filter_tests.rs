use super::*;
use crate::domain::{DeliveryId, DeliveryStatus, EndpointId, EventId};

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
        " FROM event_labels CROSS JOIN deliveries WHERE app = ?1 AND name = ?2 AND value = ?3 \
         AND event_id = event AND +app_id = ?4 AND json_extract(labels, ?5) = ?6 \
         AND event <= (SELECT event_id FROM deliveries WHERE id = ?7) \
         AND (event < (SELECT event_id FROM deliveries WHERE id = ?7) OR id < ?7) \
         ORDER BY event DESC, id DESC LIMIT 11"
    );
    assert_eq!(lite_params[4], "$.\"bot_id\"");
    let (pg, pg_params) = deliveries(Dialect::Postgres, &app, &q);
    assert!(
        pg.starts_with(
            " FROM event_labels CROSS JOIN deliveries WHERE app = $1 AND name = $2 AND value = $3 \
             AND event_id = event AND app_id || '' = $4 AND labels ->> $5 = $6 AND event <= "
        ),
        "{pg}"
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
        " FROM deliveries WHERE endpoint_id = ?1 AND status = ?2 \
         AND status <> 'succeeded' AND +app_id = ?3 ORDER BY id DESC LIMIT 1"
    );
    q.status = Some(DeliveryStatus::Succeeded);
    let (sql, _) = deliveries(Dialect::Sqlite, &app, &q);
    assert!(
        sql.contains("WHERE endpoint_id = ?1 AND +status = ?2 AND +app_id = ?3 "),
        "{sql}"
    );
    q.endpoint = None;
    let (sql, _) = deliveries(Dialect::Sqlite, &app, &q);
    assert!(sql.contains("WHERE +status = ?1 AND app_id = ?2 "), "{sql}");
    q.status = Some(DeliveryStatus::Failed);
    let (sql, _) = deliveries(Dialect::Sqlite, &app, &q);
    assert!(
        sql.contains("WHERE status = ?1 AND status <> 'succeeded' AND app_id = ?2 "),
        "{sql}"
    );
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
    let at = Utc::now();
    let q = EventQuery {
        event_type: Some("room.started".into()),
        labels: vec![("room_id".into(), "r1".into())],
        page: Page {
            limit: 5,
            before: None,
            since: Some(at),
            until: Some(at + chrono::Duration::seconds(1)),
        },
    };
    let (sql, params) = events(Dialect::Postgres, &app, &q);
    assert!(
        sql.ends_with(
            "AND type || '' = $5 AND event >= $6 AND event < $7 ORDER BY event DESC LIMIT 5"
        ),
        "{sql}"
    );
    assert_eq!(params[5], EventId::floor(at).to_string());
    let unlabelled = EventQuery {
        labels: Vec::new(),
        ..q.clone()
    };
    let (sql, _) = events(Dialect::Sqlite, &app, &unlabelled);
    assert!(
        sql.starts_with(" FROM events e WHERE app_id = ?1 AND type = ?2 AND id >= ?3"),
        "{sql}"
    );
    let deliveries_of_room = DeliveryQuery {
        labels: q.labels.clone(),
        page: q.page.clone(),
        ..DeliveryQuery::default()
    };
    let (sql, params) = deliveries(Dialect::Sqlite, &app, &deliveries_of_room);
    assert!(
        sql.contains("AND event >= ?5 AND event < ?6 ORDER BY event DESC, id DESC"),
        "{sql}"
    );
    assert!(
        params[4].starts_with("evt_"),
        "events bound the time: {params:?}"
    );
    let all = DeliveryQuery {
        page: q.page,
        ..DeliveryQuery::default()
    };
    let (_, params) = deliveries(Dialect::Sqlite, &app, &all);
    assert_eq!(params[1], DeliveryId::floor(at).to_string());
}
