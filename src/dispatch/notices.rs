//! Operational events: Herald tells an app what happened to its endpoints and deliveries by
//! publishing `herald.*` events into that app (see `catalog::herald`), committed and
//! delivered like any other event, to the endpoints that subscribe to them.

use std::collections::BTreeMap;

use serde_json::json;

use super::Dispatcher;
use crate::domain::{DeliveryStatus, Endpoint, Event, Labels, Trigger};
use crate::store::{AttemptOutcome, Job, Lease, Store};

impl Dispatcher {
    async fn announce(&self, kind: &str, ep: &Endpoint, data: serde_json::Value) {
        announce(self.inner.store.as_ref(), Some(self), kind, ep, data).await;
    }
}

/// Publishes an operational event of type `kind` about `ep` into its app; `dispatcher`, when
/// this process sends, takes its deliveries into memory.
pub async fn announce(
    store: &dyn Store,
    dispatcher: Option<&Dispatcher>,
    kind: &str,
    ep: &Endpoint,
    data: serde_json::Value,
) {
    let labels = BTreeMap::from([("endpoint_id".to_owned(), ep.id.as_str().to_owned())]);
    let Ok(labels) = Labels::parse("labels", labels) else {
        return;
    };
    let event = Event::internal(ep.app_id.clone(), kind, &data, labels);
    let published = match dispatcher {
        Some(d) => d.publish(vec![event]).await,
        None => store.publish(vec![event], &Lease::none()).await,
    };
    match published {
        Ok(_) => {
            metrics::counter!("herald_operational_events_total", "type" => kind.to_owned())
                .increment(1);
        }
        Err(e) => {
            tracing::warn!(endpoint = %ep.id, kind, error = %e.chain(), "cannot publish an operational event")
        }
    }
}

fn about(ep: &Endpoint) -> serde_json::Value {
    json!({
        "endpoint_id": ep.id,
        "url": ep.url.as_str(),
        "name": ep.name,
        "health": ep.health,
    })
}

pub(super) async fn failing(d: &Dispatcher, ep: &Endpoint) {
    d.announce("herald.endpoint.failing", ep, about(ep)).await;
}

pub(super) async fn disabled(d: &Dispatcher, ep: &Endpoint) {
    let mut data = about(ep);
    data["reason"] = json!(ep.disabled_reason);
    d.announce("herald.endpoint.disabled", ep, data).await;
}

/// A delivery that failed its last scheduled attempt (not a manual one, which has no
/// schedule, and not one about an operational event, which would announce itself forever).
pub(super) async fn exhausted(d: &Dispatcher, ep: &Endpoint, job: &Job, result: &AttemptOutcome) {
    let Some(attempt) = &result.attempt else {
        return;
    };
    if result.status != DeliveryStatus::Failed
        || job.trigger != Trigger::Scheduled
        || job.event.event_type.is_operational()
    {
        return;
    }
    let data = json!({
        "delivery_id": job.delivery_id,
        "event_id": job.event.id,
        "event_type": job.event.event_type,
        "endpoint_id": ep.id,
        "attempts": attempt.number,
        "last_status_code": attempt.status_code,
        "last_error_kind": attempt.error_kind.map(|k| k.as_str()),
    });
    d.announce("herald.delivery.exhausted", ep, data).await;
}
