//! The list queries' `WHERE ... ORDER BY ... LIMIT` tails, once for both backends.
//!
//! Which columns each list filters on, and how a page is cut, are the same everywhere; only
//! the spelling differs (SQLite's `?1` and `json_extract`, PostgreSQL's `$1` and `->>`), and
//! that is the [`Dialect`]. Every value travels as a text parameter.

use super::{DeliveryQuery, EventQuery, Page};
use crate::domain::AppId;

/// How a backend spells parameters and label look-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A list query's conditions and their parameters.
pub struct Filter {
    dialect: Dialect,
    clauses: Vec<String>,
    params: Vec<String>,
}

impl Filter {
    fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            clauses: Vec::new(),
            params: Vec::new(),
        }
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

    /// `labels.<key> = value`; the key travels as a parameter too.
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

    /// Newest first, strictly before the cursor: the `WHERE ... ORDER ... LIMIT` tail and
    /// its parameters.
    fn page(mut self, page: &Page) -> (String, Vec<String>) {
        if let Some(before) = &page.before {
            let p = self.param(before.clone());
            self.clauses.push(format!("id < {p}"));
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

/// A page of apps.
pub fn apps(dialect: Dialect, page: &Page) -> (String, Vec<String>) {
    Filter::new(dialect).page(page)
}

/// A page of an app's endpoints.
pub fn endpoints(dialect: Dialect, app: &AppId, page: &Page) -> (String, Vec<String>) {
    let mut f = Filter::new(dialect);
    f.eq("app_id", app.as_str());
    f.page(page)
}

/// A page of an app's events, by type and labels.
pub fn events(dialect: Dialect, app: &AppId, q: &EventQuery) -> (String, Vec<String>) {
    let mut f = Filter::new(dialect);
    f.eq("app_id", app.as_str());
    if let Some(t) = &q.event_type {
        f.eq("type", t);
    }
    f.labels(&q.labels);
    f.page(&q.page)
}

/// A page of an app's deliveries, by endpoint, event, status and labels.
pub fn deliveries(dialect: Dialect, app: &AppId, q: &DeliveryQuery) -> (String, Vec<String>) {
    let mut f = Filter::new(dialect);
    f.eq("app_id", app.as_str());
    if let Some(ep) = &q.endpoint {
        f.eq("endpoint_id", ep.as_str());
    }
    if let Some(ev) = &q.event {
        f.eq("event_id", ev.as_str());
    }
    if let Some(status) = q.status {
        f.eq("status", status.as_str());
    }
    f.labels(&q.labels);
    f.page(&q.page)
}

/// What an app owns, deleted with it (attempts first, through their deliveries).
pub const APP_OWNED: [&str; 5] = [
    "deliveries",
    "events",
    "endpoints",
    "event_types",
    "api_keys",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_filter_the_same_columns() {
        let app = AppId::new();
        let q = DeliveryQuery {
            labels: vec![("room_id".into(), "r1".into())],
            page: Page {
                limit: 11,
                before: Some("dlv_x".into()),
            },
            ..DeliveryQuery::default()
        };
        let (lite, lite_params) = deliveries(Dialect::Sqlite, &app, &q);
        assert_eq!(
            lite,
            " WHERE app_id = ?1 AND json_extract(labels, ?2) = ?3 AND id < ?4 ORDER BY id DESC LIMIT 11"
        );
        assert_eq!(lite_params[1], "$.\"room_id\"");
        let (pg, pg_params) = deliveries(Dialect::Postgres, &app, &q);
        assert_eq!(
            pg,
            " WHERE app_id = $1 AND labels ->> $2 = $3 AND id < $4 ORDER BY id DESC LIMIT 11"
        );
        assert_eq!(pg_params[1], "room_id");
    }
}
