//! Secrets at rest: endpoint signing secrets and ingest secrets are stored encrypted when
//! `HERALD_SECRET_KEY` is set, so a copy of the database (a backup, a stolen disk, a
//! support dump) does not hand out every customer's signing key.
//!
//! XChaCha20-Poly1305 (authenticated, with a fresh random 192-bit nonce per value, so no
//! nonce bookkeeping is needed); a sealed value is stored as `sealed:v1:` followed by the
//! base64 of nonce and ciphertext. Values without the prefix are plaintext written before a
//! key was set, and are read as they are.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::StoreError;

const PREFIX: &str = "sealed:v1:";
const NONCE: usize = 24;

/// Seals and opens stored secrets with one key, or passes them through without one.
#[derive(Clone, Default)]
pub struct Sealer {
    cipher: Option<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.cipher.is_some() {
            "Sealer(key)"
        } else {
            "Sealer(none)"
        })
    }
}

impl Sealer {
    /// A sealer for a key given as the base64 of 32 bytes (`openssl rand -base64 32`).
    pub fn from_base64(key: &str) -> Result<Self, StoreError> {
        let bytes = STANDARD.decode(key.trim()).ok().filter(|b| b.len() == 32).ok_or_else(|| {
            StoreError::Unavailable(
                "HERALD_SECRET_KEY must be 32 random bytes in base64, e.g. from `openssl rand -base64 32`".into(),
            )
        })?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
            .map_err(|e| StoreError::Internal(format!("secret key: {e}")))?;
        Ok(Self {
            cipher: Some(cipher),
        })
    }

    /// The stored form of `plain`: sealed under the key, or `plain` itself without one.
    pub fn seal(&self, plain: &str) -> String {
        let Some(cipher) = &self.cipher else {
            return plain.to_owned();
        };
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        match cipher.encrypt(&nonce, plain.as_bytes()) {
            Ok(sealed) => {
                let mut raw = nonce.to_vec();
                raw.extend_from_slice(&sealed);
                format!("{PREFIX}{}", STANDARD.encode(raw))
            }
            // Encryption of a short value in memory cannot fail; keep nothing in clear.
            Err(_) => String::new(),
        }
    }

    /// The plaintext of a stored value.
    pub fn open(&self, stored: &str) -> Result<String, StoreError> {
        let Some(body) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let Some(cipher) = &self.cipher else {
            return Err(StoreError::Unavailable(
                "this database's secrets are encrypted: set HERALD_SECRET_KEY to the key they were encrypted with".into(),
            ));
        };
        let wrong = || {
            StoreError::Unavailable(
                "a stored secret does not open with HERALD_SECRET_KEY: it is not the key this database was encrypted with".into(),
            )
        };
        let raw = STANDARD.decode(body).map_err(|_| wrong())?;
        if raw.len() < NONCE {
            return Err(wrong());
        }
        let (nonce, sealed) = raw.split_at(NONCE);
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| wrong())?;
        String::from_utf8(plain).map_err(|_| wrong())
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const OTHER: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    #[test]
    fn sealed_values_open_with_their_key_only() {
        let s = Sealer::from_base64(KEY).expect("a key");
        let sealed = s.seal("whsec_abc");
        assert!(Sealer::is_sealed(&sealed) && !sealed.contains("whsec_abc"));
        assert_ne!(sealed, s.seal("whsec_abc"), "a fresh nonce per value");
        assert_eq!(s.open(&sealed).ok().as_deref(), Some("whsec_abc"));
        assert!(Sealer::from_base64(OTHER)
            .expect("a key")
            .open(&sealed)
            .is_err());
        assert!(Sealer::default().open(&sealed).is_err());
        assert_eq!(s.open("plain").ok().as_deref(), Some("plain"));
        assert_eq!(Sealer::default().seal("plain"), "plain");
        assert!(Sealer::from_base64("short").is_err());
    }
}
