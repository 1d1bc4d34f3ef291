//! Layered configuration: defaults < `herald.toml` < `HERALD_*` environment < flags.
//!
//! Everything is parsed and checked once at start, so a typo in a CIDR or an address stops
//! Herald with a message naming the key instead of surfacing at the first delivery.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

/// The configuration as written by the operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: String,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    pub database_url: String,
    /// Bearer token with full access; generated and printed once when absent.
    pub admin_token: Option<String>,
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
    /// Client connections open at once at most (lowered to three quarters of the
    /// open-file limit); at the bound the longest-stalled connection is closed.
    pub max_connections: usize,
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
            max_connections: 10_000,
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
    pub database_url: String,
    pub admin_token: Option<String>,
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
    pub static_endpoints: Vec<StaticEndpoint>,
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
        if let Some(token) = &self.admin_token {
            if token.len() < 16 {
                anyhow::bail!("admin_token: must be at least 16 characters");
            }
        }
        Ok(Settings {
            listen,
            database_url: self.database_url.clone(),
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
            http: crate::api::serve::Limits {
                header_timeout: Duration::from_millis(
                    self.http_header_timeout_ms.clamp(100, 600_000),
                ),
                idle_timeout: Duration::from_secs(self.http_idle_timeout_s.clamp(1, 3600)),
                body_timeout: Duration::from_secs(self.http_body_timeout_s.clamp(1, 3600)),
                max_connections: self.max_connections.max(1),
            },
            static_endpoints: self.static_endpoints,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment's test jail fixes the closure's error type"
    )]
    fn env_overrides_defaults_and_csv_lists_parse() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "herald.toml",
                "listen = \"127.0.0.1:9000\"\nmax_event_bytes = 4096\n",
            )?;
            jail.set_env("HERALD_ALLOW_DESTINATIONS", "127.0.0.0/8, 10.0.0.0/8");
            jail.set_env("HERALD_DATABASE_URL", "sqlite://x.db");
            let cfg = Config::load(
                Path::new("herald.toml"),
                Serialized::defaults(serde_json::json!({})),
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(cfg.listen, "127.0.0.1:9000");
            assert_eq!(cfg.max_event_bytes, 4096);
            assert_eq!(cfg.database_url, "sqlite://x.db");
            let settings = cfg.validate().map_err(|e| e.to_string())?;
            assert_eq!(settings.allow_destinations.len(), 2);
            Ok(())
        });
    }

    #[test]
    fn shipped_example_is_valid_and_documents_the_defaults() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/herald.example.toml"));
        let raw = std::fs::read_to_string(path).unwrap_or_default();
        let from_file: Config = toml_value(&raw);
        let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
        assert_eq!(
            serde_json::to_value(from_file).unwrap_or_default(),
            defaults
        );
        for key in defaults.as_object().into_iter().flatten().map(|(k, _)| k) {
            assert!(
                raw.contains(&format!("{key} =")),
                "herald.example.toml does not document {key}"
            );
        }
    }

    fn toml_value(raw: &str) -> Config {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(raw))
            .extract()
            .unwrap_or_else(|e| panic!("herald.example.toml: {e}"))
    }

    #[test]
    fn bad_cidr_is_named() {
        let cfg = Config {
            allow_destinations: vec!["nope".into()],
            ..Config::default()
        };
        let err = cfg
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("allow_destinations"), "{err}");
    }
}
