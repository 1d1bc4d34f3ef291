//! Apps, keys, custom event types and endpoints: the slowly changing configuration.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::rows::{self, APP_COLS, ENDPOINT_COLS};
use crate::domain::{App, AppId, Endpoint, EndpointId, KeyId};
use crate::store::filter::{self, Dialect, APP_OWNED};
use crate::store::{to_ms, ApiKey, CustomEventType, EndpointDoc, Page, StoreError, StoreResult};

pub fn meta_get(c: &Connection, key: &str) -> StoreResult<Option<String>> {
    Ok(
        c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?,
    )
}

pub fn meta_init(c: &Connection, key: &str, value: &str) -> StoreResult<String> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        [key, value],
    )?;
    Ok(c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
}

pub fn meta_put(c: &Connection, key: &str, value: &str) -> StoreResult<()> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

pub fn insert_app(c: &Connection, app: &App) -> StoreResult<()> {
    c.prepare_cached(&format!(
        "INSERT INTO apps ({APP_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        app.id.as_str(),
        app.name,
        app.preset.as_str(),
        app.metadata.to_string(),
        to_ms(app.created_at),
        to_ms(app.updated_at),
        app.ingest.to_store(),
        app.enforce_schemas
    ])?;
    Ok(())
}

pub fn update_app(c: &Connection, app: &App) -> StoreResult<()> {
    c.execute(
        "UPDATE apps SET name = ?2, metadata = ?3, updated_at = ?4, ingest = ?5, \
         enforce_schemas = ?6 WHERE id = ?1",
        params![
            app.id.as_str(),
            app.name,
            app.metadata.to_string(),
            to_ms(app.updated_at),
            app.ingest.to_store(),
            app.enforce_schemas
        ],
    )?;
    Ok(())
}

pub fn get_app(c: &Connection, id: &AppId) -> StoreResult<Option<App>> {
    let sql = format!("SELECT {APP_COLS} FROM apps WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id.as_str()], rows::app)
        .optional()?)
}

pub fn list_apps(c: &Connection, page: &Page) -> StoreResult<Vec<App>> {
    let (tail, params) = filter::apps(Dialect::Sqlite, page);
    let sql = format!("SELECT {APP_COLS}{tail}");
    let mut stmt = c.prepare(&sql)?;
    let apps = stmt
        .query_map(params_from_iter(params), rows::app)?
        .collect::<Result<_, _>>()?;
    Ok(apps)
}

pub fn delete_app(c: &Connection, id: &AppId) -> StoreResult<bool> {
    let id = id.as_str();
    c.execute(
        "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE app_id = ?1)",
        [id],
    )?;
    for (table, column) in APP_OWNED {
        c.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [id])?;
    }
    Ok(c.execute("DELETE FROM apps WHERE id = ?1", [id])? > 0)
}

pub fn insert_key(c: &Connection, key: &ApiKey) -> StoreResult<()> {
    c.execute(
        "INSERT INTO api_keys (id, app_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key.id.as_str(), key.app_id.as_str(), key.name, key.token_hash, to_ms(key.created_at)],
    )?;
    Ok(())
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: KeyId::from_trusted(r.get(0)?),
        app_id: AppId::from_trusted(r.get(1)?),
        name: r.get(2)?,
        token_hash: r.get(3)?,
        created_at: crate::store::from_ms(r.get(4)?),
    })
}

/// The app's keys, oldest first.
pub fn list_keys(c: &Connection, app: &AppId) -> StoreResult<Vec<ApiKey>> {
    let sql = "SELECT id, app_id, name, token_hash, created_at FROM api_keys WHERE app_id = ?1 \
               ORDER BY created_at, id";
    let keys = c
        .prepare_cached(sql)?
        .query_map([app.as_str()], key_row)?
        .collect::<Result<_, _>>()?;
    Ok(keys)
}

pub fn find_key(c: &Connection, token_hash: &str) -> StoreResult<Option<ApiKey>> {
    let sql = "SELECT id, app_id, name, token_hash, created_at FROM api_keys WHERE token_hash = ?1";
    let found = c
        .prepare_cached(sql)?
        .query_row([token_hash], key_row)
        .optional()?;
    Ok(found)
}

pub fn delete_key(c: &Connection, app: &AppId, id: &KeyId) -> StoreResult<bool> {
    let n = c.execute(
        "DELETE FROM api_keys WHERE id = ?1 AND app_id = ?2",
        [id.as_str(), app.as_str()],
    )?;
    Ok(n > 0)
}

pub fn insert_event_type(c: &Connection, app: &AppId, def: &CustomEventType) -> StoreResult<()> {
    let schema = def.schema.as_ref().map(|s| s.to_string());
    c.execute(
        "INSERT INTO event_types (app_id, name, family, description, schema, ttl_s) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            app.as_str(),
            def.name.as_str(),
            def.family,
            def.description,
            schema,
            def.ttl_s
        ],
    )
    .map_err(|e| {
        StoreError::from(e)
            .conflict_as(|| format!("event type '{}' already exists", def.name.as_str()))
    })?;
    Ok(())
}

pub fn list_event_types(c: &Connection, app: &AppId) -> StoreResult<Vec<CustomEventType>> {
    let mut stmt = c.prepare_cached(
        "SELECT name, family, description, schema, ttl_s FROM event_types WHERE app_id = ?1 ORDER BY name",
    )?;
    let types = stmt
        .query_map([app.as_str()], rows::event_type)?
        .collect::<Result<_, _>>()?;
    Ok(types)
}

fn doc_json(ep: &Endpoint) -> StoreResult<String> {
    serde_json::to_string(&EndpointDoc::from_endpoint(ep))
        .map_err(|e| StoreError::Internal(e.to_string()))
}

pub fn insert_endpoint(c: &Connection, ep: &Endpoint) -> StoreResult<()> {
    c.execute(
        &format!(
            "INSERT INTO endpoints ({ENDPOINT_COLS}, verified) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)"
        ),
        params![
            ep.id.as_str(),
            ep.app_id.as_str(),
            ep.enabled,
            doc_json(ep)?,
            to_ms(ep.created_at),
            to_ms(ep.updated_at),
            ep.verification_state.passes()
        ],
    )?;
    Ok(())
}

pub fn update_endpoint(c: &Connection, ep: &Endpoint) -> StoreResult<()> {
    c.execute(
        "UPDATE endpoints SET enabled = ?2, doc = ?3, updated_at = ?4, verified = ?5 WHERE id = ?1",
        params![
            ep.id.as_str(),
            ep.enabled,
            doc_json(ep)?,
            to_ms(ep.updated_at),
            ep.verification_state.passes()
        ],
    )?;
    Ok(())
}

pub fn get_endpoint(c: &Connection, id: &EndpointId) -> StoreResult<Option<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLS} FROM endpoints WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id.as_str()], rows::endpoint)
        .optional()?)
}

pub fn list_endpoints(c: &Connection, app: &AppId, page: &Page) -> StoreResult<Vec<Endpoint>> {
    let (tail, params) = filter::endpoints(Dialect::Sqlite, app, page);
    let sql = format!("SELECT {ENDPOINT_COLS}{tail}");
    let mut stmt = c.prepare(&sql)?;
    let eps = stmt
        .query_map(params_from_iter(params), rows::endpoint)?
        .collect::<Result<_, _>>()?;
    Ok(eps)
}

/// The enabled endpoints of an app, for fan-out inside the publish transaction.
pub fn enabled_endpoints(c: &Connection, app: &AppId) -> StoreResult<Vec<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLS} FROM endpoints WHERE app_id = ?1 AND enabled = 1");
    let mut stmt = c.prepare_cached(&sql)?;
    let eps = stmt
        .query_map([app.as_str()], rows::endpoint)?
        .collect::<Result<_, _>>()?;
    Ok(eps)
}

pub fn delete_endpoint(c: &Connection, id: &EndpointId) -> StoreResult<bool> {
    let id = id.as_str();
    // Deliveries still waiting are cancelled, not left pending forever.
    c.execute(
        "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, due_at = 0, \
         lease_owner = NULL WHERE endpoint_id = ?1 AND status = 'pending'",
        [id],
    )?;
    Ok(c.execute("DELETE FROM endpoints WHERE id = ?1", [id])? > 0)
}
