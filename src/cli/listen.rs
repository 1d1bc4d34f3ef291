//! `herald listen`: a local receiver that prints each delivery and checks its signature.
//!
//! Pointing an endpoint at it is the quickest way to see exactly what Herald sends, and the
//! verification uses the same format code as `herald verify`, so a receiver author can
//! compare their own check against it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use clap::Args;

use crate::domain::FormatKind;
use crate::formats::{format_for, Credentials, Incoming};

#[derive(Args)]
pub struct ListenArgs {
    /// Port to listen on (loopback only).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// Wire format to verify: standard, digitalsamba, attendee, livekit, plugnmeet, sendbird.
    #[arg(long, default_value = "standard")]
    pub format: String,
    /// The endpoint's secret (a `whpk_` public key for ed25519); without it signatures are
    /// shown but not checked.
    #[arg(long, env = "HERALD_LISTEN_SECRET")]
    pub secret: Option<String>,
    /// `livekit`, `plugnmeet`: the API key the token must be issued by.
    #[arg(long)]
    pub key: Option<String>,
    /// Status code to answer with (to watch retries, answer 500).
    #[arg(long, default_value_t = 200)]
    pub status: u16,
}

struct Listener {
    format: FormatKind,
    secret: Option<String>,
    key: Option<String>,
    status: StatusCode,
}

async fn receive(
    State(l): State<Arc<Listener>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut out = format!("--- {method} {uri}\n");
    for (k, v) in &pairs {
        out.push_str(&format!("{k}: {v}\n"));
    }
    out.push('\n');
    out.push_str(&String::from_utf8_lossy(&body));
    out.push('\n');
    let verdict = match (&l.secret, format_for(l.format)) {
        (None, _) => "signature: not checked (no --secret)".to_owned(),
        (Some(_), None) => format!(
            "signature: not checked ({} is not available in this build)",
            l.format.as_str()
        ),
        (Some(secret), Some(format)) => {
            let creds = Credentials {
                secret,
                api_key: l.key.as_deref(),
            };
            match format.verify(
                &Incoming {
                    headers: &pairs,
                    body: &body,
                },
                &creds,
                chrono::Utc::now(),
            ) {
                Ok(()) => format!("signature: valid ({})", l.format.as_str()),
                Err(e) => format!("signature: INVALID: {e}"),
            }
        }
    };
    println!("{out}{verdict}\n");
    l.status
}

pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let format = FormatKind::parse(&args.format)
        .ok_or_else(|| anyhow::anyhow!("unknown format '{}'", args.format))?;
    let status = StatusCode::from_u16(args.status)
        .map_err(|_| anyhow::anyhow!("--status {} is not an HTTP status", args.status))?;
    let state = Arc::new(Listener {
        format,
        secret: args.secret,
        key: args.key,
        status,
    });
    let app = axum::Router::new().fallback(receive).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!(
        "herald listen: receiving on http://{} ({} format)",
        listener.local_addr()?,
        format.as_str()
    );
    axum::serve(listener, app).await?;
    Ok(())
}
