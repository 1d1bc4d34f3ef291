//! Opening a store with its secrets sealed (see `seal` and `sealed`): the key is checked
//! against the one the database was sealed with, secrets stored in clear before a key was
//! set are sealed, and `herald rekey` moves every secret to a new key.
//!
//! The database remembers a value sealed under its key (`secret_key_check`), so a node
//! started without the key, or with another one, refuses to start with a message saying
//! so, rather than failing at the first delivery it signs.

use std::sync::Arc;

use super::seal::Sealer;
use super::sealed::{Sealed, SECRET_META};
use super::{Page, Store, StoreError, StoreResult, Tenants};
use crate::domain::{App, Endpoint};

const CHECK_KEY: &str = "secret_key_check";
const CHECK_TEXT: &str = "herald secret key check";

/// `inner` with its secrets sealed under `key` (base64 of 32 bytes), or `inner` itself
/// when no key is set and none was ever used.
pub async fn open_sealed(inner: Arc<dyn Store>, key: Option<&str>) -> StoreResult<Arc<dyn Store>> {
    let check = inner.meta_get(CHECK_KEY).await?;
    let Some(key) = key else {
        return match check {
            None => Ok(inner),
            Some(_) => Err(StoreError::Unavailable(
                "this database's secrets are encrypted: set HERALD_SECRET_KEY to the key they were encrypted with".into(),
            )),
        };
    };
    let sealer = Sealer::from_base64(key)?;
    if let Some(check) = &check {
        verify(&sealer, check)?;
    }
    let sealed = Arc::new(Sealed::new(Arc::clone(&inner), sealer.clone()));
    let n = rewrite(
        inner.as_ref(),
        sealed.as_ref(),
        |stored| !Sealer::is_sealed(stored),
        &|v| Ok(v.to_owned()),
    )
    .await?;
    if n > 0 {
        tracing::info!(secrets = n, "sealed secrets that were stored in clear");
    }
    if check.is_none() {
        inner.meta_put(CHECK_KEY, &sealer.seal(CHECK_TEXT)).await?;
    }
    Ok(sealed)
}

fn verify(sealer: &Sealer, check: &str) -> StoreResult<()> {
    match sealer.open(check) {
        Ok(text) if text == CHECK_TEXT => Ok(()),
        _ => Err(StoreError::Unavailable(
            "HERALD_SECRET_KEY is not the key this database's secrets were encrypted with".into(),
        )),
    }
}

/// Moves every secret of the database from `old` (none: stored in clear) to `new`; answers
/// how many apps, endpoints and shared secrets were rewritten. Run again after an interruption, it finishes
/// the job: a value already under `new` is taken as it is.
pub async fn rekey(inner: Arc<dyn Store>, old: Option<&str>, new: &str) -> StoreResult<usize> {
    let old = old
        .map(Sealer::from_base64)
        .transpose()?
        .unwrap_or_default();
    let new = Sealer::from_base64(new)?;
    if let Some(check) = inner.meta_get(CHECK_KEY).await? {
        verify(&old, &check).or_else(|_| verify(&new, &check))?;
    }
    let target = Sealed::new(Arc::clone(&inner), new.clone());
    let opener = |stored: &str| old.open(stored).or_else(|_| new.open(stored));
    let n = rewrite(inner.as_ref(), &target, |_| true, &opener).await?;
    inner.meta_put(CHECK_KEY, &new.seal(CHECK_TEXT)).await?;
    Ok(n)
}

/// Rewrites through `target` every app, endpoint and shared secret whose stored secret
/// `pick` selects, each secret opened with `open` first.
async fn rewrite(
    inner: &dyn Store,
    target: &Sealed,
    pick: impl Fn(&str) -> bool,
    open: &dyn Fn(&str) -> StoreResult<String>,
) -> StoreResult<usize> {
    let mut n = 0;
    for key in SECRET_META {
        if let Some(stored) = inner.meta_get(key).await?.filter(|v| pick(v)) {
            target.meta_put(key, &open(&stored)?).await?;
            n += 1;
        }
    }
    for mut app in all_apps(inner).await? {
        if let Some(lk) = app
            .ingest
            .livekit
            .as_mut()
            .filter(|lk| pick(&lk.api_secret))
        {
            lk.api_secret = open(&lk.api_secret)?;
            target.update_app(&app).await?;
            n += 1;
        }
        for ep in all_endpoints(inner, &app).await? {
            if pick(ep.secret.expose())
                || ep
                    .previous_secret
                    .as_ref()
                    .is_some_and(|(s, _)| pick(s.expose()))
            {
                target.update_endpoint(&opened(ep, open)?).await?;
                n += 1;
            }
        }
    }
    Ok(n)
}

fn opened(mut ep: Endpoint, open: &dyn Fn(&str) -> StoreResult<String>) -> StoreResult<Endpoint> {
    use crate::domain::EndpointSecret;
    ep.secret = EndpointSecret::from_trusted(open(ep.secret.expose())?);
    if let Some((old, until)) = ep.previous_secret.take() {
        ep.previous_secret = Some((EndpointSecret::from_trusted(open(old.expose())?), until));
    }
    Ok(ep)
}

const PAGE: u32 = 250;

async fn all_apps(store: &dyn Store) -> StoreResult<Vec<App>> {
    let list = |page: Page| async move { store.list_apps(&page).await };
    all(list, |a: &App| a.id.as_str().to_owned()).await
}

pub async fn all_endpoints(store: &dyn Store, app: &App) -> StoreResult<Vec<Endpoint>> {
    let list = |page: Page| async move { store.list_endpoints(&app.id, &page).await };
    all(list, |e: &Endpoint| e.id.as_str().to_owned()).await
}

/// Every item of a paged list, page after page.
async fn all<T, F, Fut>(list: F, id: impl Fn(&T) -> String) -> StoreResult<Vec<T>>
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = StoreResult<Vec<T>>>,
{
    let mut out: Vec<T> = Vec::new();
    loop {
        let found = list(Page {
            limit: PAGE,
            before: out.last().map(&id),
            ..Page::default()
        })
        .await?;
        let full = found.len() == PAGE as usize;
        out.extend(found);
        if !full {
            return Ok(out);
        }
    }
}
