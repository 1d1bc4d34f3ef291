//! Row to domain mapping, shared by every query of this backend.

use rusqlite::Row;

use crate::domain::{
    App, AppId, Attempt, AttemptId, Delivery, DeliveryId, DeliveryStatus, Endpoint, EndpointId,
    ErrorKind, Event, EventData, EventId, EventTypeName, IdempotencyKey, Ingest, Preset, Trigger,
};
use crate::store::{from_ms, labels_from, EndpointDoc};

pub const APP_COLS: &str = "id, name, preset, metadata, created_at, updated_at, ingest";
pub const ENDPOINT_COLS: &str = "id, app_id, enabled, doc, created_at, updated_at";
pub const EVENT_COLS: &str =
    "id, app_id, type, data, labels, occurred_at, idempotency_key, created_at, metadata, ordering_key";
pub const DELIVERY_COLS: &str =
    "id, event_id, endpoint_id, status, attempt_count, next_attempt_at, labels, created_at, updated_at";
pub const ATTEMPT_COLS: &str = "id, number, started_at, duration_ms, status_code, error_kind, \
     response_body, request_headers, trigger";

fn json(raw: String) -> serde_json::Value {
    serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null)
}

pub fn app(row: &Row<'_>) -> rusqlite::Result<App> {
    let preset: String = row.get(2)?;
    Ok(App {
        id: AppId::from_trusted(row.get(0)?),
        name: row.get(1)?,
        preset: Preset::parse(&preset).unwrap_or(Preset::None),
        metadata: json(row.get(3)?),
        created_at: from_ms(row.get(4)?),
        updated_at: from_ms(row.get(5)?),
        ingest: Ingest::from_store(&row.get::<_, String>(6)?),
    })
}

pub fn endpoint(row: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let raw: String = row.get(3)?;
    let doc: EndpointDoc = serde_json::from_str(&raw).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(doc.into_endpoint(
        EndpointId::from_trusted(row.get(0)?),
        AppId::from_trusted(row.get(1)?),
        row.get::<_, i64>(2)? != 0,
        from_ms(row.get(4)?),
        from_ms(row.get(5)?),
    ))
}

/// Maps the columns of [`EVENT_COLS`] starting at `at`.
pub fn event_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Event> {
    let key: Option<String> = row.get(at + 6)?;
    Ok(Event {
        id: EventId::from_trusted(row.get(at)?),
        app_id: AppId::from_trusted(row.get(at + 1)?),
        event_type: EventTypeName::from_trusted(row.get(at + 2)?),
        data: EventData::from_trusted(row.get(at + 3)?),
        labels: labels_from(&row.get::<_, String>(at + 4)?),
        occurred_at: from_ms(row.get(at + 5)?),
        idempotency_key: key.map(IdempotencyKey::from_trusted),
        created_at: from_ms(row.get(at + 7)?),
        metadata: row.get::<_, Option<String>>(at + 8)?.map(json),
        ordering_key: row.get(at + 9)?,
    })
}

pub fn event(row: &Row<'_>) -> rusqlite::Result<Event> {
    event_at(row, 0)
}

pub fn delivery(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    let status: String = row.get(3)?;
    let next: Option<i64> = row.get(5)?;
    Ok(Delivery {
        id: DeliveryId::from_trusted(row.get(0)?),
        event_id: EventId::from_trusted(row.get(1)?),
        endpoint_id: EndpointId::from_trusted(row.get(2)?),
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
        attempt_count: row.get(4)?,
        next_attempt_at: next.map(from_ms),
        labels: labels_from(&row.get::<_, String>(6)?),
        created_at: from_ms(row.get(7)?),
        updated_at: from_ms(row.get(8)?),
    })
}

pub fn attempt(row: &Row<'_>) -> rusqlite::Result<Attempt> {
    let kind: Option<String> = row.get(5)?;
    let trigger: String = row.get(8)?;
    Ok(Attempt {
        id: AttemptId::from_trusted(row.get(0)?),
        number: row.get(1)?,
        started_at: from_ms(row.get(2)?),
        duration_ms: row.get::<_, i64>(3)?.max(0) as u64,
        status_code: row.get(4)?,
        error_kind: kind.as_deref().and_then(ErrorKind::parse),
        response_body: row.get(6)?,
        request_headers: json(row.get(7)?),
        trigger: Trigger::parse(&trigger),
    })
}

/// Builds `WHERE` clauses with positional parameters for the list queries.
#[derive(Default)]
pub struct Filter {
    pub clauses: Vec<String>,
    pub params: Vec<rusqlite::types::Value>,
}

impl Filter {
    pub fn eq(&mut self, column: &str, value: impl Into<rusqlite::types::Value>) {
        self.params.push(value.into());
        self.clauses
            .push(format!("{column} = ?{}", self.params.len()));
    }

    /// `labels.<key> = value`; keys were checked by the API, and travel as parameters anyway.
    pub fn label(&mut self, key: &str, value: &str) {
        self.params.push(format!("$.\"{key}\"").into());
        let path = self.params.len();
        self.params.push(value.to_owned().into());
        self.clauses.push(format!(
            "json_extract(labels, ?{path}) = ?{}",
            self.params.len()
        ));
    }

    /// Newest first, strictly before the cursor; returns the `WHERE ... ORDER ... LIMIT` tail.
    pub fn page(mut self, page: &crate::store::Page) -> (String, Vec<rusqlite::types::Value>) {
        if let Some(before) = &page.before {
            self.params.push(before.clone().into());
            self.clauses.push(format!("id < ?{}", self.params.len()));
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
