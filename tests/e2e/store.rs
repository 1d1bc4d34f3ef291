//! The store suite, on whichever backend the run tests, organised as the store is: this part
//! covers `Tenants` (and holds the suite's helpers), `store_log` the `EventLog`,
//! `store_queue` the `DeliveryQueue`, and `store_rows` the row mapping under all three.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use herald::domain::{
    App, AppId, Endpoint, EndpointId, Event, EventData, EventId, EventTypeName, Ingest, KeyId,
    Labels, Preset,
};
use herald::store::{self, ApiKey, Claim, CustomEventType, EndpointDoc, Lease, Page, Store};
use serde_json::json;

use crate::harness::TempDir;

/// A store on a fresh database, with the directory that owns it.
pub async fn open(name: &str) -> (TempDir, Arc<dyn Store>) {
    let dir = TempDir::new(name);
    let store = store::open(&dir.1.url).await.expect("open the store");
    (dir, store)
}

pub async fn app(store: &dyn Store) -> App {
    let app = App {
        id: AppId::new(),
        name: "suite".into(),
        preset: Preset::Standard,
        metadata: json!({"plan": "pro"}),
        ingest: Ingest::default(),
        enforce_schemas: true,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    store.create_app(&app).await.expect("create app");
    app
}

/// An endpoint from its stored document, with `extra` fields over the defaults.
pub async fn endpoint(store: &dyn Store, app: &App, extra: serde_json::Value) -> Endpoint {
    let mut doc = json!({
        "url": "https://hooks.example.com/x", "name": "", "description": "",
        "format": "standard", "events": ["*"], "filter": {}, "headers": {},
        "timeout_ms": 5000, "retry_schedule_s": [5, 60], "max_in_flight": 4,
        "rate_limit_per_s": null, "ordering": "none", "disabled_reason": null,
        "metadata": {}, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "previous_secret": null
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        doc[k] = v;
    }
    let doc: EndpointDoc = serde_json::from_value(doc).expect("endpoint document");
    let ep = doc.into_endpoint(
        EndpointId::new(),
        app.id.clone(),
        true,
        Utc::now(),
        Utc::now(),
    );
    store.create_endpoint(&ep).await.expect("create endpoint");
    ep
}

pub fn event(app: &App, kind: &str, labels: &[(&str, &str)]) -> Event {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Event {
        id: EventId::new(),
        app_id: app.id.clone(),
        event_type: EventTypeName::from_trusted(kind.into()),
        data: EventData::from_trusted(r#"{"n": 1, "text": "caf\u00e9"}"#.into()),
        labels: Labels::parse("labels", labels).expect("labels"),
        occurred_at: Utc::now(),
        idempotency_key: None,
        metadata: None,
        ordering_key: None,
        sequence: None,
        ttl_s: None,
        created_at: Utc::now(),
    }
}

/// No lease: the deliveries wait in the store for a claim.
pub fn unleased() -> Lease {
    Lease::none()
}

/// A publish that leases every delivery to the caller until `until`.
pub fn leased(until: DateTime<Utc>) -> Lease {
    Lease {
        until,
        except: Default::default(),
        per_endpoint: usize::MAX,
    }
}

/// A claim of at most `n` deliveries, from any endpoint.
pub fn up_to(n: u32) -> Claim {
    Claim {
        limit: n,
        default_room: n,
        ..Default::default()
    }
}

pub fn page(limit: u32) -> Page {
    Page {
        limit,
        ..Page::default()
    }
}

#[tokio::test]
async fn store_keeps_apps_keys_event_types_and_endpoints() {
    let (_dir, store) = open("store-tenants").await;
    let mut app = app(store.as_ref()).await;
    let found = store.get_app(&app.id).await.unwrap().expect("app");
    assert_eq!(
        (found.name.as_str(), found.metadata["plan"].as_str()),
        ("suite", Some("pro"))
    );
    app.name = "renamed".into();
    store.update_app(&app).await.unwrap();
    assert_eq!(store.list_apps(&page(10)).await.unwrap()[0].name, "renamed");

    let key = ApiKey {
        id: KeyId::new(),
        app_id: app.id.clone(),
        name: "ci".into(),
        token_hash: "ab".repeat(32),
        created_at: Utc::now(),
    };
    store.create_key(&key).await.unwrap();
    assert_eq!(
        store.find_key(&key.token_hash).await.unwrap().unwrap().id,
        key.id
    );

    let def = CustomEventType {
        name: EventTypeName::from_trusted("poll.closed".into()),
        family: "poll".into(),
        description: "a poll closed".into(),
        schema: Some(json!({"type": "object"})),
        ttl_s: Some(45),
    };
    store.create_event_type(&app.id, &def).await.unwrap();
    let again = store.create_event_type(&app.id, &def).await;
    assert!(
        again.as_ref().is_err_and(store::StoreError::is_conflict),
        "{again:?}"
    );
    let listed = store.list_event_types(&app.id).await.unwrap();
    assert_eq!(
        (&listed[0].schema, listed[0].ttl_s),
        (&def.schema, def.ttl_s)
    );

    let mut ep = endpoint(store.as_ref(), &app, json!({"name": "first"})).await;
    ep.name = "changed".into();
    ep.enabled = false;
    store.update_endpoint(&ep).await.unwrap();
    let read = store.get_endpoint(&ep.id).await.unwrap().expect("endpoint");
    assert_eq!((read.name.as_str(), read.enabled), ("changed", false));
    assert_eq!(
        store
            .list_endpoints(&app.id, &page(10))
            .await
            .unwrap()
            .len(),
        1
    );

    assert!(store.delete_app(&app.id).await.unwrap());
    assert!(store.get_app(&app.id).await.unwrap().is_none());
    assert!(store.find_key(&key.token_hash).await.unwrap().is_none());
    assert!(store.get_endpoint(&ep.id).await.unwrap().is_none());
    assert!(!store.delete_key(&app.id, &key.id).await.unwrap());
}

#[tokio::test]
async fn store_meta_keeps_the_first_value_and_exclusive_excludes_other_processes() {
    let (dir, store) = open("store-meta").await;
    assert_eq!(store.meta_get("k").await.expect("get"), None);
    assert_eq!(store.meta_init("k", "first").await.expect("init"), "first");
    assert_eq!(store.meta_init("k", "second").await.expect("init"), "first");
    assert_eq!(
        store.meta_get("k").await.expect("get").as_deref(),
        Some("first")
    );

    let held = store.exclusive("suite").await.expect("lock");
    if !crate::db::on_postgres() {
        return; // one process per SQLite file: nobody else to exclude
    }
    // A second store on the same database stands in for a second process.
    let other = store::open(&dir.1.url).await.expect("open again");
    let wait = std::time::Duration::from_millis(500);
    let blocked = tokio::time::timeout(wait, other.exclusive("suite")).await;
    assert!(blocked.is_err(), "the lock was taken twice");
    let free = tokio::time::timeout(wait, other.exclusive("another")).await;
    assert!(free.is_ok(), "a lock of another name waited");
    drop(held);
    let taken = tokio::time::timeout(std::time::Duration::from_secs(10), other.exclusive("suite"))
        .await
        .expect("the lock is free once dropped");
    taken.expect("lock");
}
