//! The backend under test: a SQLite file per test by default, or, when
//! `HERALD_TEST_DATABASE_URL` names a PostgreSQL server, a database per test created on it
//! and dropped after.

use std::path::Path;
use std::process::Command;

pub struct TestDb {
    pub url: String,
    /// The admin URL and database name to drop, for PostgreSQL.
    pg: Option<(String, String)>,
}

/// The PostgreSQL server to test against, if one was named.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("HERALD_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

pub fn on_postgres() -> bool {
    pg_admin_url().is_some()
}

/// For tests of several processes on one database: whether to run, saying why not.
pub fn needs_postgres() -> bool {
    let on = on_postgres();
    if !on {
        eprintln!("skipped: needs HERALD_TEST_DATABASE_URL=postgres://...");
    }
    on
}

/// Runs `sql` with psql on the database at `url`; answers what it printed.
fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl TestDb {
    /// A fresh, empty database for the test running in `dir`.
    pub fn new(dir: &Path) -> TestDb {
        let Some(admin) = pg_admin_url() else {
            return TestDb {
                url: format!("sqlite://{}", dir.join("herald.db").display()),
                pg: None,
            };
        };
        let base = dir.file_name().and_then(|n| n.to_str()).unwrap_or("herald");
        let name: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        psql(&admin, &format!("CREATE DATABASE \"{name}\""));
        let mut url = url::Url::parse(&admin).expect("HERALD_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        TestDb {
            url: url.to_string(),
            pg: Some((admin, name)),
        }
    }
}

impl TestDb {
    /// Runs `sql` on the database directly, past the store (to plant what the store would
    /// never write).
    pub fn execute(&self, sql: &str) {
        match &self.pg {
            Some(_) => {
                psql(&self.url, sql);
            }
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
                conn.execute_batch(sql).expect("run the SQL");
            }
        }
    }
}

impl TestDb {
    /// The first column of the first row `sql` answers, as text.
    pub fn scalar(&self, sql: &str) -> String {
        match &self.pg {
            Some(_) => psql(&self.url, sql).trim().to_owned(),
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
                conn.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
                    .map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                    .expect("run the query")
            }
        }
    }

    /// The plan the database makes for `sql` with `params` bound, one step per line. On
    /// PostgreSQL full scans, bitmap scans and sorts are priced out first: a test's tables are
    /// so small that reading all of a table and sorting it would win, and what matters is
    /// that an index can serve the query in its order.
    pub fn explain(&self, sql: &str, params: &[String]) -> String {
        match &self.pg {
            Some(_) => {
                let mut sql = sql.to_owned();
                for (i, p) in params.iter().enumerate().rev() {
                    let literal = format!("'{}'", p.replace('\'', "''"));
                    sql = sql.replace(&format!("${}", i + 1), &literal);
                }
                let script = format!(
                    "ANALYZE; SET enable_seqscan = off; SET enable_bitmapscan = off; \
                     SET enable_sort = off; EXPLAIN {sql}"
                );
                psql(&self.url, &script)
            }
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
                let mut stmt = conn
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .expect("plan the query");
                let steps = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| {
                        r.get::<_, String>(3)
                    })
                    .expect("run the plan");
                steps.map(|s| s.expect("a plan step") + "\n").collect()
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            let _ = Command::new("psql")
                .args([
                    admin.as_str(),
                    "-qAtc",
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                ])
                .output();
        }
    }
}
