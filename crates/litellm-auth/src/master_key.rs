//! The proxy's master key and LiteLLM's `hash_token`.
//!
//! Keys are only ever stored and logged as `sha256(key)` hex, as LiteLLM does
//! (`proxy/utils.py` `hash_token`). Verification compares SHA-256 digests with `subtle`, so the
//! time taken does not depend on how much of the presented key matches.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// LiteLLM's `hash_token`: the lowercase SHA-256 hex digest of `key`.
pub fn hash_token(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The proxy's master key: every permission. `Debug` never shows the key.
#[derive(Clone)]
pub struct MasterKey {
    key: SecretString,
    digest: [u8; 32],
    hash: String,
}

impl MasterKey {
    /// Wraps the configured master key.
    pub fn new(key: SecretString) -> Self {
        let digest: [u8; 32] = Sha256::digest(key.expose_secret().as_bytes()).into();
        MasterKey {
            key,
            digest,
            hash: hex::encode(digest),
        }
    }

    /// Whether `presented` is the master key. An empty key never matches. Constant-time in
    /// the key contents: both sides are hashed and the digests compared with `subtle`.
    pub fn verify(&self, presented: &str) -> bool {
        if presented.is_empty() || self.key.expose_secret().is_empty() {
            return false;
        }
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.ct_eq(&self.digest).into()
    }

    /// `hash_token` of the master key, the form spend logs record it in.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("key", &"[REDACTED]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> MasterKey {
        MasterKey::new(SecretString::from(s.to_string()))
    }

    #[test]
    fn hash_token_matches_sha256_hex() {
        // Computed with `printf 'sk-1234' | sha256sum`.
        assert_eq!(
            hash_token("sk-1234"),
            "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
        );
        assert_eq!(
            hash_token(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn verify_accepts_only_the_exact_key() {
        let m = key("sk-master-secret");
        assert!(m.verify("sk-master-secret"));
        assert!(!m.verify("sk-master-secreT"));
        assert!(!m.verify("sk-other"));
        assert!(!m.verify(""));
        assert!(!m.verify("sk-master"), "a prefix of the key is not the key");
        assert!(
            !m.verify("sk-master-secret "),
            "nor is the key plus a suffix"
        );
    }

    #[test]
    fn an_empty_master_key_matches_nothing() {
        let m = key("");
        assert!(!m.verify(""));
        assert!(!m.verify("sk-anything"));
    }

    #[test]
    fn hash_is_hash_token_of_the_key() {
        let m = key("sk-1234");
        assert_eq!(m.hash(), hash_token("sk-1234"));
        assert_eq!(m.clone().hash(), m.hash());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", key("sk-very-secret-value"));
        assert!(!shown.contains("sk-very-secret-value"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}
