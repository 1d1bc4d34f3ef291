//! What a queue knows of its endpoint: the settings it read from the store (kept a short
//! while, so that a busy endpoint is not read once per request), the token bucket of its
//! rate limit, and whether the dispatcher should treat it as backed off.

use std::sync::Arc;
use std::time::Duration;

use super::queue::EndpointQueue;
use super::{lock, Dispatcher};
use crate::domain::{BreakerState, Endpoint};

/// How long an endpoint's cached settings are trusted before they are read again. A change
/// made through this process drops them at once; one made through another process on the
/// same database (a new URL, a disabled endpoint) is seen within this time.
const SETTINGS_TTL: Duration = Duration::from_secs(2);
impl EndpointQueue {
    pub fn invalidate(&self) {
        lock(&self.state).endpoint = None;
    }

    /// The endpoint's settings: `Ok(None)` when it is gone, `Err` when the store cannot say.
    pub(super) async fn settings(
        &self,
        dispatcher: &Dispatcher,
    ) -> Result<Option<Arc<Endpoint>>, ()> {
        if let Some((ep, at)) = &lock(&self.state).endpoint {
            if at.elapsed() < SETTINGS_TTL {
                return Ok(Some(Arc::clone(ep)));
            }
        }
        match dispatcher.inner.store.get_endpoint(&self.id).await {
            Ok(Some(ep)) => {
                dispatcher.endpoint_read(&self.id, ep.max_in_flight);
                dispatcher.backed_off(&self.id, backed_off(&ep));
                let ep = Arc::new(ep);
                let mut state = lock(&self.state);
                state.endpoint = Some((Arc::clone(&ep), std::time::Instant::now()));
                state.limiter = match (
                    ep.rate_limit_per_s.and_then(std::num::NonZeroU32::new),
                    state.limiter.take(),
                ) {
                    (Some(rate), Some((built, l))) if built == rate.get() => Some((built, l)),
                    (Some(rate), _) => Some((
                        rate.get(),
                        Arc::new(governor::RateLimiter::direct(governor::Quota::per_second(
                            rate,
                        ))),
                    )),
                    (None, _) => None,
                };
                Ok(Some(ep))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::warn!(endpoint = %self.id, error = %e.chain(), "cannot read endpoint settings");
                Err(())
            }
        }
    }

    /// Waits for the endpoint's rate limit, when it has one.
    pub(super) async fn throttle(&self) {
        let limiter = lock(&self.state)
            .limiter
            .as_ref()
            .map(|(_, l)| Arc::clone(l));
        if let Some(limiter) = limiter {
            limiter.until_ready().await;
        }
    }

    /// Takes `ep` as the endpoint's settings from now on, and tells the dispatcher whether
    /// it is backed off.
    pub(super) fn remember(&self, d: &Dispatcher, ep: Endpoint) {
        d.backed_off(&ep.id, backed_off(&ep));
        let mut state = lock(&self.state);
        let read_at = state
            .endpoint
            .as_ref()
            .map_or_else(std::time::Instant::now, |(_, at)| *at);
        state.endpoint = Some((Arc::new(ep), read_at));
    }
}

/// Whether nothing may be sent to `ep` now: its breaker is not closed, or it is disabled.
fn backed_off(ep: &Endpoint) -> bool {
    ep.health.state != BreakerState::Closed || !ep.enabled
}
