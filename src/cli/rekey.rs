//! `herald rekey`: moves every sealed secret of a database to a new key (see
//! `store::at_rest`). Stop the Herald processes of the database first, then start them with
//! the new key. Run again after an interruption, it finishes the job.

use std::path::Path;

use anyhow::Context;
use clap::Args;

use super::serve::{settings, DatabaseArgs};
use crate::config::Secret;

#[derive(Args)]
pub struct RekeyArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// The new key: 32 random bytes in base64. The current one is HERALD_SECRET_KEY (unset
    /// when the secrets are stored in clear).
    #[arg(long, env = "HERALD_NEW_SECRET_KEY", hide_env_values = true)]
    pub new_key: String,
}

pub async fn run(file: &Path, args: RekeyArgs) -> anyhow::Result<()> {
    let settings = settings(file, None, &args.db, None, false)?;
    let url = &settings.database_url;
    let store = crate::store::open(url.expose())
        .await
        .with_context(|| format!("opening the database {url}"))?;
    let old = settings.secret_key.as_ref().map(Secret::expose);
    let n = crate::store::rekey(store, old, &args.new_key).await?;
    println!("{url}: {n} app and endpoint secret(s) sealed under the new key");
    Ok(())
}
