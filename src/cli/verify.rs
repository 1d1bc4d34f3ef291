//! `herald verify`: checks a captured webhook against a secret, in any wire format.
//!
//! Receivers that reject Herald's deliveries usually differ on one byte or one header; this
//! says which check failed (signature, body hash, timestamp, expired token) using the same
//! code Herald signs with.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::domain::FormatKind;
use crate::formats::{format_for, Credentials, Incoming};

#[derive(Args)]
pub struct VerifyArgs {
    /// standard, digitalsamba, attendee, livekit, plugnmeet or sendbird.
    #[arg(long)]
    pub format: String,
    /// The endpoint's secret (API secret, API token or bearer token, by format); for a
    /// `standard` endpoint signing with ed25519, its `whpk_` public key.
    #[arg(long, env = "HERALD_VERIFY_SECRET")]
    pub secret: String,
    /// livekit, plugnmeet: the API key the token must be issued by.
    #[arg(long)]
    pub key: Option<String>,
    /// A file of `Name: value` lines (an HTTP header block).
    #[arg(long)]
    pub headers: PathBuf,
    /// The exact body; `-` reads standard input.
    #[arg(long, default_value = "-")]
    pub body: String,
    /// Check as of this unix time instead of now (for old captures).
    #[arg(long)]
    pub at: Option<i64>,
}

/// Parses `Name: value` lines, skipping a status or request line and blank lines.
pub fn parse_headers(raw: &str) -> Vec<(String, String)> {
    raw.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| !name.contains(' ') && !name.is_empty())
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// Verifies; `Ok(true)` when genuine. Prints the verdict and the reason.
pub fn run(args: VerifyArgs) -> anyhow::Result<bool> {
    let kind = FormatKind::parse(&args.format)
        .with_context(|| format!("unknown format '{}'", args.format))?;
    let format =
        format_for(kind).with_context(|| format!("format '{}' is not available", args.format))?;
    let raw_headers = std::fs::read_to_string(&args.headers)
        .with_context(|| format!("reading {}", args.headers.display()))?;
    let headers = parse_headers(&raw_headers);
    let body = if args.body == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        buf
    } else {
        std::fs::read(&args.body).with_context(|| format!("reading {}", args.body))?
    };
    let now = match args.at {
        Some(t) => chrono::DateTime::from_timestamp(t, 0).context("--at is out of range")?,
        None => chrono::Utc::now(),
    };
    let creds = Credentials {
        secret: &args.secret,
        api_key: args.key.as_deref(),
    };
    match format.verify(
        &Incoming {
            headers: &headers,
            body: &body,
        },
        &creds,
        now,
    ) {
        Ok(()) => {
            println!("valid: genuine {} webhook", kind.as_str());
            Ok(true)
        }
        Err(e) => {
            println!("invalid: {e}");
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_blocks_parse_like_curl_dumps() {
        let raw = "POST /hook HTTP/1.1\r\nwebhook-id: dlv_1\r\nAuthorization: Bearer a:b\r\n\r\n";
        let h = parse_headers(raw);
        assert_eq!(
            h,
            vec![
                ("webhook-id".into(), "dlv_1".into()),
                ("Authorization".into(), "Bearer a:b".into())
            ]
        );
    }
}
