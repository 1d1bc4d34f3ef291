//! `herald migrate`: applies the embedded migrations and exits.

use std::path::Path;

use super::serve::{settings, DatabaseArgs};

pub async fn run(file: &Path, args: DatabaseArgs) -> anyhow::Result<()> {
    let settings = settings(file, None, &args, false)?;
    let url = &settings.database_url;
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| {
            anyhow::anyhow!("unsupported database URL '{url}': expected sqlite://PATH")
        })?;
    let ran = crate::store::sqlite::SqliteStore::migrate_only(path)?;
    println!("{url}: {ran} migration(s) applied");
    Ok(())
}
