//! Ledgers and the rooms list on SQLite; the queries and the sums are `store::ledger`'s.

use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::rows::{self, EVENT_COLS};
use crate::domain::{AppId, Event};
use crate::store::filter::Dialect;
use crate::store::ledger::{self, Ledger, Subject, Summary};
use crate::store::StoreResult;

pub fn ledger(c: &Connection, app: &AppId, subject: &Subject) -> StoreResult<Option<Ledger>> {
    let (summary, counts, params) = ledger::queries(Dialect::Sqlite, app, subject);
    let summary: Summary = c
        .prepare_cached(&summary)?
        .query_row(params_from_iter(params.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let mut stmt = c.prepare_cached(&counts)?;
    let rows = stmt
        .query_map(params_from_iter(params.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let first = event(c, summary.1.as_deref())?;
    let last = event(c, summary.2.as_deref())?;
    Ok(ledger::assemble(summary, ledger::tally(rows), first, last))
}

fn event(c: &Connection, id: Option<&str>) -> StoreResult<Option<Event>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let sql = format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id], rows::event)
        .optional()?)
}

pub fn recent_rooms(c: &Connection, app: &AppId, limit: u32) -> StoreResult<Vec<String>> {
    let mut stmt = c.prepare_cached(&ledger::recent_rooms(Dialect::Sqlite, limit))?;
    let rooms = stmt
        .query_map([app.as_str()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rooms)
}
