//! Logs, and the optional export of spans over OTLP.
//!
//! Every API request and every delivery attempt runs in a span (see `api::trace` and
//! `dispatch::attempt`); the log lines carry them, and with `otlp_endpoint` set they are also
//! sent to a tracing backend over OTLP/HTTP (protobuf), so an operator can follow one event
//! from its publish to each attempt without reading logs.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Keeps the span export running; [`Telemetry::shutdown`] sends what is still queued.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// Starts logging to stderr (JSON lines when `json`), and span export when `otlp_endpoint`
/// names a collector's traces URL (`http://host:4318/v1/traces`).
pub fn init(json: bool, otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    let provider = otlp_endpoint.map(provider).transpose()?;
    // HERALD_LOG picks what is logged; spans go to the exporter whatever it says.
    let filter = EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };
    let otel = provider.as_ref().map(|p| {
        // Herald's own spans only (they are at debug level, so that without an exporter they
        // cost nothing unless HERALD_LOG asks for them); the exporter's HTTP client, the
        // database driver and the HTTP stacks are left out.
        let ours = Targets::new().with_target("herald", LevelFilter::DEBUG);
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("herald"))
            .with_filter(ours)
    });
    let _ = tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(otel)
        .try_init();
    Ok(Telemetry { provider })
}

fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    // The batch processor exports from a thread of its own, with a blocking client: an export
    // never holds up a request or an attempt.
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| anyhow::anyhow!("otlp_endpoint: cannot export to '{endpoint}': {e}"))?;
    Ok(SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("herald").build())
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .build())
}

impl Telemetry {
    /// Sends the spans still queued and stops the export (at most a few seconds).
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Err(e)) => eprintln!("herald: span export did not stop cleanly: {e}"),
            Err(e) => eprintln!("herald: span export did not stop cleanly: {e}"),
            Ok(Ok(())) => {}
        }
    }
}
