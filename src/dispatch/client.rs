//! The one outbound HTTP client, with the SSRF guard in its resolver.
//!
//! The guard sits in DNS resolution, so the address checked is the address connected to: a
//! hostname that resolves to a private address is refused even if it resolved to a public one
//! when the endpoint was created. Literal IPs skip resolution and are checked before sending.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::ssrf::DestinationPolicy;
use crate::domain::ErrorKind;

/// Bytes of a receiver's answer kept in the attempt log.
pub const RESPONSE_CAP: usize = 4096;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Blocked(String);

#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {0}: {1}")]
struct DnsFailure(String, String);

struct GuardedResolver {
    policy: Arc<DestinationPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> {
                    Box::new(DnsFailure(host.clone(), e.to_string()))
                })?
                .collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if allowed.is_empty() {
                let ip = found.first().map(|a| a.ip());
                let msg = match ip {
                    Some(ip) => format!("{host}: {}", DestinationPolicy::refusal(ip)),
                    None => format!("{host} resolved to no address"),
                };
                return Err(Box::new(Blocked(msg)) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// What one request came to.
#[derive(Debug)]
pub struct Response {
    pub status: Option<u16>,
    pub body: String,
    pub error: Option<(ErrorKind, String)>,
    pub retry_after: Option<Duration>,
    pub duration: Duration,
}

impl Response {
    /// An attempt that failed before any request was sent.
    pub fn failed(kind: ErrorKind, message: String) -> Self {
        Self {
            status: None,
            body: String::new(),
            error: Some((kind, message)),
            retry_after: None,
            duration: Duration::ZERO,
        }
    }
}

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: Arc<DestinationPolicy>,
}

impl HttpClient {
    pub fn new(policy: DestinationPolicy) -> anyhow::Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: Arc::clone(&policy),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Herald/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    /// POSTs `body` to `url`; never fails, every problem becomes an [`ErrorKind`].
    pub async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Response {
        let started = Instant::now();
        let fail = |kind, msg: String| Response {
            status: None,
            body: String::new(),
            error: Some((kind, msg)),
            retry_after: None,
            duration: started.elapsed(),
        };
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) => u,
            Err(e) => return fail(ErrorKind::InvalidResponse, format!("bad URL: {e}")),
        };
        if let Some(ip) = literal_ip(&parsed) {
            if !self.policy.permits(ip) {
                return fail(ErrorKind::Blocked, DestinationPolicy::refusal(ip));
            }
        }
        let mut req = self.client.post(parsed).timeout(timeout).body(body);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let (kind, msg) = classify(&e);
                return fail(kind, msg);
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let (buf, error) = read_capped(&mut resp).await;
        Response {
            status: Some(status),
            body: String::from_utf8_lossy(&buf).into_owned(),
            error,
            retry_after,
            duration: started.elapsed(),
        }
    }
}

/// Reads the first [`RESPONSE_CAP`] bytes of the answer; a body that breaks off is an
/// invalid response (or a timeout), kept beside what arrived.
async fn read_capped(resp: &mut reqwest::Response) -> (Vec<u8>, Option<(ErrorKind, String)>) {
    let mut buf = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = RESPONSE_CAP.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if buf.len() >= RESPONSE_CAP {
                    return (buf, None);
                }
            }
            Ok(None) => return (buf, None),
            Err(e) => {
                let (kind, msg) = classify(&e);
                let kind = if kind == ErrorKind::Timeout {
                    kind
                } else {
                    ErrorKind::InvalidResponse
                };
                return (buf, Some((kind, msg)));
            }
        }
    }
}

fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Maps a client error to the kind an operator looks for, by the types in its source chain
/// (never by the words of a message), keeping the innermost message.
fn classify(e: &reqwest::Error) -> (ErrorKind, String) {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut innermost = e.to_string();
    let mut tls = false;
    while let Some(err) = source {
        if let Some(b) = err.downcast_ref::<Blocked>() {
            return (ErrorKind::Blocked, b.to_string());
        }
        if let Some(d) = err.downcast_ref::<DnsFailure>() {
            return (ErrorKind::Dns, d.to_string());
        }
        tls |= err.is::<rustls::Error>();
        innermost = err.to_string();
        // An `io::Error` hides the error it wraps from `source()`: look inside it.
        source = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => err.source(),
        };
    }
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if tls {
        ErrorKind::Tls
    } else if e.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::InvalidResponse
    };
    (kind, innermost)
}

/// `Retry-After` as delta-seconds or an HTTP date; capped at one day.
pub fn parse_retry_after(raw: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let raw = raw.trim();
    let secs = match raw.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
            (at.timestamp() - now.timestamp()).max(0) as u64
        }
    };
    Some(Duration::from_secs(secs.min(86_400)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc2822("Tue, 01 Dec 2026 12:00:00 GMT")
            .expect("a date")
            .to_utc();
        let cases = [
            ("7", Some(7)),
            (" 30 ", Some(30)),
            ("999999", Some(86_400)),
            ("Tue, 01 Dec 2026 12:02:00 GMT", Some(120)),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(0)),
            ("soon", None),
            ("-5", None),
            ("", None),
        ];
        for (raw, secs) in cases {
            assert_eq!(
                parse_retry_after(raw, now),
                secs.map(Duration::from_secs),
                "{raw:?}"
            );
        }
    }
}
