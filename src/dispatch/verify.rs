//! The verification exchanges (the rules are in `domain::verification`): a signed challenge
//! the receiver echoes, or Zoom's `endpoint.url_validation`. Run when an endpoint is created
//! or its URL changes, and by a sweep that retries failures and repeats Zoom's every 72 h.
//! What came of a check is written onto the endpoint; its deliveries flow once it passes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::json;

use super::client::Response;
use super::{lock, Dispatcher};
use crate::domain::verification::{
    check_challenge, check_zoom, zoom_signature, VerificationAttempt, VerificationMode,
};
use crate::domain::{DeliveryId, Endpoint, EndpointId, Event, FormatKind, Labels};
use crate::formats::{format_for, standard_headers, Outgoing};
use crate::store::Page;

/// How often the sweep looks for endpoints whose check is due.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// The most a receiver's answer to a check may take.
const TIMEOUT: Duration = Duration::from_secs(10);

type Checker = Box<dyn Fn(&str) -> Result<(), String> + Send>;

fn due(ep: &Endpoint, now: DateTime<Utc>) -> bool {
    ep.enabled && ep.verification_state.due(ep.verification, now)
}

/// An endpoint's check in progress in this process; ends when dropped.
struct Checking<'a> {
    set: &'a Mutex<HashSet<EndpointId>>,
    id: EndpointId,
}

impl<'a> Checking<'a> {
    /// `None` when the endpoint is being checked already.
    fn start(set: &'a Mutex<HashSet<EndpointId>>, id: &EndpointId) -> Option<Self> {
        lock(set).insert(id.clone()).then(|| Self {
            set,
            id: id.clone(),
        })
    }
}

impl Drop for Checking<'_> {
    fn drop(&mut self) {
        lock(self.set).remove(&self.id);
    }
}

/// A check's request.
struct Request {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Dispatcher {
    /// Checks `ep` in the background if its verification is due.
    pub fn verify_soon(&self, ep: Endpoint) {
        let d = self.clone();
        tokio::spawn(async move { d.verify_if_due(ep).await });
    }

    /// Checks `ep` if its check is due, deciding on its stored state while no other check of
    /// it runs here: the creation's check and the sweep's first pass, which read the endpoint
    /// before that check was written, would otherwise both send one.
    async fn verify_if_due(&self, ep: Endpoint) {
        if !due(&ep, Utc::now()) {
            return;
        }
        let Some(_checking) = Checking::start(&self.inner.verifying, &ep.id) else {
            return;
        };
        let ep = match self.inner.store.get_endpoint(&ep.id).await {
            Ok(Some(ep)) => ep,
            _ => return,
        };
        let now = Utc::now();
        if !due(&ep, now) {
            return;
        }
        let (outcome, attempt) = match request(&ep, now) {
            Ok((req, check)) => self.exchange(&ep, req, check).await,
            Err(why) => (Err(why), failed_attempt(now)),
        };
        // Written onto the endpoint as it is now, unless what was checked changed meanwhile.
        let store = &self.inner.store;
        let Ok(Some(mut current)) = store.get_endpoint(&ep.id).await else {
            return;
        };
        if (&current.url, current.verification) != (&ep.url, ep.verification) {
            return;
        }
        if let Err(why) = &outcome {
            tracing::warn!(endpoint = %ep.id, reason = %why, "endpoint verification failed");
        }
        current.verification_state =
            current
                .verification_state
                .checked(outcome, attempt, Utc::now());
        match store.update_endpoint(&current).await {
            Ok(()) => {
                self.endpoint_changed(&current.id);
                self.wake();
            }
            Err(e) => {
                tracing::warn!(endpoint = %ep.id, error = %e.chain(), "cannot store a verification")
            }
        }
    }

    async fn exchange(
        &self,
        ep: &Endpoint,
        Request { headers, body }: Request,
        check: Checker,
    ) -> (Result<(), String>, VerificationAttempt) {
        let started_at = Utc::now();
        let resp = self
            .inner
            .client
            .post(ep.url.as_str(), &headers, body, TIMEOUT)
            .await;
        let outcome = match (&resp.error, resp.status) {
            (Some((kind, msg)), _) => Err(format!("the request failed ({}): {msg}", kind.as_str())),
            (None, Some(s)) if (200..300).contains(&s) => check(&resp.body),
            (None, s) => Err(format!("the receiver answered {}", s.unwrap_or_default())),
        };
        (outcome, attempt(started_at, resp))
    }

    /// Checks every endpoint whose verification is due, every [`SWEEP_EVERY`].
    pub(super) async fn verify_sweep(self) {
        loop {
            if let Err(e) = self.sweep_once().await {
                tracing::warn!(error = %e.chain(), "cannot look for endpoints to verify");
            }
            tokio::time::sleep(SWEEP_EVERY).await;
        }
    }

    async fn sweep_once(&self) -> Result<(), crate::store::StoreError> {
        let store = Arc::clone(&self.inner.store);
        let mut apps = page(None);
        loop {
            let batch = store.list_apps(&apps).await?;
            for app in &batch {
                let mut eps = page(None);
                loop {
                    let found = store.list_endpoints(&app.id, &eps).await?;
                    for ep in &found {
                        self.verify_if_due(ep.clone()).await;
                    }
                    match found.last() {
                        Some(last) if found.len() == eps.limit as usize => {
                            eps = page(Some(last.id.as_str()))
                        }
                        _ => break,
                    }
                }
            }
            match batch.last() {
                Some(last) if batch.len() == apps.limit as usize => {
                    apps = page(Some(last.id.as_str()))
                }
                _ => return Ok(()),
            }
        }
    }
}

fn page(before: Option<&str>) -> Page {
    Page {
        limit: 100,
        before: before.map(str::to_owned),
        ..Page::default()
    }
}

/// The request of `ep`'s check at `now` and how to judge its answer.
fn request(ep: &Endpoint, now: DateTime<Utc>) -> Result<(Request, Checker), String> {
    let token = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
    match ep.verification {
        VerificationMode::Zoom => {
            let body = json!({"payload": {"plainToken": token}, "event_ts": now.timestamp_millis(),
                "event": "endpoint.url_validation"})
            .to_string();
            let secret = ep.secret.expose().to_owned();
            let headers = zoom_headers(&secret, now.timestamp(), &body);
            let check = Box::new(move |answer: &str| check_zoom(&secret, &token, answer));
            let body = body.into_bytes();
            Ok((Request { headers, body }, check))
        }
        _ => {
            let req = challenge(ep, &token, now)?;
            let check = Box::new(move |answer: &str| check_challenge(&token, answer));
            Ok((req, check))
        }
    }
}

/// The headers Zoom signs its requests with.
fn zoom_headers(secret: &str, ts: i64, body: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-zm-request-timestamp".into(), ts.to_string()),
        ("x-zm-signature".into(), zoom_signature(secret, ts, body)),
    ]
}

/// The challenge, signed as the endpoint's deliveries are: for `standard` the body
/// `{"type": "endpoint.verification", "challenge": ...}`; for the other formats an event of
/// that type with `{"challenge": ...}` as its data, in the format's own body.
fn challenge(ep: &Endpoint, token: &str, now: DateTime<Utc>) -> Result<Request, String> {
    let id = DeliveryId::new();
    if ep.format == FormatKind::Standard {
        let body = json!({"type": "endpoint.verification", "challenge": token}).to_string();
        let headers =
            standard_headers(ep, id.as_str(), now, body.as_bytes()).map_err(|e| e.to_string())?;
        let headers = headers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let body = body.into_bytes();
        return Ok(Request { headers, body });
    }
    let data = json!({"challenge": token});
    let event = Event::internal(
        ep.app_id.clone(),
        "endpoint.verification",
        &data,
        Labels::default(),
    );
    let format = format_for(ep.format).ok_or("the endpoint's format is unavailable")?;
    let out = Outgoing {
        event: &event,
        delivery_id: &id,
        endpoint: ep,
        now,
    };
    let rendered = format.render(&out).map_err(|e| e.to_string())?;
    let headers = rendered
        .headers
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let body = rendered.body;
    Ok(Request { headers, body })
}

fn attempt(started_at: DateTime<Utc>, resp: Response) -> VerificationAttempt {
    VerificationAttempt {
        started_at,
        duration_ms: resp.duration.as_millis() as u64,
        status_code: resp.status,
        error_kind: resp.error.as_ref().map(|(k, _)| *k),
        response_body: match resp.error {
            Some((_, msg)) if resp.body.is_empty() => msg,
            _ => resp.body,
        },
    }
}

fn failed_attempt(at: DateTime<Utc>) -> VerificationAttempt {
    VerificationAttempt {
        started_at: at,
        duration_ms: 0,
        status_code: None,
        error_kind: Some(crate::domain::ErrorKind::Render),
        response_body: String::new(),
    }
}
