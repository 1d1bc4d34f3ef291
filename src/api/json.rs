//! Request body and query extraction that fails as problem+json, naming the field.
//!
//! axum's stock extractors answer plain-text errors; these answer 400 for JSON that does not
//! parse, 413 past the body limit and 422 with the JSON path of a field of the wrong shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::FieldError;

/// A JSON body deserialised with field paths in its errors. The Content-Type is not
/// checked: `curl -d` sends a form type by default, and the body either parses or does not.
pub struct JsonBody<T>(pub T);

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest(format!("malformed JSON: {inner}"))
        } else {
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::Invalid(vec![FieldError::new(
                field,
                strip_position(&inner.to_string()),
            )])
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde_json appends "at line 1 column 42"; the field path says more.
fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        if bytes.is_empty() {
            return Err(ApiError::BadRequest("a JSON body is required".into()));
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// The request body as bytes, failing as problem+json: 413 past the body limit, 408 when it
/// did not arrive within the body timeout, 400 when the connection broke.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge("request body is larger than the configured limit".into())
            } else if let Some(late) = super::deadline::timed_out(&rej) {
                ApiError::RequestTimeout(late.to_string())
            } else {
                ApiError::BadRequest(rej.body_text())
            }
        })?;
        Ok(RawBody(bytes))
    }
}

/// The raw query string as ordered pairs (repeated and `label.*` keys are kept).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        let pairs = url::form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        Ok(QueryPairs(pairs))
    }
}

impl QueryPairs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `label.<name>=<value>` pairs, with their names checked.
    pub fn labels(&self) -> Result<Vec<(String, String)>, ApiError> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            if let Some(name) = k.strip_prefix("label.") {
                crate::domain::Labels::check_key(k, name)?;
                out.push((name.to_owned(), v.clone()));
            }
        }
        Ok(out)
    }

    /// Rejects parameters the route does not know, so a typo is not silently ignored.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        for (k, _) in &self.0 {
            if !known.contains(&k.as_str()) && !k.starts_with("label.") {
                return Err(ApiError::field(
                    k.clone(),
                    format!("unknown query parameter; known: {}", known.join(", ")),
                ));
            }
        }
        Ok(())
    }
}
