//! Layered configuration: defaults < `herald.toml` < `HERALD_*` environment < flags.
//!
//! Everything is parsed and checked once at start, so a typo in a CIDR or an address stops
//! Herald with a message naming the key instead of surfacing at the first delivery.

mod settings;

use std::path::Path;

use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};

pub use settings::{Secret, Settings};

/// The configuration as written by the operator. Not `Debug`: it holds the database URL
/// with its password; [`Settings`] prints it redacted.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: String,
    /// The URL people and clients reach Herald at, e.g. `https://hooks.example.com` (behind
    /// a proxy, the proxy's); empty when unknown. When it is https, dashboard cookies are
    /// `Secure` whatever the proxy says, and portal links are given in full.
    pub public_url: String,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    pub database_url: String,
    /// Bearer token with full access; generated and printed once when absent.
    pub admin_token: Option<Secret>,
    /// CIDRs endpoints may reach although they are not publicly routable.
    #[serde(deserialize_with = "list_or_csv")]
    pub allow_destinations: Vec<String>,
    /// Refuse `http://` endpoint URLs.
    pub https_only: bool,
    /// Largest accepted event (bytes of JSON), and the request body limit of single publishes.
    pub max_event_bytes: usize,
    /// Largest accepted batch publish body.
    pub max_batch_bytes: usize,
    /// `human` or `json`.
    pub log_format: String,
    /// What this process runs: `api`, `dispatcher` or `all`.
    pub role: String,
    /// Seconds a delivery held by a dispatcher stays reserved without renewal; after a
    /// process dies, its work is taken over once this has passed.
    pub lease_s: u64,
    /// How often the dispatcher looks for due retries when nothing woke it.
    pub poll_interval_ms: u64,
    /// Deliveries held in memory at most (the window of due work); 20,000 when unset. Each
    /// endpoint holds at most its share of it (see `dispatch::share`).
    pub dispatch_window: Option<usize>,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace_s: u64,
    /// A request head must arrive whole within this of its first byte.
    pub http_header_timeout_ms: u64,
    /// A client connection with no request under way is closed after this.
    pub http_idle_timeout_s: u64,
    /// A request body must arrive whole within this of its head (else 408).
    pub http_body_timeout_s: u64,
    /// A client that takes nothing of an answer for this long is closed; one reading slowly
    /// keeps its connection however long the answer takes.
    pub http_send_timeout_s: u64,
    /// Client connections open at once at most (lowered to three quarters of the
    /// open-file limit); at the bound the longest-stalled connection is closed.
    pub max_connections: usize,
    /// Where to send spans over OTLP/HTTP (protobuf), e.g. `http://127.0.0.1:4318/v1/traces`;
    /// none are sent when empty.
    pub otlp_endpoint: String,
    /// How long events are kept, with their deliveries and attempts (`30d`, `12h`, `90s`);
    /// `forever` keeps them.
    pub retention_events: String,
    /// How long attempts keep their response bodies; `forever` keeps them.
    pub retention_attempt_bodies: String,
    /// An endpoint failing continuously this long is disabled; `never` keeps it enabled.
    pub disable_after: String,
    /// Consecutive failures that open an endpoint's circuit breaker.
    pub breaker_failures: u32,
    /// The first cool-down of an open breaker; each failed probe doubles it, up to
    /// `breaker_cooldown_max`.
    pub breaker_cooldown: String,
    pub breaker_cooldown_max: String,
    /// Requests per second each app key may make (0: no limit); the admin token is not
    /// limited.
    pub api_rate_limit_per_s: u32,
    /// Requests an app key may make at once before `api_rate_limit_per_s` paces it.
    pub api_rate_limit_burst: u32,
    /// Seals endpoint and ingest secrets at rest: 32 random bytes in base64
    /// (`openssl rand -base64 32`). Once set, the database cannot be opened without it.
    pub secret_key: Option<Secret>,
    /// Endpoints created, or brought up to date, at every start.
    pub static_endpoints: Vec<StaticEndpoint>,
}

/// An endpoint the configuration file declares (plugNmeet's server-level webhook URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaticEndpoint {
    /// The name of the app it belongs to; the app is created with `preset` if none has it.
    pub app: String,
    #[serde(default)]
    pub preset: Option<String>,
    /// The fields of `POST /v1/apps/{app}/endpoints`; `name` identifies the endpoint.
    #[serde(flatten)]
    pub endpoint: serde_json::Map<String, serde_json::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            database_url: "sqlite://herald.db".into(),
            admin_token: None,
            allow_destinations: Vec::new(),
            https_only: false,
            max_event_bytes: 256 * 1024,
            max_batch_bytes: 8 * 1024 * 1024,
            log_format: "human".into(),
            role: "all".into(),
            lease_s: 30,
            poll_interval_ms: 250,
            dispatch_window: None,
            shutdown_grace_s: 10,
            http_header_timeout_ms: 10_000,
            http_idle_timeout_s: 60,
            http_body_timeout_s: 30,
            http_send_timeout_s: 60,
            max_connections: 10_000,
            otlp_endpoint: String::new(),
            retention_events: "30d".into(),
            retention_attempt_bodies: "7d".into(),
            disable_after: "5d".into(),
            breaker_failures: 5,
            breaker_cooldown: "10s".into(),
            breaker_cooldown_max: "10m".into(),
            api_rate_limit_per_s: 1000,
            api_rate_limit_burst: 2000,
            secret_key: None,
            static_endpoints: Vec::new(),
        }
    }
}

fn list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Raw::Many(v) => v,
    })
}

impl Config {
    /// Loads defaults, then the file (when it exists), then `HERALD_*`, then `overrides`.
    pub fn load(file: &Path, overrides: Serialized<serde_json::Value>) -> anyhow::Result<Config> {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("HERALD_"))
            .merge(overrides);
        Ok(figment.extract()?)
    }
}

#[cfg(test)]
mod tests;
