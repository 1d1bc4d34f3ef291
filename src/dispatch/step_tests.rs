//! The dispatcher driven step by step: a retry scheduled an hour ahead is sent by a step
//! taken "an hour later", without the test waiting an hour (or at all).

use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::Utc;

use super::{Dispatcher, HttpClient};
use crate::domain::ssrf::DestinationPolicy;
use crate::domain::{
    App, AppId, Delivery, DeliveryId, DeliveryStatus, EndpointId, Event, EventData, EventId,
    EventTypeName, Ingest, Labels, Preset,
};
use crate::store::{self, EndpointDoc, Store};

/// A receiver that answers 503 to its first request and 200 after; counts requests.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let count = Arc::clone(&count);
            async move {
                match count.fetch_add(1, AtomicOrdering::SeqCst) {
                    0 => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::OK,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// An app with one endpoint at `url` that retries after an hour.
async fn endpoint(store: &dyn Store, url: &str) -> AppId {
    let now = Utc::now();
    let app = App {
        id: AppId::new(),
        name: "steps".into(),
        preset: Preset::Standard,
        metadata: serde_json::json!({}),
        ingest: Ingest::default(),
        enforce_schemas: true,
        created_at: now,
        updated_at: now,
    };
    store.create_app(&app).await.expect("app");
    let doc: EndpointDoc = serde_json::from_value(serde_json::json!({
        "url": url, "name": "", "description": "", "format": "standard", "events": ["*"],
        "filter": {}, "headers": {}, "timeout_ms": 5000, "retry_schedule_s": [3600],
        "max_in_flight": 4, "rate_limit_per_s": null, "ordering": "none",
        "disabled_reason": null, "metadata": {},
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "previous_secret": null
    }))
    .expect("endpoint document");
    let ep = doc.into_endpoint(EndpointId::new(), app.id.clone(), true, now, now);
    store.create_endpoint(&ep).await.expect("endpoint");
    app.id
}

fn event(app: &AppId) -> Event {
    Event {
        id: EventId::new(),
        app_id: app.clone(),
        event_type: EventTypeName::from_trusted("room.started".into()),
        data: EventData::from_trusted("{}".into()),
        labels: Labels::default(),
        occurred_at: Utc::now(),
        idempotency_key: None,
        metadata: None,
        ordering_key: None,
        sequence: None,
        ttl_s: None,
        created_at: Utc::now(),
    }
}

/// The delivery once `done` holds of it (its write-back runs beside the next request).
async fn settled(
    store: &dyn Store,
    app: &AppId,
    id: &DeliveryId,
    done: impl Fn(&Delivery) -> bool,
) -> Delivery {
    for _ in 0..250 {
        let (found, _) = store
            .get_delivery(app, id)
            .await
            .expect("read")
            .expect("there");
        if done(&found) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("delivery {id} never got there");
}

#[tokio::test]
async fn a_retry_an_hour_ahead_goes_at_the_step_an_hour_later() {
    let dir = std::env::temp_dir().join(format!("herald-steps-{}", ulid::Ulid::new()));
    let url = format!("sqlite://{}", dir.join("steps.db").display());
    let store = store::open(&url).await.expect("store");
    let (hook, seen) = receiver().await;
    let app = endpoint(store.as_ref(), &hook).await;
    let policy = DestinationPolicy::new(vec!["127.0.0.0/8".parse().expect("a CIDR")]);
    let client = HttpClient::new(policy).expect("client");
    let (window, poll, lease) = (1000, Duration::from_millis(100), Duration::from_secs(30));
    let breaker = crate::domain::BreakerPolicy {
        failures: 5,
        cooldown: Duration::from_secs(10),
        cooldown_max: Duration::from_secs(600),
        disable_after: None,
    };
    let d = Dispatcher::new(Arc::clone(&store), client, window, poll, lease, breaker);

    let published = store.publish(vec![event(&app)], &d.lease()).await;
    let published = published.expect("publish").remove(0);
    let delivery = published.jobs[0].delivery_id.clone();
    d.submit(published.jobs);

    // Answered 503: pending, the next attempt an hour ahead. No poller runs; only steps.
    let first = settled(store.as_ref(), &app, &delivery, |d| d.attempt_count == 1).await;
    let at = first.next_attempt_at.expect("a retry time");
    assert!(at > Utc::now() + chrono::Duration::minutes(59), "{at}");

    d.step(Utc::now()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        seen.load(AtomicOrdering::SeqCst),
        1,
        "not due yet: nothing is sent"
    );

    // The write-back of the first attempt may still be releasing the delivery: step again
    // until the retry has gone.
    let mut done = None;
    for _ in 0..100 {
        d.step(at + chrono::Duration::seconds(1)).await;
        let (found, _) = store
            .get_delivery(&app, &delivery)
            .await
            .expect("read")
            .expect("there");
        if found.status == DeliveryStatus::Succeeded {
            done = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(done.map(|d| d.attempt_count), Some(2));
    assert_eq!(seen.load(AtomicOrdering::SeqCst), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
