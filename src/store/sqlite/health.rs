//! An endpoint's health on SQLite: read, changed and written inside the writer's transaction.

use rusqlite::{params, Connection};

use super::tenants::{get_endpoint, update_endpoint};
use crate::domain::EndpointId;
use crate::store::health::{apply, stored};
use crate::store::{to_ms, HealthChange, HealthUpdate, StoreError, StoreResult};

pub fn update_health(
    c: &Connection,
    id: &EndpointId,
    change: &HealthChange,
) -> StoreResult<Option<HealthUpdate>> {
    let Some(ep) = get_endpoint(c, id)? else {
        return Ok(None);
    };
    let update = apply(ep, change);
    let ep = &update.endpoint;
    if update.disabled {
        update_endpoint(c, ep)?;
    }
    let health = stored(&ep.health).map_err(|e| StoreError::Internal(e.to_string()))?;
    c.prepare_cached("UPDATE endpoints SET health = ?2, paused_until = ?3 WHERE id = ?1")?
        .execute(params![
            id.as_str(),
            health,
            ep.health.paused_until().map(to_ms)
        ])?;
    Ok(Some(update))
}
