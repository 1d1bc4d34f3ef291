//! This backend's side of row mapping: how to read a cell, the select lists and the list
//! filters. The mapping itself is shared, in `store::rows`.

use sqlx::postgres::PgRow;
use sqlx::{Column, Row, TypeInfo};

pub use crate::store::rows::{app, attempt, delivery, endpoint, event, event_type, job};
use crate::store::rows::{select, Cells, Corrupt, Table, EVENTS};

pub const APP_COLS: &str =
    "id, name, preset, metadata, created_at, updated_at, ingest, enforce_schemas";
pub const ENDPOINT_COLS: &str = "id, app_id, enabled, doc, created_at, updated_at, health";
pub const DELIVERY_COLS: &str = "id, event_id, endpoint_id, status, attempt_count, \
     next_attempt_at, labels::text, created_at, updated_at, expires_at";
pub const ATTEMPT_COLS: &str = "id, number, started_at, duration_ms, status_code, error_kind, \
     response_body, request_headers, trigger, lapsed_lease";

/// The columns of `table` as `alias.col, ...`, JSONB read as text.
pub fn cols(table: &Table, alias: &str) -> String {
    select(table, alias, |c| match c {
        "labels" => "labels::text".to_owned(),
        other => other.to_owned(),
    })
}

/// The event columns as `alias.col, ...`.
pub fn event_cols(alias: &str) -> String {
    cols(&EVENTS, alias)
}

impl Cells for PgRow {
    type Error = sqlx::Error;
    fn opt_text(&self, i: usize) -> sqlx::Result<Option<String>> {
        self.try_get(i)
    }
    fn opt_int(&self, i: usize) -> sqlx::Result<Option<i64>> {
        match self.try_column(i)?.type_info().name() {
            "INT2" => Ok(self.try_get::<Option<i16>, _>(i)?.map(i64::from)),
            "INT4" => Ok(self.try_get::<Option<i32>, _>(i)?.map(i64::from)),
            _ => self.try_get(i),
        }
    }
    fn flag(&self, i: usize) -> sqlx::Result<bool> {
        self.try_get(i)
    }
    fn corrupt(&self, i: usize, corrupt: Corrupt) -> sqlx::Error {
        sqlx::Error::ColumnDecode {
            index: i.to_string(),
            source: Box::new(corrupt),
        }
    }
}

/// Runs a list query built by [`Filter`], mapping each row with `map`.
pub async fn fetch_filtered<T>(
    pool: &sqlx::PgPool,
    sql: &str,
    params: Vec<String>,
    map: fn(&PgRow) -> sqlx::Result<T>,
) -> sqlx::Result<Vec<T>> {
    let mut query = sqlx::query(sql);
    for p in params {
        query = query.bind(p);
    }
    query.fetch_all(pool).await?.iter().map(map).collect()
}
