//! `herald migrate`: applies the embedded migrations and exits.

use std::path::Path;

use super::serve::{settings, DatabaseArgs};

pub async fn run(file: &Path, args: DatabaseArgs) -> anyhow::Result<()> {
    let settings = settings(file, None, &args, None, false)?;
    let url = &settings.database_url;
    let ran = crate::store::migrate(url.expose()).await?;
    println!("{url}: {ran} migration(s) applied");
    Ok(())
}
