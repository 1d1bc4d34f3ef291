//! Row to domain mapping, written once for both backends.
//!
//! A backend says only how to read one cell of its rows ([`Cells`]). Everything that turns
//! cells into ids, enums, times and documents lives here, so a stored value that does not
//! parse is refused the same way on both: as [`Corrupt`], naming its table and column. It is
//! never read back as a default, because a default (a `pending` status, the `none` preset, a
//! `null` document) would be acted on as if it were true.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{
    App, Attempt, Delivery, DeliveryStatus, Endpoint, ErrorKind, Event, EventData, EventTypeName,
    IdempotencyKey, Ingest, Labels, PrefixedId, Preset, Trigger,
};
use crate::store::{EndpointDoc, Job};

/// A table's columns in the order every query of both backends selects them.
pub struct Table {
    pub name: &'static str,
    pub cols: &'static [&'static str],
}

pub const APPS: Table = Table {
    name: "apps",
    cols: &[
        "id",
        "name",
        "preset",
        "metadata",
        "created_at",
        "updated_at",
        "ingest",
    ],
};
pub const ENDPOINTS: Table = Table {
    name: "endpoints",
    cols: &["id", "app_id", "enabled", "doc", "created_at", "updated_at"],
};
pub const EVENTS: Table = Table {
    name: "events",
    cols: &[
        "id",
        "app_id",
        "type",
        "data",
        "labels",
        "occurred_at",
        "idempotency_key",
        "created_at",
        "metadata",
        "ordering_key",
    ],
};
pub const DELIVERIES: Table = Table {
    name: "deliveries",
    cols: &[
        "id",
        "event_id",
        "endpoint_id",
        "status",
        "attempt_count",
        "next_attempt_at",
        "labels",
        "created_at",
        "updated_at",
    ],
};
pub const ATTEMPTS: Table = Table {
    name: "attempts",
    cols: &[
        "id",
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "error_kind",
        "response_body",
        "request_headers",
        "trigger",
    ],
};
/// A job's delivery columns; the columns of [`EVENTS`] follow them.
pub const JOBS: Table = Table {
    name: "deliveries",
    cols: &[
        "id",
        "endpoint_id",
        "attempt_count",
        "trigger",
        "ordering_key",
        "seq",
    ],
};

/// A stored value that does not parse as what its column holds.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{table}.{column} holds a value that does not parse: {detail}")]
pub struct Corrupt {
    pub table: &'static str,
    pub column: &'static str,
    pub detail: String,
}

/// How one backend reads the cells of a result row.
pub trait Cells {
    type Error;
    fn opt_text(&self, i: usize) -> Result<Option<String>, Self::Error>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    fn flag(&self, i: usize) -> Result<bool, Self::Error>;
    /// Wraps `corrupt` (found in cell `i`) as the driver's error, so it travels through the
    /// driver's row mapping and comes out as [`crate::store::StoreError::Corrupt`].
    fn corrupt(&self, i: usize, corrupt: Corrupt) -> Self::Error;
}

/// The columns of one table, starting at `at` in a row.
struct Reader<'r, C> {
    cells: &'r C,
    table: &'static Table,
    at: usize,
}

impl<'r, C: Cells> Reader<'r, C> {
    fn new(cells: &'r C, table: &'static Table, at: usize) -> Self {
        Self { cells, table, at }
    }

    fn bad(&self, i: usize, detail: impl std::fmt::Display) -> C::Error {
        let corrupt = Corrupt {
            table: self.table.name,
            column: self.table.cols[i],
            detail: detail.to_string(),
        };
        self.cells.corrupt(self.at + i, corrupt)
    }

    fn text(&self, i: usize) -> Result<String, C::Error> {
        self.opt_text(i)?.ok_or_else(|| self.bad(i, "NULL"))
    }

    fn int(&self, i: usize) -> Result<i64, C::Error> {
        self.cells
            .opt_int(self.at + i)?
            .ok_or_else(|| self.bad(i, "NULL"))
    }

    fn opt_text(&self, i: usize) -> Result<Option<String>, C::Error> {
        self.cells.opt_text(self.at + i)
    }

    fn id<I: PrefixedId>(&self, i: usize) -> Result<I, C::Error> {
        let raw = self.text(i)?;
        I::parse_id(&raw).map_err(|e| self.bad(i, e))
    }

    fn named<T>(&self, i: usize, what: &str, parse: fn(&str) -> Option<T>) -> Result<T, C::Error> {
        let raw = self.text(i)?;
        parse(&raw).ok_or_else(|| self.bad(i, format!("'{}' is not {what}", clip(&raw))))
    }

    fn json(&self, i: usize) -> Result<serde_json::Value, C::Error> {
        let raw = self.text(i)?;
        serde_json::from_str(&raw).map_err(|e| self.bad(i, format!("not JSON ({e})")))
    }

    fn opt_json(&self, i: usize) -> Result<Option<serde_json::Value>, C::Error> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(raw) => serde_json::from_str(&raw)
                .map(Some)
                .map_err(|e| self.bad(i, format!("not JSON ({e})"))),
        }
    }

    fn time(&self, i: usize) -> Result<DateTime<Utc>, C::Error> {
        let ms = self.int(i)?;
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| self.bad(i, format!("{ms} is not a time")))
    }

    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, C::Error> {
        match self.cells.opt_int(self.at + i)? {
            None => Ok(None),
            Some(ms) => DateTime::from_timestamp_millis(ms)
                .map(Some)
                .ok_or_else(|| self.bad(i, format!("{ms} is not a time"))),
        }
    }

    fn count<T: TryFrom<i64>>(&self, i: usize) -> Result<T, C::Error> {
        let n = self.int(i)?;
        T::try_from(n).map_err(|_| self.bad(i, format!("{n} is out of range")))
    }

    fn opt_count<T: TryFrom<i64>>(&self, i: usize) -> Result<Option<T>, C::Error> {
        match self.cells.opt_int(self.at + i)? {
            None => Ok(None),
            Some(n) => T::try_from(n)
                .map(Some)
                .map_err(|_| self.bad(i, format!("{n} is out of range"))),
        }
    }
}

/// A stored value quoted in an error, cut short.
fn clip(raw: &str) -> String {
    raw.chars().take(60).collect()
}

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
    })
}

pub fn endpoint<C: Cells>(row: &C) -> Result<Endpoint, C::Error> {
    let r = Reader::new(row, &ENDPOINTS, 0);
    let doc: EndpointDoc = serde_json::from_str(&r.text(3)?).map_err(|e| r.bad(3, e))?;
    Ok(doc.into_endpoint(r.id(0)?, r.id(1)?, row.flag(2)?, r.time(4)?, r.time(5)?))
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
        ordering_key: r.opt_text(9)?,
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
        ordering_key: r.opt_text(4)?,
        seq: r.int(5)?,
        event: Arc::new(event_at(row, JOBS.cols.len())?),
    })
}

/// The columns of `table` as `alias.col, ...`, with `cast` applied to each name (PostgreSQL
/// reads its JSONB columns as text).
pub fn select(table: &Table, alias: &str, cast: fn(&str) -> String) -> String {
    table
        .cols
        .iter()
        .map(|c| {
            format!(
                "{alias}{}{}",
                if alias.is_empty() { "" } else { "." },
                cast(c)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
