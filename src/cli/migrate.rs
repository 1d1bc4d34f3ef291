//! `herald migrate`: applies the embedded migrations and exits.

use std::path::Path;

use super::serve::{settings, DatabaseArgs};

pub async fn run(file: &Path, args: DatabaseArgs) -> anyhow::Result<()> {
    let settings = settings(file, None, &args, None, false)?;
    let url = &settings.database_url;
    let ran = crate::store::migrate(url).await?;
    println!("{}: {ran} migration(s) applied", redact(url));
    Ok(())
}

/// The URL without its password, for printing.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
