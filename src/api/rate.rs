//! Per-key rate limits on the API, so that one tenant's flood cannot take the API from the
//! others: every app key has its own token bucket (`api_rate_limit_per_s`, refilled
//! continuously, holding `api_rate_limit_burst`). The admin token is the operator's and is
//! not limited.
//!
//! A request over its key's budget gets 429 with `Retry-After`; every request made with an
//! app key carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds
//! until the bucket is full again), as the IETF RateLimit header fields draft spells them.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::error::ApiError;
use crate::domain::KeyId;

type Keyed =
    RateLimiter<KeyId, DefaultKeyedStateStore<KeyId>, DefaultClock, StateInformationMiddleware>;

/// The buckets of every app key; no limit when built with a rate of 0.
pub struct KeyLimits {
    limiter: Option<Keyed>,
    burst: u32,
    refill: Duration,
}

/// What is left of a key's budget after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub remaining: u32,
    /// Whole seconds until the bucket is full again.
    pub reset_s: u64,
}

impl KeyLimits {
    pub fn new(per_s: u32, burst: u32) -> Self {
        let Some(rate) = NonZeroU32::new(per_s) else {
            return Self {
                limiter: None,
                burst: 0,
                refill: Duration::ZERO,
            };
        };
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        let quota = Quota::per_second(rate).allow_burst(burst);
        Self {
            limiter: Some(
                RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            ),
            burst: burst.get(),
            refill: quota.replenish_interval(),
        }
    }

    /// Takes one request from `key`'s bucket; `Ok(None)` when keys are not limited.
    pub fn take(&self, key: &KeyId) -> Result<Option<Budget>, ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        match limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = self.refill * (self.burst - remaining.min(self.burst));
                Ok(Some(self.budget(remaining, reset)))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::RateLimited {
                    retry_after_s: ceil_s(wait).max(1),
                    budget: self.budget(0, self.refill * self.burst),
                })
            }
        }
    }

    fn budget(&self, remaining: u32, reset: Duration) -> Budget {
        Budget {
            limit: self.burst,
            remaining,
            reset_s: ceil_s(reset),
        }
    }
}

fn ceil_s(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000) as u64
}

/// Where the authentication of a request leaves its key's budget, for [`headers`].
#[derive(Clone, Default)]
pub struct Slot(Arc<Mutex<Option<Budget>>>);

impl Slot {
    pub fn fill(&self, budget: Budget) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(budget);
    }
}

/// Adds the `RateLimit-*` fields to the response of every request made with an app key.
pub async fn headers(mut req: Request, next: Next) -> Response {
    let slot = Slot::default();
    req.extensions_mut().insert(slot.clone());
    let mut resp = next.run(req).await;
    let budget = *slot.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(b) = budget {
        let h = resp.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", u64::from(b.limit)),
            ("ratelimit-remaining", u64::from(b.remaining)),
            ("ratelimit-reset", b.reset_s),
        ] {
            h.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_spends_its_burst_then_waits_and_keys_do_not_share() {
        let limits = KeyLimits::new(1, 3);
        let (a, b) = (KeyId::new(), KeyId::new());
        let left: Vec<u32> = (0..3)
            .map(|_| limits.take(&a).ok().flatten().map_or(99, |b| b.remaining))
            .collect();
        assert_eq!(left, [2, 1, 0]);
        match limits.take(&a) {
            Err(ApiError::RateLimited {
                retry_after_s,
                budget,
            }) => {
                assert_eq!((retry_after_s, budget.remaining, budget.limit), (1, 0, 3));
            }
            other => panic!("not limited: {other:?}"),
        }
        assert!(matches!(
            limits.take(&b),
            Ok(Some(Budget { remaining: 2, .. }))
        ));
        assert!(matches!(KeyLimits::new(0, 0).take(&a), Ok(None)));
    }
}
