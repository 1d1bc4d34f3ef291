//! Retention on SQLite: one batch of a purge pass (see `store::upkeep`), and the space it
//! frees given back to the file system.
//!
//! The writer thread runs a batch inside its group transaction, so nothing else writes
//! between the check for a pending delivery and the delete.

use rusqlite::{params, Connection};

use crate::domain::{AttemptId, EventId};
use crate::store::{Purge, Purged, StoreResult};

/// Most free pages given back to the file system after one batch.
const VACUUM_PAGES: u32 = 256;

/// Free pages are given back only while more than this share (1/n) of the file is free.
/// Under retention at a steady rate the pages one batch frees are the ones the next
/// minutes' rows fill, and giving them back would move the newest pages, those at the end
/// of the file, into the holes for nothing: a vacuum step dirties every page it moves and
/// their parents. The file shrinks when the data has shrunk for good.
const FREE_SHARE: i64 = 4;

pub fn purge(c: &Connection, p: &Purge) -> StoreResult<Purged> {
    let mut out = Purged::default();
    purge_events(c, p, &mut out)?;
    blank_bodies(c, p, &mut out)?;
    if out.events + out.bodies > 0 && mostly_free(c)? {
        c.execute_batch(&format!("PRAGMA incremental_vacuum({VACUUM_PAGES})"))?;
    }
    Ok(out)
}

/// Whether more than [`FREE_SHARE`] of the file's pages are free (two reads of the header).
fn mostly_free(c: &Connection) -> StoreResult<bool> {
    let free: i64 = c.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    Ok(free * FREE_SHARE > pages)
}

fn purge_events(c: &Connection, p: &Purge, out: &mut Purged) -> StoreResult<()> {
    let after = p.events_after.as_ref().map_or("", |id| id.as_str());
    let old: Vec<(String, bool)> = c
        .prepare_cached(
            "SELECT e.id, EXISTS (SELECT 1 FROM deliveries d \
               WHERE d.event_id = e.id AND d.status = 'pending') \
             FROM events e WHERE e.id > ?1 AND e.id < ?2 ORDER BY e.id LIMIT ?3",
        )?
        .query_map(params![after, p.events_before.as_str(), p.batch], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    out.events_scanned = old.len() as u32;
    out.events_cursor = old.last().map(|(id, _)| EventId::from_trusted(id.clone()));
    let mut attempts = c.prepare_cached(
        "DELETE FROM attempts WHERE delivery_id IN \
         (SELECT id FROM deliveries WHERE event_id = ?1)",
    )?;
    let mut labels = c.prepare_cached(
        "DELETE FROM event_labels WHERE (app, name, value, event) IN \
         (SELECT e.app_id, l.key, l.value, e.id FROM events e, json_each(e.labels) l \
          WHERE e.id = ?1)",
    )?;
    let mut deliveries = c.prepare_cached("DELETE FROM deliveries WHERE event_id = ?1")?;
    let mut events = c.prepare_cached("DELETE FROM events WHERE id = ?1")?;
    for (id, _) in old.iter().filter(|(_, pending)| !pending) {
        out.attempts += attempts.execute([id])? as u64;
        labels.execute([id])?;
        out.deliveries += deliveries.execute([id])? as u64;
        out.events += events.execute([id])? as u64;
    }
    Ok(())
}

fn blank_bodies(c: &Connection, p: &Purge, out: &mut Purged) -> StoreResult<()> {
    let after = p.bodies_after.as_ref().map_or("", |id| id.as_str());
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT id FROM attempts WHERE id > ?1 AND id < ?2 AND response_body <> '' \
             ORDER BY id LIMIT ?3",
        )?
        .query_map(params![after, p.bodies_before.as_str(), p.batch], |r| {
            r.get(0)
        })?
        .collect::<Result<_, _>>()?;
    out.bodies_scanned = ids.len() as u32;
    out.bodies_cursor = ids.last().map(|id| AttemptId::from_trusted(id.clone()));
    let mut blank = c.prepare_cached("UPDATE attempts SET response_body = '' WHERE id = ?1")?;
    for id in &ids {
        out.bodies += blank.execute([id])? as u64;
    }
    Ok(())
}
