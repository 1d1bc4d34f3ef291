//! How a row is read: the tables' column lists, the one trait each backend implements to
//! read a cell ([`Cells`]), and the reader that turns cells into typed values or refuses
//! them as [`Corrupt`], naming table and column.

use chrono::{DateTime, Utc};

use crate::domain::PrefixedId;

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
        "enforce_schemas",
    ],
};
pub const ENDPOINTS: Table = Table {
    name: "endpoints",
    cols: &[
        "id",
        "app_id",
        "enabled",
        "doc",
        "created_at",
        "updated_at",
        "health",
    ],
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
        "sequence",
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
        "expires_at",
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
        "lapsed_lease",
    ],
};
pub const EVENT_TYPES: Table = Table {
    name: "event_types",
    cols: &["name", "family", "description", "schema", "ttl_s"],
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
        "expires_at",
        "lease_epoch",
    ],
};

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
pub(super) struct Reader<'r, C> {
    cells: &'r C,
    table: &'static Table,
    at: usize,
}

impl<'r, C: Cells> Reader<'r, C> {
    pub(super) fn new(cells: &'r C, table: &'static Table, at: usize) -> Self {
        Self { cells, table, at }
    }

    pub(super) fn bad(&self, i: usize, detail: impl std::fmt::Display) -> C::Error {
        let corrupt = Corrupt {
            table: self.table.name,
            column: self.table.cols[i],
            detail: detail.to_string(),
        };
        self.cells.corrupt(self.at + i, corrupt)
    }

    pub(super) fn text(&self, i: usize) -> Result<String, C::Error> {
        self.opt_text(i)?.ok_or_else(|| self.bad(i, "NULL"))
    }

    pub(super) fn int(&self, i: usize) -> Result<i64, C::Error> {
        self.cells
            .opt_int(self.at + i)?
            .ok_or_else(|| self.bad(i, "NULL"))
    }

    pub(super) fn opt_text(&self, i: usize) -> Result<Option<String>, C::Error> {
        self.cells.opt_text(self.at + i)
    }

    pub(super) fn id<I: PrefixedId>(&self, i: usize) -> Result<I, C::Error> {
        let raw = self.text(i)?;
        I::parse_id(&raw).map_err(|e| self.bad(i, e))
    }

    pub(super) fn named<T>(
        &self,
        i: usize,
        what: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<T, C::Error> {
        let raw = self.text(i)?;
        parse(&raw).ok_or_else(|| self.bad(i, format!("'{}' is not {what}", clip(&raw))))
    }

    pub(super) fn json(&self, i: usize) -> Result<serde_json::Value, C::Error> {
        self.json_of(i, self.text(i)?)
    }

    pub(super) fn opt_json(&self, i: usize) -> Result<Option<serde_json::Value>, C::Error> {
        self.opt_text(i)?
            .map(|raw| self.json_of(i, raw))
            .transpose()
    }

    pub(super) fn time(&self, i: usize) -> Result<DateTime<Utc>, C::Error> {
        self.time_of(i, self.int(i)?)
    }

    pub(super) fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, C::Error> {
        let ms = self.cells.opt_int(self.at + i)?;
        ms.map(|ms| self.time_of(i, ms)).transpose()
    }

    pub(super) fn count<T: TryFrom<i64>>(&self, i: usize) -> Result<T, C::Error> {
        self.count_of(i, self.int(i)?)
    }

    pub(super) fn opt_count<T: TryFrom<i64>>(&self, i: usize) -> Result<Option<T>, C::Error> {
        let n = self.cells.opt_int(self.at + i)?;
        n.map(|n| self.count_of(i, n)).transpose()
    }

    fn json_of(&self, i: usize, raw: String) -> Result<serde_json::Value, C::Error> {
        serde_json::from_str(&raw).map_err(|e| self.bad(i, format!("not JSON ({e})")))
    }

    fn time_of(&self, i: usize, ms: i64) -> Result<DateTime<Utc>, C::Error> {
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| self.bad(i, format!("{ms} is not a time")))
    }

    fn count_of<T: TryFrom<i64>>(&self, i: usize, n: i64) -> Result<T, C::Error> {
        T::try_from(n).map_err(|_| self.bad(i, format!("{n} is out of range")))
    }
}

/// A stored value quoted in an error, cut short.
pub(super) fn clip(raw: &str) -> String {
    raw.chars().take(60).collect()
}
