//! The LiveKit webhook token, shared by `livekit` and `plugnmeet`.
//!
//! A LiveKit server authenticates each webhook with an HS256 JWT in `Authorization` whose
//! `sha256` claim is the standard padded base64 of SHA-256 of the exact body: the signature
//! covers the body without the body being in the token.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::VerifyError;

/// How long a webhook token is valid, as LiveKit sets it.
pub const VALID_FOR_S: i64 = 300;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    pub nbf: i64,
    #[serde(default)]
    pub iat: i64,
    pub exp: i64,
    pub sha256: String,
}

/// Standard padded base64 of SHA-256 of `body`.
pub fn body_hash(body: &[u8]) -> String {
    B64.encode(Sha256::digest(body))
}

/// Signs a token for `body`, issued by `api_key`, valid from `now` for five minutes.
/// A token for `body`; an error (the signing library refused the key) fails the attempt as
/// `render`, never sends an empty token.
pub fn sign(
    api_key: &str,
    secret: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<String, super::RenderError> {
    let t = now.timestamp();
    let claims = Claims {
        iss: api_key.to_owned(),
        sub: String::new(),
        nbf: t,
        iat: t,
        exp: t + VALID_FOR_S,
        sha256: body_hash(body),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| super::RenderError::Secret(e.to_string()))
}

/// Checks the token's signature, validity window at `now`, issuer (when `api_key` is
/// given) and body hash.
pub fn verify(
    token: &str,
    api_key: Option<&str>,
    secret: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Claims, VerifyError> {
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    let mut validation = Validation::new(Algorithm::HS256);
    // Time is checked below against `now`, so tests and `herald verify` can pin the clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => VerifyError::BadSignature,
        _ => VerifyError::BadHeader("Authorization", format!("not a valid token: {e}")),
    })?;
    let claims = data.claims;
    let t = now.timestamp();
    const LEEWAY: i64 = 10;
    if claims.exp + LEEWAY < t {
        return Err(VerifyError::Expired);
    }
    if claims.nbf - LEEWAY > t {
        return Err(VerifyError::Timestamp(LEEWAY));
    }
    if let Some(key) = api_key {
        if claims.iss != key {
            return Err(VerifyError::BadHeader(
                "Authorization",
                format!("issued by '{}', not '{key}'", claims.iss),
            ));
        }
    }
    if claims.sha256 != body_hash(body) {
        return Err(VerifyError::BodyChanged);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::test_vectors;

    #[test]
    fn shared_vector_decodes_and_is_expired_now() {
        for v in test_vectors::for_format("livekit") {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let body = s("body");
            assert_eq!(body_hash(body.as_bytes()), s("sha256_claim"));
            let iat = v["example_claims"]["iat"].as_i64().unwrap_or_default();
            let then = DateTime::from_timestamp(iat + 60, 0).unwrap_or_default();
            let claims = verify(
                &s("example_jwt"),
                Some(&s("api_key")),
                &s("secret"),
                body.as_bytes(),
                then,
            );
            assert_eq!(claims.map(|c| c.sha256).ok(), Some(s("sha256_claim")));
            let expired = verify(
                &s("example_jwt"),
                Some(&s("api_key")),
                &s("secret"),
                body.as_bytes(),
                Utc::now(),
            );
            assert_eq!(expired.err(), Some(VerifyError::Expired));
            let wrong = verify(
                &s("example_jwt"),
                None,
                "another-secret-entirely",
                body.as_bytes(),
                then,
            );
            assert_eq!(wrong.err(), Some(VerifyError::BadSignature));
            let tampered = verify(&s("example_jwt"), None, &s("secret"), b"{}", then);
            assert_eq!(tampered.err(), Some(VerifyError::BodyChanged));
        }
    }

    #[test]
    fn signed_tokens_verify() {
        let now = Utc::now();
        let token = sign("APIkey", "s3cret-s3cret-s3cret", b"{\"a\":1}", now).expect("signs");
        assert!(verify(
            &token,
            Some("APIkey"),
            "s3cret-s3cret-s3cret",
            b"{\"a\":1}",
            now
        )
        .is_ok());
    }
}
