//! Herald's limits on a request head, answered as problem+json.
//!
//! The HTTP layer reads heads up to 2 MiB (past that it answers 431 itself, with no
//! body). Within that, Herald refuses a URI longer than [`MAX_URI_BYTES`] with 414, and
//! more than [`MAX_HEADERS`] header fields or [`MAX_HEADER_BYTES`] of them with 431, each
//! as problem+json naming the limit; a request line or a header count past what the HTTP
//! parser takes is refused the same way by the connection layer (`head_scan`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The longest request target (path and query).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header fields in one request.
pub const MAX_HEADERS: usize = 100;
/// The most bytes of header names and values in one request.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Why a head is refused, if it is.
pub fn check(uri_len: usize, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    if uri_len > MAX_URI_BYTES {
        return Err(ApiError::UriTooLong(format!(
            "the request URI is {uri_len} bytes; the limit is {MAX_URI_BYTES}"
        )));
    }
    if headers.len() > MAX_HEADERS {
        return Err(ApiError::HeadersTooLarge(format!(
            "the request has {} header fields; the limit is {MAX_HEADERS}",
            headers.len()
        )));
    }
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if bytes > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(format!(
            "the request's header fields take {bytes} bytes; the limit is {MAX_HEADER_BYTES}"
        )));
    }
    Ok(())
}

/// The middleware: refuses an oversized head before any route sees it.
pub async fn enforce(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    match check(uri_len, req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    #[test]
    fn heads_past_each_limit_are_refused_with_their_status() {
        let mut headers = HeaderMap::new();
        assert!(check(MAX_URI_BYTES, &headers).is_ok());
        let long = check(MAX_URI_BYTES + 1, &headers).expect_err("long URI");
        assert!(matches!(long, ApiError::UriTooLong(_)));
        for i in 0..=MAX_HEADERS {
            let name = HeaderName::try_from(format!("x-h{i}")).expect("name");
            headers.insert(name, HeaderValue::from_static("v"));
        }
        assert!(matches!(
            check(1, &headers),
            Err(ApiError::HeadersTooLarge(_))
        ));
        let mut big = HeaderMap::new();
        let value = HeaderValue::try_from("a".repeat(MAX_HEADER_BYTES)).expect("value");
        big.insert("x-big", value);
        assert!(matches!(check(1, &big), Err(ApiError::HeadersTooLarge(_))));
    }
}
