//! This backend's side of row mapping: how to read a cell, and the select lists. The mapping
//! itself is shared, in `store::rows`.

use rusqlite::types::Type;
use rusqlite::Row;

use crate::domain::{App, Attempt, Delivery, Endpoint, Event, Job};
use crate::store::rows::{self, Cells, Corrupt};

pub const APP_COLS: &str =
    "id, name, preset, metadata, created_at, updated_at, ingest, enforce_schemas";
pub const ENDPOINT_COLS: &str = "id, app_id, enabled, doc, created_at, updated_at, health";
pub const EVENT_COLS: &str =
    "id, app_id, type, data, labels, occurred_at, idempotency_key, created_at, metadata, ordering_key, sequence";
pub const DELIVERY_COLS: &str =
    "id, event_id, endpoint_id, status, attempt_count, next_attempt_at, labels, created_at, updated_at, expires_at";
pub const ATTEMPT_COLS: &str = "id, number, started_at, duration_ms, status_code, error_kind, \
     response_body, request_headers, trigger, lapsed_lease";

// rusqlite's row callbacks take a row of any lifetime, which the generic mappers cannot be
// named as; these pin them to rusqlite's rows.
pub fn app(r: &Row<'_>) -> rusqlite::Result<App> {
    rows::app(r)
}
pub fn endpoint(r: &Row<'_>) -> rusqlite::Result<Endpoint> {
    rows::endpoint(r)
}
pub fn event(r: &Row<'_>) -> rusqlite::Result<Event> {
    rows::event(r)
}
pub fn delivery(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    rows::delivery(r)
}
pub fn attempt(r: &Row<'_>) -> rusqlite::Result<Attempt> {
    rows::attempt(r)
}
pub fn job(r: &Row<'_>) -> rusqlite::Result<Job> {
    rows::job(r)
}
pub fn event_type(r: &Row<'_>) -> rusqlite::Result<crate::store::CustomEventType> {
    rows::event_type(r)
}

impl Cells for Row<'_> {
    type Error = rusqlite::Error;
    fn opt_text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.get(i)
    }
    fn opt_int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }
    fn flag(&self, i: usize) -> rusqlite::Result<bool> {
        Ok(self.get::<_, i64>(i)? != 0)
    }
    fn corrupt(&self, i: usize, corrupt: Corrupt) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(corrupt))
    }
}
