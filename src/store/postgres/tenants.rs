//! Apps, keys, custom event types and endpoints: the slowly changing configuration.

use sqlx::{PgConnection, PgPool, Row};

use super::rows::{self, fetch_filtered, APP_COLS, ENDPOINT_COLS};
use crate::domain::{App, AppId, Endpoint, EndpointId, KeyId};
use crate::store::filter::{self, Dialect, APP_OWNED};
use crate::store::{
    from_ms, to_ms, ApiKey, CustomEventType, EndpointDoc, Page, StoreError, StoreResult,
};

pub async fn meta_get(pool: &PgPool, key: &str) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

pub async fn meta_init(pool: &PgPool, key: &str, value: &str) -> StoreResult<String> {
    let inserted =
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(pool)
            .await?;
    if inserted.rows_affected() == 1 {
        return Ok(value.to_owned());
    }
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_one(pool)
        .await?)
}

pub async fn meta_put(pool: &PgPool, key: &str, value: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn insert_app(pool: &PgPool, app: &App) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO apps ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(app.id.as_str())
    .bind(&app.name)
    .bind(app.preset.as_str())
    .bind(app.metadata.to_string())
    .bind(to_ms(app.created_at))
    .bind(to_ms(app.updated_at))
    .bind(app.ingest.to_store())
    .bind(app.enforce_schemas)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn update_app(pool: &PgPool, app: &App) -> StoreResult<()> {
    sqlx::query(
        "UPDATE apps SET name = $2, metadata = $3, updated_at = $4, ingest = $5, \
         enforce_schemas = $6 WHERE id = $1",
    )
    .bind(app.id.as_str())
    .bind(&app.name)
    .bind(app.metadata.to_string())
    .bind(to_ms(app.updated_at))
    .bind(app.ingest.to_store())
    .bind(app.enforce_schemas)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_app(pool: &PgPool, id: &AppId) -> StoreResult<Option<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(rows::app).transpose()?)
}

pub async fn list_apps(pool: &PgPool, page: &Page) -> StoreResult<Vec<App>> {
    let (tail, params) = filter::apps(Dialect::Postgres, page);
    let sql = format!("SELECT {APP_COLS}{tail}");
    Ok(fetch_filtered(pool, &sql, params, rows::app).await?)
}

pub async fn delete_app(pool: &PgPool, id: &AppId) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE app_id = $1)",
    )
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    for (table, column) in APP_OWNED {
        sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1"))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let n = sqlx::query("DELETE FROM apps WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n > 0)
}

pub async fn insert_key(pool: &PgPool, key: &ApiKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, app_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key.id.as_str())
    .bind(key.app_id.as_str())
    .bind(&key.name)
    .bind(&key.token_hash)
    .bind(to_ms(key.created_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn find_key(pool: &PgPool, token_hash: &str) -> StoreResult<Option<ApiKey>> {
    let row = sqlx::query(
        "SELECT id, app_id, name, token_hash, created_at FROM api_keys WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(key_row).transpose()
}

fn key_row(r: &sqlx::postgres::PgRow) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: KeyId::from_trusted(r.try_get(0)?),
        app_id: AppId::from_trusted(r.try_get(1)?),
        name: r.try_get(2)?,
        token_hash: r.try_get(3)?,
        created_at: from_ms(r.try_get(4)?),
    })
}

/// The app's keys, oldest first.
pub async fn list_keys(pool: &PgPool, app: &AppId) -> StoreResult<Vec<ApiKey>> {
    let rows = sqlx::query(
        "SELECT id, app_id, name, token_hash, created_at FROM api_keys WHERE app_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(app.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_row).collect()
}

pub async fn delete_key(pool: &PgPool, app: &AppId, id: &KeyId) -> StoreResult<bool> {
    let n = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND app_id = $2")
        .bind(id.as_str())
        .bind(app.as_str())
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n > 0)
}

pub async fn insert_event_type(
    pool: &PgPool,
    app: &AppId,
    def: &CustomEventType,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO event_types (app_id, name, family, description, schema, ttl_s) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(app.as_str())
    .bind(def.name.as_str())
    .bind(&def.family)
    .bind(&def.description)
    .bind(def.schema.as_ref().map(|s| s.to_string()))
    .bind(def.ttl_s.map(|t| t as i32))
    .execute(pool)
    .await
    .map_err(|e| {
        StoreError::from(e)
            .conflict_as(|| format!("event type '{}' already exists", def.name.as_str()))
    })?;
    Ok(())
}

pub async fn list_event_types(pool: &PgPool, app: &AppId) -> StoreResult<Vec<CustomEventType>> {
    let found = sqlx::query(
        "SELECT name, family, description, schema, ttl_s FROM event_types WHERE app_id = $1 ORDER BY name",
    )
    .bind(app.as_str())
    .fetch_all(pool)
    .await?;
    Ok(found
        .iter()
        .map(rows::event_type)
        .collect::<sqlx::Result<_>>()?)
}

fn doc_json(ep: &Endpoint) -> StoreResult<String> {
    serde_json::to_string(&EndpointDoc::from_endpoint(ep))
        .map_err(|e| StoreError::Internal(e.to_string()))
}

pub async fn insert_endpoint(pool: &PgPool, ep: &Endpoint) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO endpoints ({ENDPOINT_COLS}, verified) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)"
    ))
    .bind(ep.id.as_str())
    .bind(ep.app_id.as_str())
    .bind(ep.enabled)
    .bind(doc_json(ep)?)
    .bind(to_ms(ep.created_at))
    .bind(to_ms(ep.updated_at))
    .bind(ep.verification_state.passes())
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn update_endpoint(c: &mut PgConnection, ep: &Endpoint) -> StoreResult<()> {
    sqlx::query(
        "UPDATE endpoints SET enabled = $2, doc = $3, updated_at = $4, verified = $5 WHERE id = $1",
    )
    .bind(ep.id.as_str())
    .bind(ep.enabled)
    .bind(doc_json(ep)?)
    .bind(to_ms(ep.updated_at))
    .bind(ep.verification_state.passes())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn get_endpoint(c: &mut PgConnection, id: &EndpointId) -> StoreResult<Option<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLS} FROM endpoints WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(rows::endpoint).transpose()?)
}

pub async fn list_endpoints(pool: &PgPool, app: &AppId, page: &Page) -> StoreResult<Vec<Endpoint>> {
    let (tail, params) = filter::endpoints(Dialect::Postgres, app, page);
    let sql = format!("SELECT {ENDPOINT_COLS}{tail}");
    Ok(fetch_filtered(pool, &sql, params, rows::endpoint).await?)
}

/// The enabled endpoints of an app, read inside the publish transaction: another process
/// may have changed them a moment ago, so there is no cache to trust.
pub async fn enabled_endpoints(c: &mut PgConnection, app: &AppId) -> StoreResult<Vec<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLS} FROM endpoints WHERE app_id = $1 AND enabled");
    let found = sqlx::query(&sql).bind(app.as_str()).fetch_all(c).await?;
    Ok(found
        .iter()
        .map(rows::endpoint)
        .collect::<sqlx::Result<_>>()?)
}

pub async fn delete_endpoint(pool: &PgPool, id: &EndpointId) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    // Deliveries still waiting are cancelled, not left pending forever.
    sqlx::query(
        "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, due_at = 0, \
         lease_owner = NULL WHERE endpoint_id = $1 AND status = 'pending'",
    )
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    let n = sqlx::query("DELETE FROM endpoints WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n > 0)
}
