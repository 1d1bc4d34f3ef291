//! Ledgers and the rooms list on PostgreSQL; the queries and the sums are `store::ledger`'s.

use sqlx::PgPool;

use super::rows::{self, event_cols};
use crate::domain::{AppId, Event};
use crate::store::filter::Dialect;
use crate::store::ledger::{self, Ledger, Subject, Summary};
use crate::store::StoreResult;

pub async fn ledger(pool: &PgPool, app: &AppId, subject: &Subject) -> StoreResult<Option<Ledger>> {
    let (summary, counts, [app_id, value]) = ledger::queries(Dialect::Postgres, app, subject);
    let summary: Summary = sqlx::query_as(&summary)
        .bind(&app_id)
        .bind(&value)
        .fetch_one(pool)
        .await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(&counts)
        .bind(&app_id)
        .bind(&value)
        .fetch_all(pool)
        .await?;
    let first = event(pool, summary.1.as_deref()).await?;
    let last = event(pool, summary.2.as_deref()).await?;
    Ok(ledger::assemble(summary, ledger::tally(rows), first, last))
}

async fn event(pool: &PgPool, id: Option<&str>) -> StoreResult<Option<Event>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let sql = format!("SELECT {} FROM events e WHERE e.id = $1", event_cols("e"));
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
    Ok(row.as_ref().map(rows::event).transpose()?)
}

pub async fn recent_rooms(pool: &PgPool, app: &AppId, limit: u32) -> StoreResult<Vec<String>> {
    let sql = ledger::recent_rooms(Dialect::Postgres, limit);
    Ok(sqlx::query_scalar(&sql)
        .bind(app.as_str())
        .fetch_all(pool)
        .await?)
}
