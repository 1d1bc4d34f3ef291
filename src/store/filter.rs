//! The list queries, from `FROM` to `LIMIT`, once for both backends.
//!
//! A support engineer's questions (one room's deliveries, the failed ones, one endpoint's) must
//! be answered from an index at a million events as at ten, so this module decides, for each
//! combination of filters, which index picks the rows: a label through the label table (one
//! row per label of each event, keyed `(app, name, value, event)`), else the event, the
//! endpoint (with the status), the status, or the app alone. Whatever does not pick the rows
//! is checked on each row the index yields. Pages follow the id, newest first, which every
//! one of those indexes ends in; a time range is a range of ids, whose ULIDs begin with the
//! moment they were minted.
//!
//! Deliveries carry their event's labels, so a label picks deliveries through their events:
//! such a list is ordered by event, newest first, then by delivery, and bounded in time by
//! its events' creation (within a millisecond of their deliveries'). Keeping a second label
//! table for deliveries would make every publish write its labels twice over, to pages
//! scattered across the table, for an order that differs only between deliveries of
//! events published at the same moment.
//!
//! Only the spelling differs between the backends (SQLite's `?1` and `json_extract`,
//! PostgreSQL's `$1` and `->>`), and that is the [`Dialect`]. Every value travels as a text
//! parameter.

use chrono::{DateTime, Utc};

use super::{DeliveryQuery, EventQuery, Page};
use crate::domain::{AppId, DeliveryId, DeliveryStatus, EndpointId, EventId};

/// The condition of the status indexes: succeeded deliveries, most of them, are not in
/// them, so a success leaves both instead of moving within them. A query they serve
/// repeats it word for word, which is how both planners see that they hold its rows.
pub const NOT_SUCCEEDED: &str = "status <> 'succeeded'";

/// How a backend spells parameters and label look-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A list query's tables, conditions and their parameters.
pub struct Filter {
    dialect: Dialect,
    from: String,
    /// The column pages follow: the row's id, or the label table's event when a label
    /// picks the rows.
    key: &'static str,
    /// The smallest value of `key` minted at a moment.
    floor: fn(DateTime<Utc>) -> String,
    /// Deliveries picked through their events: ordered by `key`, then by their own id.
    by_event: bool,
    clauses: Vec<String>,
    params: Vec<String>,
}

fn event_floor(at: DateTime<Utc>) -> String {
    EventId::floor(at).to_string()
}

fn delivery_floor(at: DateTime<Utc>) -> String {
    DeliveryId::floor(at).to_string()
}

impl Filter {
    fn table(dialect: Dialect, table: &str, floor: fn(DateTime<Utc>) -> String) -> Self {
        Self {
            dialect,
            from: table.to_owned(),
            key: "id",
            floor,
            by_event: false,
            clauses: Vec::new(),
            params: Vec::new(),
        }
    }

    /// The rows of `table` whose event carries the label `name = value`, read through the
    /// label table in event order; `joined` ties a row to its event (`id` for events,
    /// `event_id` for deliveries). `CROSS JOIN` keeps SQLite from reordering the join; to
    /// PostgreSQL it is a plain join.
    fn labelled(
        dialect: Dialect,
        table: &str,
        joined: &str,
        app: &AppId,
        (name, value): &(String, String),
    ) -> Self {
        let from = format!("event_labels CROSS JOIN {table}");
        let mut f = Self::table(dialect, &from, event_floor);
        f.key = "event";
        f.eq("app", app.as_str());
        f.eq("name", name);
        f.eq("value", value);
        f.clauses.push(format!("{joined} = event"));
        f
    }

    /// The next parameter's placeholder, holding `value`.
    fn param(&mut self, value: String) -> String {
        self.params.push(value);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.params.len()),
            Dialect::Postgres => format!("${}", self.params.len()),
        }
    }

    fn eq(&mut self, column: &str, value: &str) {
        let p = self.param(value.to_owned());
        self.clauses.push(format!("{column} = {p}"));
    }

    /// `column = value`, checked on each row rather than used to pick them: the column is
    /// written as an expression no index covers (SQLite's unary `+`, PostgreSQL's `|| ''`),
    /// so the planner cannot trade the index chosen here for a worse one.
    fn check(&mut self, column: &str, value: &str) {
        match self.dialect {
            Dialect::Sqlite => self.eq(&format!("+{column}"), value),
            Dialect::Postgres => self.eq(&format!("{column} || ''"), value),
        }
    }

    /// `labels.<key> = value` on the row's own label document; the key travels as a
    /// parameter too.
    fn label(&mut self, key: &str, value: &str) {
        let clause = match self.dialect {
            Dialect::Sqlite => {
                let path = self.param(format!("$.\"{key}\""));
                format!(
                    "json_extract(labels, {path}) = {}",
                    self.param(value.to_owned())
                )
            }
            Dialect::Postgres => {
                let key = self.param(key.to_owned());
                format!("labels ->> {key} = {}", self.param(value.to_owned()))
            }
        };
        self.clauses.push(clause);
    }

    fn labels(&mut self, labels: &[(String, String)]) {
        for (k, v) in labels {
            self.label(k, v);
        }
    }

    /// Newest first, within the page's id range and strictly before its cursor: the
    /// `FROM ... LIMIT` tail and its parameters.
    fn page(mut self, page: &Page) -> (String, Vec<String>) {
        let key = self.key;
        if let Some(at) = page.since {
            let p = self.param((self.floor)(at));
            self.clauses.push(format!("{key} >= {p}"));
        }
        if let Some(at) = page.until {
            let p = self.param((self.floor)(at));
            self.clauses.push(format!("{key} < {p}"));
        }
        if let Some(before) = &page.before {
            self.before(before);
        }
        let mut sql = format!(" FROM {}", self.from);
        if !self.clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.clauses.join(" AND "));
        }
        let order = match self.by_event {
            true => format!("{key} DESC, id DESC"),
            false => format!("{key} DESC"),
        };
        sql.push_str(&format!(" ORDER BY {order} LIMIT {}", page.limit.max(1)));
        (sql, self.params)
    }

    /// Strictly after the cursor, the last id of the page before, in page order.
    fn before(&mut self, cursor: &str) {
        let p = self.param(cursor.to_owned());
        if !self.by_event {
            self.clauses.push(format!("{} < {p}", self.key));
            return;
        }
        let event = format!("(SELECT event_id FROM deliveries WHERE id = {p})");
        let key = self.key;
        self.clauses.push(format!("{key} <= {event}"));
        self.clauses.push(format!("({key} < {event} OR id < {p})"));
    }
}

/// A page of apps.
pub fn apps(dialect: Dialect, page: &Page) -> (String, Vec<String>) {
    Filter::table(dialect, "apps", |at| AppId::floor(at).to_string()).page(page)
}

/// A page of an app's endpoints.
pub fn endpoints(dialect: Dialect, app: &AppId, page: &Page) -> (String, Vec<String>) {
    let mut f = Filter::table(dialect, "endpoints", |at| EndpointId::floor(at).to_string());
    f.eq("app_id", app.as_str());
    f.page(page)
}

/// A page of an app's events (`events e`), by type and labels: the first label picks the
/// rows, else the type, else the app.
pub fn events(dialect: Dialect, app: &AppId, q: &EventQuery) -> (String, Vec<String>) {
    let mut f = match q.labels.split_first() {
        Some((first, rest)) => {
            let mut f = Filter::labelled(dialect, "events e", "id", app, first);
            f.labels(rest);
            f.check("app_id", app.as_str());
            f
        }
        None => {
            let mut f = Filter::table(dialect, "events e", event_floor);
            f.eq("app_id", app.as_str());
            f
        }
    };
    if let Some(t) = &q.event_type {
        match q.labels.is_empty() {
            true => f.eq("type", t),
            false => f.check("type", t),
        }
    }
    f.page(&q.page)
}

/// A page of an app's deliveries, by event, endpoint, status and labels. The event picks the
/// rows when given (it has few), else the first label (through the deliveries' events),
/// else the endpoint with the status, else the status, else the app (`succeeded`: checked
/// on the endpoint's or the app's rows, see [`NOT_SUCCEEDED`]).
pub fn deliveries(dialect: Dialect, app: &AppId, q: &DeliveryQuery) -> (String, Vec<String>) {
    let mut f = Filter::table(dialect, "deliveries", delivery_floor);
    let mut labels = q.labels.as_slice();
    if let Some(ev) = &q.event {
        f.eq("event_id", ev.as_str());
    } else if let Some((first, rest)) = labels.split_first() {
        f = Filter::labelled(dialect, "deliveries", "event_id", app, first);
        f.by_event = true;
        labels = rest;
    }
    let picked = q.event.is_some() || labels.len() < q.labels.len();
    let by = |f: &mut Filter, column: &str, value: &str, index: bool| match index {
        true => f.eq(column, value),
        false => f.check(column, value),
    };
    if let Some(ep) = &q.endpoint {
        by(&mut f, "endpoint_id", ep.as_str(), !picked);
    }
    if let Some(status) = q.status {
        let indexed = !picked && status != DeliveryStatus::Succeeded;
        by(&mut f, "status", status.as_str(), indexed);
        f.clauses.extend(indexed.then(|| NOT_SUCCEEDED.to_owned()));
    }
    by(
        &mut f,
        "app_id",
        app.as_str(),
        !picked && q.endpoint.is_none(),
    );
    f.labels(labels);
    f.page(&q.page)
}

/// A room's events in sequence order, those after `after` (the catch-up route), `limit` of
/// them; served by `events_sequence`.
pub fn room_events(
    dialect: Dialect,
    app: &AppId,
    room: &str,
    after: i64,
    limit: u32,
) -> (String, Vec<String>) {
    let (p, int) = match dialect {
        Dialect::Sqlite => ("?", ""),
        Dialect::Postgres => ("$", "::bigint"),
    };
    let tail = format!(
        " FROM events e WHERE e.app_id = {p}1 AND e.sequence_key = {p}2 \
         AND e.sequence > {p}3{int} ORDER BY e.sequence LIMIT {limit}"
    );
    (
        tail,
        vec![app.as_str().to_owned(), room.to_owned(), after.to_string()],
    )
}

/// What an app owns, deleted with it (attempts first, through their deliveries), with the
/// column naming the app in each.
pub const APP_OWNED: [(&str, &str); 7] = [
    ("event_labels", "app"),
    ("sequences", "app"),
    ("deliveries", "app_id"),
    ("events", "app_id"),
    ("endpoints", "app_id"),
    ("event_types", "app_id"),
    ("api_keys", "app_id"),
];

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
