//! Wires store, dispatcher and API into a running server, and stops it cleanly.
//!
//! [`start`] returns as soon as the listener is bound, with the address and a shutdown
//! handle, so tests and `herald bench` drive a real server on port 0 the same way `herald
//! serve` runs one until a signal.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, auth, AppState};
use crate::config::Settings;
use crate::dispatch::{Dispatcher, HttpClient};
use crate::domain::ssrf::DestinationPolicy;
use crate::store::{self, Store};

const ADMIN_HASH_KEY: &str = "admin_token_sha256";

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests, lets in-flight deliveries finish within the grace period.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The process-wide Prometheus recorder (a recorder can be installed once per process).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The admin token's hash: from the configuration, from the store, or freshly generated and
/// printed once.
async fn admin_hash(settings: &Settings, store: &dyn Store) -> anyhow::Result<[u8; 32]> {
    if let Some(token) = &settings.admin_token {
        return Ok(auth::hash_token(token));
    }
    if let Some(hex) = store.meta_get(ADMIN_HASH_KEY).await? {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2).unwrap_or("00"), 16).unwrap_or(0);
        }
        return Ok(out);
    }
    let token = auth::new_token("hadm_");
    store
        .meta_set(ADMIN_HASH_KEY, &auth::hash_hex(&token))
        .await?;
    println!("Generated admin token (shown once, keep it): {token}");
    Ok(auth::hash_token(&token))
}

pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    let store = store::open(&settings.database_url)
        .await
        .with_context(|| format!("opening the database {}", settings.database_url))?;
    let admin_hash = admin_hash(&settings, store.as_ref()).await?;
    let policy = DestinationPolicy::new(settings.allow_destinations.clone());
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let dispatcher = if settings.role.dispatches() {
        let client = HttpClient::new(policy.clone())?;
        let d = Dispatcher::new(
            Arc::clone(&store),
            client,
            settings.dispatch_window,
            Duration::from_millis(settings.poll_interval_ms),
            Duration::from_secs(settings.lease_s),
        );
        let runner = d.clone();
        let rx = shutdown_rx.clone();
        let grace = Duration::from_secs(settings.shutdown_grace_s);
        tasks.push(tokio::spawn(async move { runner.run(rx, grace).await }));
        Some(d)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let state = AppState {
        store,
        dispatcher,
        settings: Arc::new(settings),
        admin_hash,
        policy: Arc::new(policy),
        metrics: metrics_handle(),
        apps: Default::default(),
        keys: Default::default(),
    };
    api::provision::apply(&state, &state.settings.static_endpoints.clone())
        .await
        .context("applying static_endpoints")?;
    let app = api::router(state);
    let mut rx = shutdown_rx;
    tasks.push(tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "HTTP server failed");
        }
    }));
    Ok(Running {
        addr,
        shutdown,
        tasks,
    })
}

/// Runs until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let running = start(settings).await?;
    println!("Herald listening on http://{}", running.addr);
    tracing::info!(addr = %running.addr, "listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
