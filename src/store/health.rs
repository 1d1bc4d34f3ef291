//! Changing an endpoint's health atomically, for every process sharing the database.
//!
//! The rules of the breaker live in `domain::health`; the dispatcher hands them to the store
//! as a function of the endpoint as stored, and the store runs it between reading and
//! writing the row, so that two processes recording failures at once, or racing for the
//! one probe, never lose each other's change.

use std::sync::Arc;

use crate::domain::{Endpoint, Health};

/// The new health of an endpoint, given the endpoint as stored now, and why to disable it
/// (when it should be).
pub type HealthChange = Arc<dyn Fn(&Endpoint) -> Changed + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub health: Health,
    pub disable: Option<String>,
}

/// What a change did.
#[derive(Debug, Clone)]
pub struct HealthUpdate {
    pub before: Health,
    /// The endpoint as it is now stored.
    pub endpoint: Endpoint,
    /// This change disabled the endpoint (it was enabled before).
    pub disabled: bool,
}

/// Applies `change` to `ep` as read inside the transaction; answers what to write.
pub(crate) fn apply(mut ep: Endpoint, change: &HealthChange) -> HealthUpdate {
    let before = ep.health.clone();
    let Changed { health, disable } = change(&ep);
    let disabled = match disable {
        Some(why) if ep.enabled => {
            ep.disable(&why, chrono::Utc::now());
            true
        }
        _ => false,
    };
    ep.health = health;
    HealthUpdate {
        before,
        endpoint: ep,
        disabled,
    }
}

/// The stored form of a health: none while it is pristine.
pub(crate) fn stored(health: &Health) -> Result<Option<String>, serde_json::Error> {
    if *health == Health::default() {
        return Ok(None);
    }
    serde_json::to_string(health).map(Some)
}
