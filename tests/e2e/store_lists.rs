//! The store suite: every filtered list is served by an index, and the index changes how
//! fast a list is answered, never what it answers.
//!
//! A small log of events and deliveries (labels, types, statuses, endpoints, several
//! milliseconds) is listed every way the API can ask, page by page, and each answer is
//! compared with the same filter applied to the whole unfiltered log. The plan the database
//! makes for each query must name the index that serves it and must not sort.

use chrono::{DateTime, Duration, Utc};
use herald::domain::{AppId, Delivery, DeliveryId, DeliveryStatus, Event, EventId};
use herald::store::filter::{self, Dialect};
use herald::store::{DeliveryQuery, EventQuery, Lease, Page, Store};
use serde_json::json;

use crate::db::on_postgres;
use crate::store::{app, endpoint, event, open};

const ROOMS: [&str; 3] = ["r0", "r1", "r2"];

fn dialect() -> Dialect {
    if on_postgres() {
        Dialect::Postgres
    } else {
        Dialect::Sqlite
    }
}

/// Every item of a list, read in pages of 7 by following the cursor.
async fn all_pages<T, F, Fut>(mut list: F, id: fn(&T) -> String) -> Vec<String>
where
    F: FnMut(Page) -> Fut,
    Fut: std::future::Future<Output = Vec<T>>,
{
    let (mut out, mut before) = (Vec::new(), None);
    loop {
        let got = list(Page {
            limit: 7,
            before: before.clone(),
            ..Page::default()
        })
        .await;
        out.extend(got.iter().map(id));
        if got.len() < 7 {
            return out;
        }
        before = out.last().cloned();
    }
}

/// Publishes 60 events over a few milliseconds to three endpoints, and marks some of their
/// deliveries failed and some succeeded; answers the moment halfway through.
async fn log(store: &dyn Store, app: &herald::domain::App) -> DateTime<Utc> {
    for _ in 0..3 {
        endpoint(store, app, json!({})).await;
    }
    let mut middle = Utc::now();
    for i in 0..60 {
        let room = ROOMS[i % 3];
        let mut labels = vec![("room_id", room)];
        if i % 4 == 0 {
            labels.push(("bot_id", "b1"));
        }
        let kind = if i % 5 == 0 {
            "room.ended"
        } else {
            "participant.joined"
        };
        let e = event(app, kind, &labels);
        store
            .publish(vec![e], &Lease::none())
            .await
            .expect("publish");
        if i == 30 {
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            middle = Utc::now();
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
    }
    middle
}

/// Whether a list of deliveries goes through their events' labels: ordered and bounded in
/// time by event, then by delivery.
fn by_event(q: &DeliveryQuery) -> bool {
    q.event.is_none() && !q.labels.is_empty()
}

/// The filter a query names, applied by hand to one delivery.
fn matches(d: &Delivery, q: &DeliveryQuery) -> bool {
    let in_time = match by_event(q) {
        true => in_range(d.event_id.as_str(), &q.page, |t| {
            EventId::floor(t).to_string()
        }),
        false => in_range(d.id.as_str(), &q.page, |t| DeliveryId::floor(t).to_string()),
    };
    q.endpoint.as_ref().is_none_or(|e| *e == d.endpoint_id)
        && q.event.as_ref().is_none_or(|e| *e == d.event_id)
        && q.status.is_none_or(|s| s == d.status)
        && q.labels.iter().all(|(k, v)| d.labels.get(k) == Some(v))
        && in_time
}

/// Whether `id` was minted within the page's time range (`floor` gives the smallest id of
/// its kind minted at a moment).
fn in_range(id: &str, page: &Page, floor: fn(DateTime<Utc>) -> String) -> bool {
    page.since.is_none_or(|s| id >= floor(s).as_str())
        && page.until.is_none_or(|u| id < floor(u).as_str())
}

fn event_matches(e: &Event, q: &EventQuery) -> bool {
    q.event_type
        .as_deref()
        .is_none_or(|t| t == e.event_type.as_str())
        && q.labels.iter().all(|(k, v)| e.labels.get(k) == Some(v))
        && in_range(e.id.as_str(), &q.page, |t| EventId::floor(t).to_string())
}

fn label(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

/// Checks the plan of a list's query: it names `index` (or one of `a|b`) and sorts nothing
/// whole.
fn uses(dir: &crate::harness::TempDir, (tail, params): (String, Vec<String>), index: &str) {
    let tail = tail.replace("LIMIT 1000", "LIMIT 51");
    let plan = dir.1.explain(&format!("SELECT *{tail}"), &params);
    let named = index.split('|').any(|i| plan.contains(i));
    assert!(named, "{tail}\nwants {index}:\n{plan}");
    // A full sort reads every matching row before the first page; PostgreSQL's incremental
    // sort, within one event's few deliveries, keeps the scan in page order.
    // A sort node is `Sort  (cost=...)`; `Sort Key:` is a detail of any sort, incremental too.
    let sorts = plan.lines().any(|l| {
        let step = l.trim_start().trim_start_matches("->").trim_start();
        step.contains("TEMP B-TREE") || step.starts_with("Sort  (")
    });
    assert!(!sorts, "{tail}\nsorts:\n{plan}");
}

/// Where the plan names each index: SQLite's and PostgreSQL's spelling.
fn index(name: &str) -> String {
    match (dialect(), name) {
        (Dialect::Sqlite, "event_labels") => {
            format!("{name} USING PRIMARY KEY")
        }
        (Dialect::Postgres, "event_labels") => format!("{name}_pkey"),
        // With statistics, PostgreSQL may walk the primary key instead, which is in page
        // order too, when most rows of the range match.
        (Dialect::Postgres, _) => {
            format!("{name} |{}_pkey", name.split('_').next().unwrap_or(name))
        }
        (_, other) => format!("{other} "),
    }
}

fn delivery_queries(
    app: &AppId,
    ds: &[Delivery],
    middle: DateTime<Utc>,
) -> Vec<(DeliveryQuery, &'static str)> {
    let since = Some(middle);
    let until = Some(middle + Duration::milliseconds(1));
    let at = |since: &Option<DateTime<Utc>>, until: &Option<DateTime<Utc>>| Page {
        limit: 1000,
        before: None,
        since: *since,
        until: *until,
    };
    let q = |f: fn(&mut DeliveryQuery)| {
        let mut q = DeliveryQuery {
            page: at(&None, &None),
            ..DeliveryQuery::default()
        };
        f(&mut q);
        q
    };
    let (ep, ev) = (ds[0].endpoint_id.clone(), ds[5].event_id.clone());
    let _ = app;
    vec![
        (q(|_| ()), "deliveries_app"),
        (
            q(|q| q.status = Some(DeliveryStatus::Failed)),
            "deliveries_status",
        ),
        // Succeeded deliveries are not in the status indexes: most rows are succeeded, and
        // the app's index finds them in page order.
        (
            q(|q| q.status = Some(DeliveryStatus::Succeeded)),
            "deliveries_app",
        ),
        (
            DeliveryQuery {
                endpoint: Some(ep.clone()),
                status: Some(DeliveryStatus::Succeeded),
                ..q(|_| ())
            },
            "deliveries_endpoint",
        ),
        (
            DeliveryQuery {
                endpoint: Some(ep.clone()),
                ..q(|_| ())
            },
            "deliveries_endpoint",
        ),
        (
            DeliveryQuery {
                endpoint: Some(ep),
                status: Some(DeliveryStatus::Pending),
                ..q(|_| ())
            },
            "deliveries_endpoint_status",
        ),
        (
            DeliveryQuery {
                event: Some(ev),
                ..q(|_| ())
            },
            "deliveries_event",
        ),
        (
            q(|q| q.labels = vec![label("room_id", "r1")]),
            "event_labels",
        ),
        (
            q(|q| q.labels = vec![label("room_id", "r1"), label("bot_id", "b1")]),
            "event_labels",
        ),
        (
            q(|q| {
                q.labels = vec![label("room_id", "r2")];
                q.status = Some(DeliveryStatus::Failed);
            }),
            "event_labels",
        ),
        (
            DeliveryQuery {
                labels: vec![label("room_id", "r0")],
                page: at(&since, &None),
                ..q(|_| ())
            },
            "event_labels",
        ),
        (
            DeliveryQuery {
                page: at(&None, &until),
                ..q(|_| ())
            },
            "deliveries_app",
        ),
    ]
}

#[tokio::test]
async fn store_lists_answer_from_indexes_what_a_full_scan_answers() {
    let (dir, store) = open("store-lists").await;
    let app = app(store.as_ref()).await;
    let middle = log(store.as_ref(), &app).await;
    dir.1.execute(
        "UPDATE deliveries SET status = 'failed' WHERE id IN \
           (SELECT id FROM deliveries ORDER BY id LIMIT 40); \
         UPDATE deliveries SET status = 'succeeded' WHERE id IN \
           (SELECT id FROM deliveries ORDER BY id DESC LIMIT 70)",
    );
    let everything = DeliveryQuery {
        page: Page {
            limit: 1000,
            ..Page::default()
        },
        ..DeliveryQuery::default()
    };
    let ds = store
        .list_deliveries(&app.id, &everything)
        .await
        .expect("all deliveries");
    assert_eq!(ds.len(), 180);
    for (q, idx) in delivery_queries(&app.id, &ds, middle) {
        let mut found: Vec<&Delivery> = ds.iter().filter(|d| matches(d, &q)).collect();
        if by_event(&q) {
            found.sort_by(|a, b| (&b.event_id, &b.id).cmp(&(&a.event_id, &a.id)));
        }
        let want: Vec<String> = found.iter().map(|d| d.id.to_string()).collect();
        assert!(!want.is_empty(), "{q:?} finds something");
        let got = all_pages(
            |page| {
                let q = DeliveryQuery {
                    page: Page {
                        since: q.page.since,
                        until: q.page.until,
                        ..page
                    },
                    ..q.clone()
                };
                let store = store.clone();
                let app = app.id.clone();
                async move { store.list_deliveries(&app, &q).await.expect("list") }
            },
            |d: &Delivery| d.id.to_string(),
        )
        .await;
        assert_eq!(got, want, "{q:?}");
        uses(
            &dir,
            filter::deliveries(dialect(), &app.id, &q),
            &index(idx),
        );
    }
    events_lists(&dir, store.as_ref(), &app.id, middle).await;
}

async fn events_lists(
    dir: &crate::harness::TempDir,
    store: &dyn Store,
    app: &AppId,
    middle: DateTime<Utc>,
) {
    let whole = Page {
        limit: 1000,
        ..Page::default()
    };
    let all = store
        .list_events(
            app,
            &EventQuery {
                page: whole.clone(),
                ..EventQuery::default()
            },
        )
        .await
        .expect("all events");
    assert_eq!(all.len(), 60);
    let half = Page {
        since: Some(middle),
        ..whole.clone()
    };
    let q = |t: Option<&str>, labels: Vec<(String, String)>, page: &Page| EventQuery {
        event_type: t.map(str::to_owned),
        labels,
        page: page.clone(),
    };
    let queries = [
        (q(None, vec![], &whole), "events_app"),
        (q(Some("room.ended"), vec![], &whole), "events_type"),
        (
            q(None, vec![label("room_id", "r2")], &whole),
            "event_labels",
        ),
        (
            q(
                Some("participant.joined"),
                vec![label("room_id", "r1"), label("bot_id", "b1")],
                &whole,
            ),
            "event_labels",
        ),
        (q(Some("room.ended"), vec![], &half), "events_type"),
        (q(None, vec![label("room_id", "r0")], &half), "event_labels"),
    ];
    for (q, idx) in queries {
        let want: Vec<String> = all
            .iter()
            .filter(|e| event_matches(e, &q))
            .map(|e| e.id.to_string())
            .collect();
        assert!(!want.is_empty(), "{q:?} finds something");
        let got = all_pages(
            |page| {
                let q = EventQuery {
                    page: Page {
                        since: q.page.since,
                        ..page
                    },
                    ..q.clone()
                };
                async move { store.list_events(app, &q).await.expect("list") }
            },
            |e: &Event| e.id.to_string(),
        )
        .await;
        assert_eq!(got, want, "{q:?}");
        uses(dir, filter::events(dialect(), app, &q), &index(idx));
    }
}
