//! Endpoints declared in the configuration file, created or brought up to date at start.
//!
//! plugNmeet configures one server-level webhook URL in its own config file; the same wish
//! here is an endpoint that exists because the operator's file says so, visible and logged
//! in the API like any other. Apps and endpoints are matched by name, so restarting with an
//! edited file updates them instead of adding copies.

use anyhow::{anyhow, Context};
use chrono::Utc;

use super::endpoint_build::{new_endpoint, patched};
use super::endpoint_input::EndpointInput;
use super::error::ApiError;
use super::AppState;
use crate::config::StaticEndpoint;
use crate::domain::{App, AppId, Ingest, Preset};
use crate::store::Page;

const ALL: Page = Page {
    limit: 100_000,
    before: None,
    since: None,
    until: None,
};

fn describe(at: &str, e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Invalid(errors) => {
            let list: Vec<String> = errors
                .iter()
                .map(|f| format!("{at}.{}: {}", f.field, f.message))
                .collect();
            anyhow!("{}", list.join("; "))
        }
        other => anyhow!("{at}: {other}"),
    }
}

async fn app_named(
    state: &AppState,
    name: &str,
    preset: Option<&str>,
    at: &str,
) -> anyhow::Result<App> {
    if let Some(app) = state
        .store
        .list_apps(&ALL)
        .await?
        .into_iter()
        .find(|a| a.name == name)
    {
        return Ok(app);
    }
    let preset = match preset {
        Some(p) => Preset::parse(p).ok_or_else(|| anyhow!("{at}.preset: unknown preset '{p}'"))?,
        None => Preset::Standard,
    };
    let now = Utc::now();
    let app = App {
        id: AppId::new(),
        name: name.to_owned(),
        preset,
        metadata: serde_json::json!({}),
        ingest: Ingest::default(),
        enforce_schemas: true,
        created_at: now,
        updated_at: now,
    };
    state.store.create_app(&app).await?;
    tracing::info!(app = %app.id, name, "created the app a static endpoint names");
    Ok(app)
}

/// Creates or updates every declared endpoint; the first problem stops the start.
pub async fn apply(state: &AppState, declared: &[StaticEndpoint]) -> anyhow::Result<()> {
    if declared.is_empty() {
        return Ok(());
    }
    // Nodes starting together on one database would otherwise each create the app.
    let _lock = state.store.exclusive("static_endpoints").await?;
    for (i, d) in declared.iter().enumerate() {
        let at = format!("static_endpoints[{i}]");
        let app = app_named(state, &d.app, d.preset.as_deref(), &at).await?;
        let input: EndpointInput =
            serde_json::from_value(serde_json::Value::Object(d.endpoint.clone()))
                .with_context(|| format!("{at}: not an endpoint"))?;
        let name = input
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| anyhow!("{at}.name: is required"))?;
        let existing = state
            .store
            .list_endpoints(&app.id, &ALL)
            .await?
            .into_iter()
            .find(|e| e.name == name);
        let ep = match existing {
            Some(current) => {
                let mut ep = patched(state, &app, current, input, true)
                    .await
                    .map_err(|e| describe(&at, e))?;
                ep.updated_at = Utc::now();
                state.store.update_endpoint(&ep).await?;
                ep
            }
            None => {
                let ep = new_endpoint(state, &app, input)
                    .await
                    .map_err(|e| describe(&at, e))?;
                state.store.create_endpoint(&ep).await?;
                ep
            }
        };
        if let Some(d) = &state.dispatcher {
            d.endpoint_changed(&ep.id);
        }
        tracing::info!(app = %app.id, endpoint = %ep.id, name, "static endpoint in place");
    }
    Ok(())
}
