//! Standard Webhooks' asymmetric signatures (`v1a`): ed25519 over `{id}.{timestamp}.{body}`.
//!
//! With an HMAC secret anyone who can verify can also forge; with ed25519 the receiver holds
//! only the public key, so a leaked receiver configuration signs nothing. Keys are written the
//! way Standard Webhooks names them: `whsk_` + base64 of the 64-byte keypair (the seed, then the
//! public key: the layout of Go's and libsodium's private keys; a bare 32-byte seed is accepted
//! too) and `whpk_` + base64 of the 32-byte public key.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;

pub const SECRET_PREFIX: &str = "whsk_";
pub const PUBLIC_PREFIX: &str = "whpk_";
/// The signature's version tag in `webhook-signature`.
pub const VERSION: &str = "v1a";

/// A fresh `whsk_` key.
pub fn generate() -> String {
    let mut seed = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    encode_secret(&SigningKey::from_bytes(&seed))
}

fn encode_secret(key: &SigningKey) -> String {
    format!("{SECRET_PREFIX}{}", B64.encode(key.to_keypair_bytes()))
}

/// The signing key of a `whsk_` secret, or why it is not one.
pub fn signing_key(secret: &str) -> Result<SigningKey, String> {
    let raw = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| format!("must start with '{SECRET_PREFIX}'"))?;
    let bytes = B64
        .decode(raw)
        .map_err(|_| format!("must be '{SECRET_PREFIX}' followed by base64"))?;
    match bytes.len() {
        32 => Ok(SigningKey::from_bytes(&seed_of(&bytes))),
        64 => {
            let key = SigningKey::from_bytes(&seed_of(&bytes[..32]));
            match key.verifying_key().as_bytes()[..] == bytes[32..] {
                true => Ok(key),
                false => Err("the public half does not belong to the seed".into()),
            }
        }
        _ => Err("must encode a 32-byte seed or a 64-byte keypair".into()),
    }
}

fn seed_of(bytes: &[u8]) -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&bytes[..32]);
    seed
}

/// The verifying key of a `whpk_` public key or of a `whsk_` secret.
pub fn verifying_key(key: &str) -> Result<VerifyingKey, String> {
    if key.starts_with(SECRET_PREFIX) {
        return signing_key(key).map(|k| k.verifying_key());
    }
    let raw = key
        .strip_prefix(PUBLIC_PREFIX)
        .ok_or_else(|| format!("must start with '{PUBLIC_PREFIX}' or '{SECRET_PREFIX}'"))?;
    let bytes: [u8; 32] = B64
        .decode(raw)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("must be '{PUBLIC_PREFIX}' followed by base64 of 32 bytes"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "is not an ed25519 public key".into())
}

/// The `whpk_` public key of a `whsk_` secret; `None` for any other secret.
pub fn public_key(secret: &str) -> Option<String> {
    let key = signing_key(secret).ok()?;
    Some(format!(
        "{PUBLIC_PREFIX}{}",
        B64.encode(key.verifying_key().as_bytes())
    ))
}

fn message(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(id.len() + body.len() + 24);
    msg.extend_from_slice(id.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(timestamp.to_string().as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    msg
}

/// `v1a,<base64 ed25519 signature of "{id}.{timestamp}.{body}">`.
pub fn sign(key: &SigningKey, id: &str, timestamp: i64, body: &[u8]) -> String {
    let sig = key.sign(&message(id, timestamp, body));
    format!("{VERSION},{}", B64.encode(sig.to_bytes()))
}

/// Whether one `webhook-signature` entry is a valid `v1a` signature by `key`.
pub fn verifies(key: &VerifyingKey, id: &str, timestamp: i64, body: &[u8], entry: &str) -> bool {
    let Some(raw) = entry.strip_prefix("v1a,") else {
        return false;
    };
    let Some(sig) = B64
        .decode(raw)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
    else {
        return false;
    };
    key.verify(&message(id, timestamp, body), &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_with_the_public_key() {
        let secret = generate();
        let key = signing_key(&secret).expect("a generated key parses");
        let public = public_key(&secret).expect("a whsk_ key has a public key");
        let check = verifying_key(&public).expect("the public key parses");
        let entry = sign(&key, "msg_1", 1_700_000_000, b"{}");
        assert!(verifies(&check, "msg_1", 1_700_000_000, b"{}", &entry));
        assert!(!verifies(&check, "msg_1", 1_700_000_000, b"{ }", &entry));
        assert!(!verifies(&check, "msg_2", 1_700_000_000, b"{}", &entry));
        assert!(!verifies(&check, "msg_1", 1_700_000_001, b"{}", &entry));
    }

    #[test]
    fn a_bare_seed_and_its_keypair_are_the_same_key() {
        let seed = [7u8; 32];
        let short = format!("{SECRET_PREFIX}{}", B64.encode(seed));
        let long = encode_secret(&SigningKey::from_bytes(&seed));
        assert_eq!(public_key(&short), public_key(&long));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(signing_key("whsec_AAAA").is_err());
        assert!(signing_key("whsk_!!").is_err());
        assert!(signing_key(&format!("whsk_{}", B64.encode([1u8; 31]))).is_err());
        let mut pair = SigningKey::from_bytes(&[3u8; 32]).to_keypair_bytes();
        pair[40] ^= 1;
        assert!(signing_key(&format!("whsk_{}", B64.encode(pair))).is_err());
        assert!(verifying_key(&format!("whpk_{}", B64.encode([1u8; 31]))).is_err());
        assert!(verifying_key("whsec_AAAA").is_err());
    }
}
