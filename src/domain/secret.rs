//! Endpoint signing secrets.
//!
//! Each wire format keys its signature differently (a `whsec_` key, 32 raw bytes, an API
//! secret, an API token), so the secret is kept as the string the customer sees and each format
//! derives its key from it. `Debug` never prints it.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;

use super::ed25519;
use super::{FieldError, FormatKind};

/// How a `standard` endpoint signs: `v1` HMAC-SHA256 with a `whsec_` secret, or `v1a` ed25519
/// with a `whsk_` key whose public half receivers hold. Every other format signs its own way.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Signing {
    Hmac,
    Ed25519,
}

impl Signing {
    /// A fresh secret of this scheme for `format`; ed25519 is refused on any format but
    /// `standard`.
    pub fn generate(self, field: &str, format: FormatKind) -> Result<EndpointSecret, FieldError> {
        match (self, format) {
            (Self::Hmac, _) => Ok(EndpointSecret::generate(format)),
            (Self::Ed25519, FormatKind::Standard) => Ok(EndpointSecret::generate_ed25519()),
            (Self::Ed25519, _) => Err(FieldError::new(
                field,
                "ed25519 applies to standard endpoints only",
            )),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct EndpointSecret(String);

impl fmt::Debug for EndpointSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EndpointSecret(<redacted>)")
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut buf);
    buf
}

impl EndpointSecret {
    /// A fresh secret in the form the format's receivers expect.
    pub fn generate(format: FormatKind) -> Self {
        match format {
            FormatKind::Standard => Self(format!("whsec_{}", B64.encode(random_bytes(32)))),
            FormatKind::Attendee => Self(B64.encode(random_bytes(32))),
            FormatKind::Livekit
            | FormatKind::Plugnmeet
            | FormatKind::Sendbird
            | FormatKind::Digitalsamba => {
                let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                let raw: String = random_bytes(40)
                    .into_iter()
                    .map(|b| alphabet[b as usize % alphabet.len()] as char)
                    .collect();
                Self(raw)
            }
        }
    }

    /// Checks a caller-supplied secret against what the format can sign with.
    pub fn parse(field: &str, format: FormatKind, raw: &str) -> Result<Self, FieldError> {
        match format {
            FormatKind::Standard if raw.starts_with(ed25519::SECRET_PREFIX) => {
                ed25519::signing_key(raw).map_err(|e| FieldError::new(field, e))?;
            }
            FormatKind::Standard => {
                let key = raw.strip_prefix("whsec_").ok_or_else(|| {
                    FieldError::new(
                        field,
                        "must start with 'whsec_' (HMAC) or 'whsk_' (ed25519)",
                    )
                })?;
                let bytes = B64
                    .decode(key)
                    .map_err(|_| FieldError::new(field, "must be 'whsec_' followed by base64"))?;
                if !(24..=64).contains(&bytes.len()) {
                    return Err(FieldError::new(field, "must encode 24 to 64 bytes"));
                }
            }
            FormatKind::Attendee => {
                let bytes = B64
                    .decode(raw)
                    .map_err(|_| FieldError::new(field, "must be base64"))?;
                if bytes.len() < 16 {
                    return Err(FieldError::new(field, "must encode at least 16 bytes"));
                }
            }
            FormatKind::Digitalsamba => {
                if raw.is_empty() || raw.len() > 256 || !raw.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(FieldError::new(
                        field,
                        "must be 1 to 256 printable ASCII characters",
                    ));
                }
            }
            _ => {
                if raw.len() < 16 || raw.len() > 256 || raw.chars().any(char::is_control) {
                    return Err(FieldError::new(
                        field,
                        "must be 16 to 256 printable characters",
                    ));
                }
            }
        }
        Ok(Self(raw.to_owned()))
    }

    /// A fresh `whsk_` key: a `standard` endpoint that signs with ed25519 (`v1a`).
    pub fn generate_ed25519() -> Self {
        Self(ed25519::generate())
    }

    /// The signature scheme this secret signs with.
    pub fn signing(&self) -> Signing {
        match self.0.starts_with(ed25519::SECRET_PREFIX) {
            true => Signing::Ed25519,
            false => Signing::Hmac,
        }
    }

    /// The `whpk_` key receivers verify with, for an ed25519 secret; `None` for the others,
    /// where the secret itself verifies.
    pub fn public_key(&self) -> Option<String> {
        ed25519::public_key(&self.0)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

/// Serialises a secret as its public key only (`null` for secrets that have none).
pub fn public_half<S: serde::Serializer>(secret: &EndpointSecret, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&secret.public_key(), s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_parse_back() {
        for format in FormatKind::ALL {
            let s = EndpointSecret::generate(format);
            assert!(
                EndpointSecret::parse("secret", format, s.expose()).is_ok(),
                "{format:?}"
            );
        }
    }

    #[test]
    fn standard_takes_ed25519_keys_and_shows_their_public_half() {
        let s = EndpointSecret::generate_ed25519();
        assert_eq!(s.signing(), Signing::Ed25519);
        let parsed = EndpointSecret::parse("secret", FormatKind::Standard, s.expose());
        assert_eq!(parsed.ok(), Some(s.clone()));
        assert!(s.public_key().is_some_and(|k| k.starts_with("whpk_")));
        let hmac = EndpointSecret::generate(FormatKind::Standard);
        assert_eq!((hmac.signing(), hmac.public_key()), (Signing::Hmac, None));
        assert!(Signing::Ed25519
            .generate("signing", FormatKind::Sendbird)
            .is_err());
        assert!(EndpointSecret::parse("s", FormatKind::Standard, "whsk_AAAA").is_err());
    }

    #[test]
    fn debug_redacts() {
        let s = EndpointSecret::generate(FormatKind::Standard);
        assert!(!format!("{s:?}").contains(s.expose()));
    }

    #[test]
    fn standard_secret_needs_prefix_and_length() {
        assert!(EndpointSecret::parse("s", FormatKind::Standard, "abc").is_err());
        assert!(EndpointSecret::parse("s", FormatKind::Standard, "whsec_AAAA").is_err());
    }
}
