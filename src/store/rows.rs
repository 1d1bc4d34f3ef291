//! Row to domain mapping, written once for both backends.
//!
//! A backend says only how to read one cell of its rows ([`Cells`]). Everything that turns
//! cells into ids, enums, times and documents lives here, so a stored value that does not
//! parse is refused the same way on both: as [`Corrupt`], naming its table and column. It is
//! never read back as a default, because a default (a `pending` status, the `none` preset, a
//! `null` document) would be acted on as if it were true.

use std::sync::Arc;

use super::cells::{clip, Reader};
pub use super::cells::{
    select, Cells, Corrupt, Table, APPS, ATTEMPTS, DELIVERIES, ENDPOINTS, EVENTS, EVENT_TYPES, JOBS,
};
use crate::domain::{
    App, Attempt, Delivery, DeliveryStatus, Endpoint, ErrorKind, Event, EventData, EventTypeName,
    Health, IdempotencyKey, Ingest, Labels, OrderingKey, Preset, Trigger,
};
use crate::store::{CustomEventType, EndpointDoc, Job};

pub fn app<C: Cells>(row: &C) -> Result<App, C::Error> {
    let r = Reader::new(row, &APPS, 0);
    let ingest = r.text(6)?;
    Ok(App {
        id: r.id(0)?,
        name: r.text(1)?,
        preset: r.named(2, "a preset", Preset::parse)?,
        metadata: r.json(3)?,
        created_at: r.time(4)?,
        updated_at: r.time(5)?,
        ingest: Ingest::from_store(&ingest).map_err(|e| r.bad(6, e))?,
        enforce_schemas: row.flag(7)?,
    })
}

pub fn endpoint<C: Cells>(row: &C) -> Result<Endpoint, C::Error> {
    let r = Reader::new(row, &ENDPOINTS, 0);
    let doc: EndpointDoc = serde_json::from_str(&r.text(3)?).map_err(|e| r.bad(3, e))?;
    let health = match r.opt_text(6)? {
        None => Health::default(),
        Some(raw) => serde_json::from_str(&raw).map_err(|e| r.bad(6, e))?,
    };
    let mut ep = doc.into_endpoint(r.id(0)?, r.id(1)?, row.flag(2)?, r.time(4)?, r.time(5)?);
    ep.health = health;
    Ok(ep)
}

/// Maps the columns of [`EVENTS`] starting at `at`.
pub fn event_at<C: Cells>(row: &C, at: usize) -> Result<Event, C::Error> {
    let r = Reader::new(row, &EVENTS, at);
    let labels = r.text(4)?;
    Ok(Event {
        id: r.id(0)?,
        app_id: r.id(1)?,
        event_type: EventTypeName::from_trusted(r.text(2)?),
        // Written from parsed JSON and carried as text: read as it was written.
        data: EventData::from_trusted(r.text(3)?),
        labels: Labels::from_stored(&labels).map_err(|e| r.bad(4, e))?,
        occurred_at: r.time(5)?,
        idempotency_key: r.opt_text(6)?.map(IdempotencyKey::from_trusted),
        created_at: r.time(7)?,
        metadata: r.opt_json(8)?,
        ordering_key: r.opt_text(9)?.map(OrderingKey::from_trusted),
        sequence: r.opt_count(10)?,
        ttl_s: None,
    })
}

pub fn event<C: Cells>(row: &C) -> Result<Event, C::Error> {
    event_at(row, 0)
}

pub fn delivery<C: Cells>(row: &C) -> Result<Delivery, C::Error> {
    let r = Reader::new(row, &DELIVERIES, 0);
    let labels = r.text(6)?;
    Ok(Delivery {
        id: r.id(0)?,
        event_id: r.id(1)?,
        endpoint_id: r.id(2)?,
        status: r.named(3, "a delivery status", DeliveryStatus::parse)?,
        attempt_count: r.count(4)?,
        next_attempt_at: r.opt_time(5)?,
        labels: Labels::from_stored(&labels).map_err(|e| r.bad(6, e))?,
        created_at: r.time(7)?,
        updated_at: r.time(8)?,
        expires_at: r.opt_time(9)?,
    })
}

pub fn attempt<C: Cells>(row: &C) -> Result<Attempt, C::Error> {
    let r = Reader::new(row, &ATTEMPTS, 0);
    let error_kind = match r.opt_text(5)? {
        None => None,
        Some(raw) => Some(
            ErrorKind::parse(&raw)
                .ok_or_else(|| r.bad(5, format!("'{}' is not an error kind", clip(&raw))))?,
        ),
    };
    Ok(Attempt {
        id: r.id(0)?,
        number: r.count(1)?,
        started_at: r.time(2)?,
        duration_ms: r.count(3)?,
        status_code: r.opt_count(4)?,
        error_kind,
        response_body: r.text(6)?,
        request_headers: r.json(7)?,
        trigger: r.named(8, "a trigger", Trigger::parse)?,
        lapsed_lease: row.flag(9)?,
    })
}

/// Maps the columns of [`JOBS`] and then those of [`EVENTS`].
pub fn job<C: Cells>(row: &C) -> Result<Job, C::Error> {
    let r = Reader::new(row, &JOBS, 0);
    Ok(Job {
        delivery_id: r.id(0)?,
        endpoint_id: r.id(1)?,
        attempt_count: r.count(2)?,
        trigger: r.named(3, "a trigger", Trigger::parse)?,
        ordering_key: r.opt_text(4)?.map(OrderingKey::from_trusted),
        seq: r.int(5)?,
        expires_at: r.opt_time(6)?,
        // Whether a delivery is pulled only decides how it is first written (never due).
        polled: false,
        lease_epoch: r.int(7)?,
        event: Arc::new(event_at(row, JOBS.cols.len())?),
    })
}

pub fn event_type<C: Cells>(row: &C) -> Result<CustomEventType, C::Error> {
    let r = Reader::new(row, &EVENT_TYPES, 0);
    Ok(CustomEventType {
        name: EventTypeName::from_trusted(r.text(0)?),
        family: r.text(1)?,
        description: r.text(2)?,
        schema: r.opt_json(3)?,
        ttl_s: r.opt_count(4)?,
    })
}
