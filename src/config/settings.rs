//! The checked configuration the server runs with, and the values it keeps from being
//! printed.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::{Config, StaticEndpoint};

/// A configured secret (the admin token): used, never shown. `Debug` and `Display` print a
/// placeholder.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A database URL. `Display` and `Debug` print it without its password; only the store is
/// handed the whole URL.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: String) -> Self {
        Self(url)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                f.write_str(u.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// What one process runs. Several processes on one PostgreSQL database can split the work:
/// API nodes behind a load balancer, dispatcher nodes sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The HTTP API only; deliveries are left to the dispatchers of other processes.
    Api,
    /// The dispatcher only; HTTP serves just /healthz, /readyz and /metrics.
    Dispatcher,
    All,
}

impl Role {
    pub fn parse(raw: &str) -> anyhow::Result<Role> {
        match raw {
            "api" => Ok(Role::Api),
            "dispatcher" => Ok(Role::Dispatcher),
            "all" => Ok(Role::All),
            other => anyhow::bail!("role: '{other}' must be 'api', 'dispatcher' or 'all'"),
        }
    }

    pub fn serves_api(self) -> bool {
        self != Role::Dispatcher
    }

    pub fn dispatches(self) -> bool {
        self != Role::Api
    }
}

/// The checked configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Where Herald is reached from outside, without a trailing slash.
    pub public_url: Option<url::Url>,
    pub database_url: DatabaseUrl,
    pub admin_token: Option<Secret>,
    pub allow_destinations: Vec<IpNet>,
    pub https_only: bool,
    pub max_event_bytes: usize,
    pub max_batch_bytes: usize,
    pub log_json: bool,
    pub role: Role,
    pub lease_s: u64,
    pub poll_interval_ms: u64,
    pub dispatch_window: usize,
    pub shutdown_grace_s: u64,
    pub http: crate::api::serve::Limits,
    pub otlp_endpoint: Option<String>,
    pub retention: crate::retention::Retention,
    pub breaker: crate::domain::BreakerPolicy,
    pub api_rate_limit_per_s: u32,
    pub api_rate_limit_burst: u32,
    pub secret_key: Option<Secret>,
    pub static_endpoints: Vec<StaticEndpoint>,
}

impl Config {
    pub fn validate(self) -> anyhow::Result<Settings> {
        let listen: SocketAddr = self.listen.parse().map_err(|e| {
            anyhow::anyhow!("listen: '{}' is not an address:port ({e})", self.listen)
        })?;
        let allow = self
            .allow_destinations
            .iter()
            .map(|raw| {
                raw.parse::<IpNet>()
                    .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!("allow_destinations: '{raw}' is not a CIDR like 10.0.0.0/8")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if !matches!(self.log_format.as_str(), "human" | "json") {
            anyhow::bail!(
                "log_format: '{}' must be 'human' or 'json'",
                self.log_format
            );
        }
        if self.max_event_bytes < 1024 || self.max_batch_bytes < self.max_event_bytes {
            anyhow::bail!("max_event_bytes must be at least 1024 and max_batch_bytes at least max_event_bytes");
        }
        let role = Role::parse(&self.role)?;
        let (retention, breaker) = (self.retention()?, self.breaker()?);
        let http = self.http_limits();
        if let Some(token) = &self.admin_token {
            if token.expose().len() < 16 {
                anyhow::bail!("admin_token: must be at least 16 characters");
            }
        }
        Ok(Settings {
            listen,
            public_url: public_url(&self.public_url)?,
            database_url: DatabaseUrl::new(self.database_url.clone()),
            admin_token: self.admin_token,
            allow_destinations: allow,
            https_only: self.https_only,
            max_event_bytes: self.max_event_bytes,
            max_batch_bytes: self.max_batch_bytes,
            log_json: self.log_format == "json",
            role,
            lease_s: self.lease_s.clamp(3, 3600),
            poll_interval_ms: self.poll_interval_ms.clamp(10, 60_000),
            dispatch_window: self.dispatch_window.unwrap_or(20_000).clamp(100, 1_000_000),
            shutdown_grace_s: self.shutdown_grace_s,
            http,
            otlp_endpoint: otlp_endpoint(&self.otlp_endpoint)?,
            retention,
            breaker,
            api_rate_limit_per_s: self.api_rate_limit_per_s,
            api_rate_limit_burst: self.api_rate_limit_burst.max(1),
            secret_key: self.secret_key,
            static_endpoints: self.static_endpoints,
        })
    }
}

impl Config {
    fn http_limits(&self) -> crate::api::serve::Limits {
        crate::api::serve::Limits {
            header_timeout: Duration::from_millis(self.http_header_timeout_ms.clamp(100, 600_000)),
            idle_timeout: Duration::from_secs(self.http_idle_timeout_s.clamp(1, 3600)),
            body_timeout: Duration::from_secs(self.http_body_timeout_s.clamp(1, 3600)),
            send_timeout: Duration::from_secs(self.http_send_timeout_s.clamp(1, 3600)),
            max_connections: self.max_connections.max(1),
        }
    }

    fn retention(&self) -> anyhow::Result<crate::retention::Retention> {
        Ok(crate::retention::Retention {
            events: period("retention_events", &self.retention_events, "forever")?,
            bodies: period(
                "retention_attempt_bodies",
                &self.retention_attempt_bodies,
                "forever",
            )?,
        })
    }

    fn breaker(&self) -> anyhow::Result<crate::domain::BreakerPolicy> {
        Ok(crate::domain::BreakerPolicy {
            failures: self.breaker_failures,
            cooldown: duration("breaker_cooldown", &self.breaker_cooldown)?,
            cooldown_max: duration("breaker_cooldown_max", &self.breaker_cooldown_max)?,
            disable_after: period("disable_after", &self.disable_after, "never")?,
        })
    }
}

/// A duration as operators write it (`90s`, `12h`, `30d`), at least a second, or `None`
/// for the word `off` that turns the setting off.
fn period(key: &str, raw: &str, off: &str) -> anyhow::Result<Option<Duration>> {
    match raw.trim() {
        raw if raw == off => Ok(None),
        raw => parse_duration(raw).map(Some).ok_or_else(|| {
            anyhow::anyhow!(
                "{key}: '{raw}' is not a duration of at least a second like 90s, 12h or 30d, \
                 or '{off}'"
            )
        }),
    }
}

/// A duration as operators write it, at least a second.
fn duration(key: &str, raw: &str) -> anyhow::Result<Duration> {
    parse_duration(raw.trim()).ok_or_else(|| {
        anyhow::anyhow!("{key}: '{raw}' is not a duration of at least a second like 10s or 10m")
    })
}

fn parse_duration(raw: &str) -> Option<Duration> {
    humantime::parse_duration(raw)
        .ok()
        .filter(|d| *d >= Duration::from_secs(1))
}

fn public_url(raw: &str) -> anyhow::Result<Option<url::Url>> {
    if raw.is_empty() {
        return Ok(None);
    }
    match url::Url::parse(raw) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.has_host() => Ok(Some(u)),
        _ => anyhow::bail!(
            "public_url: '{raw}' is not an http(s) URL like https://hooks.example.com"
        ),
    }
}

impl Settings {
    /// Whether people reach Herald over TLS, as `public_url` says (`None`: unknown).
    pub fn public_tls(&self) -> Option<bool> {
        self.public_url.as_ref().map(|u| u.scheme() == "https")
    }

    /// `path` (from the root) as reached from outside: in full when `public_url` is set.
    pub fn public_link(&self, path: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{}{path}", base.as_str().trim_end_matches('/')),
            None => path.to_owned(),
        }
    }
}

fn otlp_endpoint(raw: &str) -> anyhow::Result<Option<String>> {
    if raw.is_empty() {
        return Ok(None);
    }
    match url::Url::parse(raw) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(Some(raw.to_owned())),
        _ => anyhow::bail!(
            "otlp_endpoint: '{raw}' is not an http(s) URL like http://127.0.0.1:4318/v1/traces"
        ),
    }
}
