//! An endpoint's health on PostgreSQL: the row is locked while it is read, changed and
//! written, so processes recording outcomes of one endpoint at once take turns.

use sqlx::PgPool;

use super::rows::{self, ENDPOINT_COLS};
use super::tenants::update_endpoint;
use crate::domain::EndpointId;
use crate::store::health::{apply, stored};
use crate::store::{to_ms, HealthChange, HealthUpdate, StoreError, StoreResult};

pub async fn update_health(
    pool: &PgPool,
    id: &EndpointId,
    change: &HealthChange,
) -> StoreResult<Option<HealthUpdate>> {
    let mut tx = pool.begin().await?;
    let sql = format!("SELECT {ENDPOINT_COLS} FROM endpoints WHERE id = $1 FOR UPDATE");
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let Some(ep) = row.as_ref().map(rows::endpoint).transpose()? else {
        return Ok(None);
    };
    let update = apply(ep, change);
    let ep = &update.endpoint;
    if update.disabled {
        update_endpoint(&mut tx, ep).await?;
    }
    let health = stored(&ep.health).map_err(|e| StoreError::Internal(e.to_string()))?;
    sqlx::query("UPDATE endpoints SET health = $2, paused_until = $3 WHERE id = $1")
        .bind(id.as_str())
        .bind(health)
        .bind(ep.health.paused_until().map(to_ms))
        .execute(&mut *tx)
        .await?;
    // A breaker that closed frees the deliveries it held: tell the other processes.
    let freed = update.before.paused_until().is_some() && ep.health.paused_until().is_none();
    super::commit_notifying(tx, freed).await?;
    Ok(Some(update))
}
