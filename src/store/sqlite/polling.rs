//! A polling endpoint's poll (see `store::poll`), run by the writer: numbering writes, and
//! the single writer is the lock that keeps two polls from giving out one number twice.

use rusqlite::{params, Connection};

use super::deliveries::jobs_where;
use crate::store::poll::{in_order, sqlite, Poll, Polled, ACK, ACKED, EXPIRE, NUMBER, SERVED};
use crate::store::{to_ms, StoreResult};

pub fn poll(c: &Connection, poll: &Poll) -> StoreResult<Polled> {
    let ep = poll.endpoint.as_str();
    if let Some(after) = poll.after {
        c.prepare_cached(&sqlite(ACK))?
            .execute(params![ep, after, to_ms(poll.now)])?;
    }
    c.prepare_cached(&sqlite(EXPIRE))?
        .execute(params![ep, to_ms(poll.now)])?;
    c.prepare_cached(&sqlite(NUMBER))?.execute([ep])?;
    let after = match poll.after {
        Some(after) => after,
        None => c
            .prepare_cached(&sqlite(ACKED))?
            .query_row([ep], |r| r.get(0))?,
    };
    let limit = i64::from(poll.limit);
    let served: Vec<(String, i64)> = c
        .prepare_cached(&sqlite(SERVED))?
        .query_map(params![ep, after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let jobs = jobs_where(
        c,
        "d.endpoint_id = ?1 AND d.poll_number > ?2 ORDER BY d.poll_number LIMIT ?3",
        &[&ep, &after, &limit],
    )?;
    Ok(Polled {
        after,
        items: in_order(served, jobs),
    })
}
