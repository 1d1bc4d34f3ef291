//! A polling endpoint's poll (see `store::poll`): one transaction that holds the endpoint's
//! row lock, so that polls on any node number its deliveries one after the other.

use sqlx::PgPool;

use super::deliveries::job_cols;
use super::rows::job;
use crate::store::poll::{in_order, Poll, Polled, ACK, ACKED, EXPIRE, NUMBER, SERVED};
use crate::store::{to_ms, StoreResult};

pub async fn poll(pool: &PgPool, poll: &Poll) -> StoreResult<Polled> {
    let ep = poll.endpoint.as_str();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM endpoints WHERE id = $1 FOR UPDATE")
        .bind(ep)
        .execute(&mut *tx)
        .await?;
    if let Some(after) = poll.after {
        let now = to_ms(poll.now);
        let ack = sqlx::query(ACK).bind(ep).bind(after).bind(now);
        ack.execute(&mut *tx).await?;
    }
    let expire = sqlx::query(EXPIRE).bind(ep).bind(to_ms(poll.now));
    expire.execute(&mut *tx).await?;
    sqlx::query(NUMBER).bind(ep).execute(&mut *tx).await?;
    let after = match poll.after {
        Some(after) => after,
        None => {
            sqlx::query_scalar(ACKED)
                .bind(ep)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    let limit = i64::from(poll.limit);
    let served: Vec<(String, i64)> = sqlx::query_as(SERVED)
        .bind(ep)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    let sql = format!(
        "SELECT {} FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.endpoint_id = $1 AND d.poll_number > $2 ORDER BY d.poll_number LIMIT $3",
        job_cols()
    );
    let rows = sqlx::query(&sql)
        .bind(ep)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    let jobs = rows.iter().map(job).collect::<sqlx::Result<Vec<_>>>()?;
    tx.commit().await?;
    Ok(Polled {
        after,
        items: in_order(served, jobs),
    })
}
