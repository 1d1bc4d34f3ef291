//! The enabled endpoints of each app, as the publish fan-out needs them.
//!
//! Every publish needs its app's endpoints; reading and decoding them from the database per
//! event costs more than the rest of the publish. All writes go through the one writer
//! thread, so the writes that change endpoints drop the app's entry in that same thread and
//! the cache can never serve a list older than the transaction reading it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::tenants::enabled_endpoints;
use crate::domain::{AppId, Endpoint};
use crate::store::StoreResult;

#[derive(Clone, Default)]
pub struct FanoutCache {
    apps: Arc<Mutex<HashMap<AppId, Arc<Vec<Endpoint>>>>>,
}

impl FanoutCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AppId, Arc<Vec<Endpoint>>>> {
        self.apps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The app's enabled endpoints, read through the cache.
    pub fn endpoints(&self, c: &Connection, app: &AppId) -> StoreResult<Arc<Vec<Endpoint>>> {
        if let Some(found) = self.lock().get(app) {
            return Ok(Arc::clone(found));
        }
        let eps = Arc::new(enabled_endpoints(c, app)?);
        self.lock().insert(app.clone(), Arc::clone(&eps));
        Ok(eps)
    }

    pub fn forget(&self, app: &AppId) {
        self.lock().remove(app);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}
