//! Row to domain mapping and the list filters, for every query of this backend.

use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::domain::{
    App, AppId, Attempt, AttemptId, Delivery, DeliveryId, DeliveryStatus, Endpoint, EndpointId,
    ErrorKind, Event, EventData, EventId, EventTypeName, IdempotencyKey, Ingest, Preset, Trigger,
};
use crate::store::{from_ms, labels_from, EndpointDoc, Page};

pub const APP_COLS: &str = "id, name, preset, metadata, created_at, updated_at, ingest";
pub const ENDPOINT_COLS: &str = "id, app_id, enabled, doc, created_at, updated_at";
/// Selected with a table alias prefix, so joins can reuse them.
pub const EVENT_COLS: [&str; 10] = [
    "id",
    "app_id",
    "type",
    "data",
    "labels::text",
    "occurred_at",
    "idempotency_key",
    "created_at",
    "metadata",
    "ordering_key",
];
pub const DELIVERY_COLS: &str = "id, event_id, endpoint_id, status, attempt_count, \
     next_attempt_at, labels::text, created_at, updated_at";
pub const ATTEMPT_COLS: &str = "id, number, started_at, duration_ms, status_code, error_kind, \
     response_body, request_headers, trigger";

/// The event columns as `alias.col, ...`.
pub fn event_cols(alias: &str) -> String {
    EVENT_COLS
        .iter()
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn json(raw: String) -> serde_json::Value {
    serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null)
}

pub fn app(row: &PgRow) -> sqlx::Result<App> {
    let preset: String = row.try_get(2)?;
    Ok(App {
        id: AppId::from_trusted(row.try_get(0)?),
        name: row.try_get(1)?,
        preset: Preset::parse(&preset).unwrap_or(Preset::None),
        metadata: json(row.try_get(3)?),
        created_at: from_ms(row.try_get(4)?),
        updated_at: from_ms(row.try_get(5)?),
        ingest: Ingest::from_store(&row.try_get::<String, _>(6)?),
    })
}

pub fn endpoint(row: &PgRow) -> sqlx::Result<Endpoint> {
    let raw: String = row.try_get(3)?;
    let doc: EndpointDoc =
        serde_json::from_str(&raw).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(doc.into_endpoint(
        EndpointId::from_trusted(row.try_get(0)?),
        AppId::from_trusted(row.try_get(1)?),
        row.try_get(2)?,
        from_ms(row.try_get(4)?),
        from_ms(row.try_get(5)?),
    ))
}

/// Maps the columns of [`EVENT_COLS`] starting at `at`.
pub fn event_at(row: &PgRow, at: usize) -> sqlx::Result<Event> {
    let key: Option<String> = row.try_get(at + 6)?;
    Ok(Event {
        id: EventId::from_trusted(row.try_get(at)?),
        app_id: AppId::from_trusted(row.try_get(at + 1)?),
        event_type: EventTypeName::from_trusted(row.try_get(at + 2)?),
        data: EventData::from_trusted(row.try_get(at + 3)?),
        labels: labels_from(&row.try_get::<String, _>(at + 4)?),
        occurred_at: from_ms(row.try_get(at + 5)?),
        idempotency_key: key.map(IdempotencyKey::from_trusted),
        created_at: from_ms(row.try_get(at + 7)?),
        metadata: row.try_get::<Option<String>, _>(at + 8)?.map(json),
        ordering_key: row.try_get(at + 9)?,
    })
}

pub fn event(row: &PgRow) -> sqlx::Result<Event> {
    event_at(row, 0)
}

pub fn delivery(row: &PgRow) -> sqlx::Result<Delivery> {
    let status: String = row.try_get(3)?;
    let next: Option<i64> = row.try_get(5)?;
    Ok(Delivery {
        id: DeliveryId::from_trusted(row.try_get(0)?),
        event_id: EventId::from_trusted(row.try_get(1)?),
        endpoint_id: EndpointId::from_trusted(row.try_get(2)?),
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
        attempt_count: row.try_get::<i32, _>(4)?.max(0) as u32,
        next_attempt_at: next.map(from_ms),
        labels: labels_from(&row.try_get::<String, _>(6)?),
        created_at: from_ms(row.try_get(7)?),
        updated_at: from_ms(row.try_get(8)?),
    })
}

pub fn attempt(row: &PgRow) -> sqlx::Result<Attempt> {
    let kind: Option<String> = row.try_get(5)?;
    let trigger: String = row.try_get(8)?;
    Ok(Attempt {
        id: AttemptId::from_trusted(row.try_get(0)?),
        number: row.try_get::<i32, _>(1)?.max(0) as u32,
        started_at: from_ms(row.try_get(2)?),
        duration_ms: row.try_get::<i64, _>(3)?.max(0) as u64,
        status_code: row
            .try_get::<Option<i32>, _>(4)?
            .map(|c| c.clamp(0, 999) as u16),
        error_kind: kind.as_deref().and_then(ErrorKind::parse),
        response_body: row.try_get(6)?,
        request_headers: json(row.try_get(7)?),
        trigger: Trigger::parse(&trigger),
    })
}

/// Builds `WHERE` clauses with `$n` parameters (all text) for the list queries.
#[derive(Default)]
pub struct Filter {
    clauses: Vec<String>,
    pub params: Vec<String>,
}

impl Filter {
    pub fn eq(&mut self, column: &str, value: impl Into<String>) {
        self.params.push(value.into());
        self.clauses
            .push(format!("{column} = ${}", self.params.len()));
    }

    /// `labels.<key> = value`, both as parameters.
    pub fn label(&mut self, key: &str, value: &str) {
        self.params.push(key.to_owned());
        self.params.push(value.to_owned());
        let n = self.params.len();
        self.clauses.push(format!("labels ->> ${} = ${n}", n - 1));
    }

    /// Newest first, strictly before the cursor; returns the `WHERE ... ORDER ... LIMIT` tail.
    pub fn page(mut self, page: &Page) -> (String, Vec<String>) {
        if let Some(before) = &page.before {
            self.params.push(before.clone());
            self.clauses.push(format!("id < ${}", self.params.len()));
        }
        let mut sql = String::new();
        if !self.clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.clauses.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", page.limit.max(1)));
        (sql, self.params)
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
