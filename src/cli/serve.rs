//! `herald serve`: the API and the dispatcher in one process.

use std::path::Path;

use clap::Args;
use figment::providers::Serialized;

use crate::config::{Config, Settings};

#[derive(Args, Default)]
pub struct DatabaseArgs {
    /// Database URL (`sqlite://PATH` or `postgres://USER@HOST/DB`); overrides
    /// HERALD_DATABASE_URL.
    #[arg(long)]
    pub database: Option<String>,
}

#[derive(Args, Default)]
pub struct ServeArgs {
    /// Address to listen on; overrides HERALD_LISTEN.
    #[arg(long)]
    pub listen: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// What this process runs: api, dispatcher or all; overrides HERALD_ROLE.
    #[arg(long)]
    pub role: Option<String>,
    /// Log as JSON lines.
    #[arg(long)]
    pub log_json: bool,
}

/// Loads the layered configuration with flags on top.
pub fn settings(
    file: &Path,
    listen: Option<String>,
    db: &DatabaseArgs,
    role: Option<String>,
    log_json: bool,
) -> anyhow::Result<Settings> {
    let mut flags = serde_json::Map::new();
    if let Some(r) = role {
        flags.insert("role".into(), r.into());
    }
    if let Some(l) = listen {
        flags.insert("listen".into(), l.into());
    }
    if let Some(d) = &db.database {
        flags.insert("database_url".into(), d.clone().into());
    }
    if log_json {
        flags.insert("log_format".into(), "json".into());
    }
    let cfg = Config::load(file, Serialized::defaults(serde_json::Value::Object(flags)))?;
    cfg.validate()
}

pub async fn run(file: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let settings = settings(file, args.listen, &args.db, args.role, args.log_json)?;
    let telemetry = crate::telemetry::init(settings.log_json, settings.otlp_endpoint.as_deref())?;
    let result = crate::server::serve(settings).await;
    telemetry.shutdown().await;
    result
}
