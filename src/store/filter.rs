//! The list queries, from `FROM` to `LIMIT`, once for both backends.
//!
//! A support engineer's questions (one room's deliveries, the failed ones, one endpoint's) must
//! be answered from an index at a million events as at ten, so this module decides, for each
//! combination of filters, which index picks the rows: a label through the label tables (one
//! row per label of each event and delivery, keyed `(app, name, value, id)`), else the event,
//! the endpoint (with the status), the status, or the app alone. Whatever does not pick the
//! rows is checked on each row the index yields. Pages follow the id, newest first, which
//! every one of those indexes ends in; a time range is a range of ids, whose ULIDs begin with
//! the moment they were minted.
//!
//! Only the spelling differs between the backends (SQLite's `?1` and `json_extract`,
//! PostgreSQL's `$1` and `->>`), and that is the [`Dialect`]. Every value travels as a text
//! parameter.

use super::{DeliveryQuery, EventQuery, Page};
use crate::domain::AppId;

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
    /// The column pages follow: the row's id, or the label table's copy of it when a label
    /// picks the rows.
    key: &'static str,
    clauses: Vec<String>,
    params: Vec<String>,
}

impl Filter {
    fn table(dialect: Dialect, table: &str) -> Self {
        Self {
            dialect,
            from: table.to_owned(),
            key: "id",
            clauses: Vec::new(),
            params: Vec::new(),
        }
    }

    /// The rows of `table` carrying the label `name = value`, read through `labels` in
    /// `key` order. `CROSS JOIN` keeps SQLite from reordering the join; to PostgreSQL it is
    /// a plain join.
    fn labelled(
        dialect: Dialect,
        table: &str,
        labels: &str,
        key: &'static str,
        app: &AppId,
        (name, value): &(String, String),
    ) -> Self {
        let mut f = Self::table(dialect, &format!("{labels} CROSS JOIN {table}"));
        f.key = key;
        f.eq("app", app.as_str());
        f.eq("name", name);
        f.eq("value", value);
        f.clauses.push(format!("id = {key}"));
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
        if let Some(since) = &page.since {
            let p = self.param(since.clone());
            self.clauses.push(format!("{key} >= {p}"));
        }
        for below in [&page.until, &page.before].into_iter().flatten() {
            let p = self.param(below.clone());
            self.clauses.push(format!("{key} < {p}"));
        }
        let mut sql = format!(" FROM {}", self.from);
        if !self.clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.clauses.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY {key} DESC LIMIT {}", page.limit.max(1)));
        (sql, self.params)
    }
}

/// A page of apps.
pub fn apps(dialect: Dialect, page: &Page) -> (String, Vec<String>) {
    Filter::table(dialect, "apps").page(page)
}

/// A page of an app's endpoints.
pub fn endpoints(dialect: Dialect, app: &AppId, page: &Page) -> (String, Vec<String>) {
    let mut f = Filter::table(dialect, "endpoints");
    f.eq("app_id", app.as_str());
    f.page(page)
}

/// A page of an app's events (`events e`), by type and labels: the first label picks the
/// rows, else the type, else the app.
pub fn events(dialect: Dialect, app: &AppId, q: &EventQuery) -> (String, Vec<String>) {
    let mut f = match q.labels.split_first() {
        Some((first, rest)) => {
            let mut f =
                Filter::labelled(dialect, "events e", "event_labels", "event_id", app, first);
            f.labels(rest);
            f.check("app_id", app.as_str());
            f
        }
        None => {
            let mut f = Filter::table(dialect, "events e");
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
/// rows when given (it has few), else the first label, else the endpoint with the status,
/// else the status, else the app.
pub fn deliveries(dialect: Dialect, app: &AppId, q: &DeliveryQuery) -> (String, Vec<String>) {
    let mut f = Filter::table(dialect, "deliveries");
    let mut labels = q.labels.as_slice();
    if let Some(ev) = &q.event {
        f.eq("event_id", ev.as_str());
    } else if let Some((first, rest)) = labels.split_first() {
        f = Filter::labelled(
            dialect,
            "deliveries",
            "delivery_labels",
            "delivery_id",
            app,
            first,
        );
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
        by(&mut f, "status", status.as_str(), !picked);
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

/// What an app owns, deleted with it (attempts first, through their deliveries), with the
/// column naming the app in each.
pub const APP_OWNED: [(&str, &str); 7] = [
    ("delivery_labels", "app"),
    ("event_labels", "app"),
    ("deliveries", "app_id"),
    ("events", "app_id"),
    ("endpoints", "app_id"),
    ("event_types", "app_id"),
    ("api_keys", "app_id"),
];

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
